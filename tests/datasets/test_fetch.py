"""Tests of fetch_file and of load_breastmnist's download, against local servers."""
import hashlib
import io

import numpy as np
import pytest

from skmultimodal.datasets import _breastmnist, load_breastmnist
from skmultimodal.datasets._fetch import DownloadError, fetch_file

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_fetch_file_downloads_and_checks_both_checksums(http_server, tmp_path):
    url, root, requests = http_server
    (root / "blob.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "new" / "sub" / "blob.bin"
    out = fetch_file(
        f"{url}/blob.bin",
        dest,
        md5=hashlib.md5(PAYLOAD).hexdigest(),
        sha256=hashlib.sha256(PAYLOAD).hexdigest().upper(),  # case-insensitive
    )
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert requests == ["/blob.bin"]
    assert _leftovers(dest.parent) == []


def test_fetch_file_without_checksum(http_server, tmp_path):
    url, root, _ = http_server
    (root / "a.txt").write_bytes(b"hello")
    assert fetch_file(f"{url}/a.txt", tmp_path / "a.txt").read_bytes() == b"hello"


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_checksum_mismatch_deletes_the_download(http_server, tmp_path, algorithm):
    url, root, _ = http_server
    (root / "blob.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "blob.bin"
    wrong = hashlib.new(algorithm, b"something else").hexdigest()
    with pytest.raises(OSError, match="Checksum mismatch") as info:
        fetch_file(f"{url}/blob.bin", dest, **{algorithm: wrong})
    assert not isinstance(info.value, DownloadError)
    message = str(info.value)
    assert wrong in message and hashlib.new(algorithm, PAYLOAD).hexdigest() in message
    assert not dest.exists()
    assert _leftovers(tmp_path) == []


def test_failed_download_keeps_an_existing_file(http_server, tmp_path):
    url, root, _ = http_server
    (root / "blob.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    with pytest.raises(OSError, match="Checksum mismatch"):
        fetch_file(f"{url}/blob.bin", dest, md5="0" * 32)
    assert dest.read_bytes() == b"old"


def test_unreachable_server(closed_port, tmp_path):
    url = f"http://127.0.0.1:{closed_port}/blob.bin"
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError) as info:
        fetch_file(url, dest, timeout=5)
    assert isinstance(info.value, OSError)
    assert url in str(info.value) and str(dest) in str(info.value)
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_http_error(http_server, tmp_path):
    url, _, _ = http_server
    with pytest.raises(DownloadError, match="404"):
        fetch_file(f"{url}/absent.bin", tmp_path / "absent.bin")
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


@pytest.mark.parametrize("failure", ["closed port", "404", "checksum", "timeout"])
def test_failed_download_leaves_no_folder(failure, http_server, closed_port,
                                          silent_server, tmp_path):
    url, root, _ = http_server
    (root / "blob.bin").write_bytes(PAYLOAD)
    address, kwargs = {
        "closed port": (f"http://127.0.0.1:{closed_port}/blob.bin", {}),
        "404": (f"{url}/absent.bin", {}),
        "checksum": (f"{url}/blob.bin", {"md5": "0" * 32}),
        "timeout": (f"http://127.0.0.1:{silent_server}/blob.bin", {"timeout": 0.3}),
    }[failure]
    home = tmp_path / "home"
    with pytest.raises(OSError):
        fetch_file(address, home / "new" / "sub" / "blob.bin", **kwargs)
    assert not home.exists()
    # A folder that was there before is kept, and left as it was.
    home.mkdir()
    with pytest.raises(OSError):
        fetch_file(address, home / "blob.bin", **kwargs)
    assert list(home.iterdir()) == []


def test_timeout(silent_server, tmp_path):
    with pytest.raises(DownloadError, match="timed out"):
        fetch_file(f"http://127.0.0.1:{silent_server}/x", tmp_path / "x", timeout=0.3)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"url": "ftp://example.org/x"}, "http:// or https://"),
        ({"url": "/local/file"}, "http:// or https://"),
        ({"md5": "abc"}, "md5 must be a string of 32"),
        ({"sha256": "g" * 64}, "sha256 must be a string of 64"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, match):
    kwargs = {"url": "http://127.0.0.1:1/x", **kwargs}
    with pytest.raises(ValueError, match=match):
        fetch_file(kwargs.pop("url"), tmp_path / "x", **kwargs)
    assert list(tmp_path.iterdir()) == []


