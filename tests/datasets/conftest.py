"""Fixtures of the dataset tests: local HTTP servers, and no internet ever.

Every download address of the loaders is pointed at a closed port on
127.0.0.1 for every test, so that a test that reaches the download path by
mistake fails fast instead of touching the internet. Tests of the download
path start their own server on 127.0.0.1.
"""
import functools
import http.server
import socket
import threading

import pytest

from skmultimodal.datasets import _breastmnist


def _closed_port():
    """A port of 127.0.0.1 on which nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port():
    return _closed_port()


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    monkeypatch.setitem(
        _breastmnist.REMOTE,
        "url",
        f"http://127.0.0.1:{_closed_port()}/unreachable/breastmnist.npz",
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """Serve ``tmp_path / "www"`` on 127.0.0.1; yields (base URL, folder, requests)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def silent_server():
    """A port of 127.0.0.1 that accepts connections but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