def _small_breastmnist():
    """A tiny npz in the BreastMNIST layout, as bytes."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 7), ("val", 2), ("test", 3)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue(), arrays


@pytest.fixture
def served_breastmnist(http_server, monkeypatch):
    url, root, requests = http_server
    content, arrays = _small_breastmnist()
    (root / "breastmnist.npz").write_bytes(content)
    monkeypatch.setitem(_breastmnist.REMOTE, "url", f"{url}/breastmnist.npz")
    monkeypatch.setitem(_breastmnist.REMOTE, "md5", hashlib.md5(content).hexdigest())
    return arrays, requests


def test_load_breastmnist_downloads_when_missing(served_breastmnist, tmp_path):
    arrays, requests = served_breastmnist
    home = tmp_path / "home"  # does not exist yet
    bunch = load_breastmnist(data_home=home)
    assert (home / "breastmnist" / "breastmnist.npz").is_file()
    assert bunch.images.shape == (12, 28, 28)
    assert np.array_equal(bunch.images[:7], arrays["train_images"])
    assert list(bunch.split) == ["train"] * 7 + ["val"] * 2 + ["test"] * 3
    assert requests == ["/breastmnist.npz"]
    # second call reads the local file
    test = load_breastmnist(data_home=home, split="test")
    assert np.array_equal(test.images, arrays["test_images"])
    assert requests == ["/breastmnist.npz"]


def test_load_breastmnist_checksum_mismatch(served_breastmnist, tmp_path, monkeypatch):
    monkeypatch.setitem(_breastmnist.REMOTE, "md5", "f" * 32)
    with pytest.raises(OSError, match="Checksum mismatch"):
        load_breastmnist(data_home=tmp_path)
    assert not (tmp_path / "breastmnist").exists()


def test_load_breastmnist_offline_says_what_and_where(tmp_path):
    # the autouse fixture points the URL at a closed port
    url = _breastmnist.REMOTE["url"]
    with pytest.raises(FileNotFoundError) as info:
        load_breastmnist(data_home=tmp_path)
    message = str(info.value)
    assert "'breastmnist.npz'" in message and url in message
    assert str(tmp_path / "breastmnist") in message
    assert isinstance(info.value.__cause__, DownloadError)
    assert not (tmp_path / "breastmnist" / "breastmnist.npz").exists()


def test_load_breastmnist_offline_creates_no_folder(tmp_path, monkeypatch):
    # The default data home, ~/skmultimodal_data, with HOME in tmp_path; the
    # autouse fixture points the URL at a closed port.
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SKMULTIMODAL_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="could not be downloaded"):
        load_breastmnist()
    assert list(home.iterdir()) == []
    # With an existing data home: no breastmnist/ left in it.
    with pytest.raises(FileNotFoundError):
        load_breastmnist(data_home=home)
    assert list(home.iterdir()) == []


def test_load_breastmnist_no_download(served_breastmnist, tmp_path):
    _, requests = served_breastmnist
    with pytest.raises(FileNotFoundError) as info:
        load_breastmnist(data_home=tmp_path, download_if_missing=False)
    assert _breastmnist.REMOTE["url"] in str(info.value)
    assert "download_if_missing=True" in str(info.value)
    assert requests == []
    with pytest.raises(ValueError, match="download_if_missing must be a bool"):
        load_breastmnist(data_home=tmp_path, download_if_missing="no")


def test_default_address_is_the_official_one():
    # the autouse fixture patches the dict; the module source keeps the real one
    import inspect

    source = inspect.getsource(_breastmnist)
    assert "https://zenodo.org/records/10519652/files/breastmnist.npz" in source
    assert "750601b1f35ba3300ea97c75c52ff8f6" in source
