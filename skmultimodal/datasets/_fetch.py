"""Downloading of data-set files from their canonical public address.

Only data sets published as single files at a stable address (with a
checksum) are downloaded; the others are read from files the user puts in
the data home, and their loaders say where to obtain them.
"""

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_TIMEOUT = 60.0  # seconds without data before a download gives up
_CHUNK_SIZE = 1 << 16
_HEX = {"md5": 32, "sha256": 64}


class DownloadError(OSError):
    """A file could not be downloaded (network failure, HTTP error or timeout).

    Checksum mismatches are reported with a plain :class:`OSError` instead,
    so that callers can tell "offline" from "corrupted download".
    """


def _check_digest(value, algorithm):
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(
        f"[0-9a-fA-F]{{{_HEX[algorithm]}}}", value
    ):
        raise ValueError(
            f"{algorithm} must be a string of {_HEX[algorithm]} hexadecimal "
            f"digits, got {value!r}"
        )
    return value.lower()


def _reason(exc):
    """Short description of a network error, with the HTTP status if any."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    return getattr(exc, "reason", None) or exc


def fetch_file(url, dest, *, sha256=None, md5=None, timeout=DEFAULT_TIMEOUT):
    """Download ``url`` to ``dest``, checking its checksum.

    The file is written to a temporary file next to ``dest`` and renamed to
    ``dest`` only once complete and verified, so an interrupted or corrupted
    download never leaves a partial ``dest`` behind. The folder of ``dest`` is
    created if needed; the folders created are removed again if the download
    fails, so a failed download leaves nothing behind.

    Parameters
    ----------
    url : str
        The address, ``http://`` or ``https://``.
    dest : str or path-like
        Where to put the file. An existing file there is replaced.
    sha256 : str, default=None
        Expected SHA-256 of the file (hexadecimal); not checked if None.
    md5 : str, default=None
        Expected MD5 of the file (hexadecimal); not checked if None.
    timeout : float, default=60.0
        Seconds to wait for the connection and for each block of data.

    Returns
    -------
    dest : pathlib.Path
        The path of the downloaded file.

    Raises
    ------
    DownloadError
        (a subclass of :class:`OSError`) If the server cannot be reached,
        answers with an HTTP error, or stops sending data for ``timeout``
        seconds. The message names the URL and where to put the file by hand.
    OSError
        If the file's checksum differs from ``sha256`` or ``md5``; the
        downloaded file is deleted.
    ValueError
        If ``url`` is not an http(s) address or a checksum is malformed.
    """
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// address, got {url!r}")
    expected = {
        name: digest
        for name, digest in (
            ("sha256", _check_digest(sha256, "sha256")),
            ("md5", _check_digest(md5, "md5")),
        )
        if digest is not None
    }
    dest = Path(dest)
    # Folders that this call creates, deepest first: removed if the download fails.
    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    hashers = {name: hashlib.new(name) for name in expected}
    partial = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    while chunk := response.read(_CHUNK_SIZE):
                        out.write(chunk)
                        for hasher in hashers.values():
                            hasher.update(chunk)
            except (
                urllib.error.URLError,
                http.client.HTTPException,
                ConnectionError,
                TimeoutError,
            ) as exc:
                reason = _reason(exc)
                raise DownloadError(
                    f"Could not download {url} to '{dest}': {reason}. Check the "
                    f"network connection, or download the file by hand and put it "
                    f"at '{dest}'."
                ) from exc
        for name, digest in expected.items():
            actual = hashers[name].hexdigest()
            if actual != digest:
                raise OSError(
                    f"Checksum mismatch for {url}: expected {name} {digest}, got "
                    f"{actual}. The downloaded file was deleted; the file at that "
                    f"address may have changed or the download was corrupted. Try "
                    f"again, or download it by hand and put it at '{dest}'."
                )
        os.replace(partial, dest)
    except BaseException:
        if partial is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
        for folder in created:
            with contextlib.suppress(OSError):  # not created, or no longer empty
                folder.rmdir()
        raise
    return dest


def _download_missing(path, remote, dataset_name, *, timeout=DEFAULT_TIMEOUT):
    """Download ``remote["url"]`` to ``path`` for a loader whose file is missing.

    ``remote`` is the loader's module-level dict with keys ``"url"`` and
    optionally ``"md5"`` / ``"sha256"`` (tests patch it to point at a local
    server). A network failure becomes a :class:`FileNotFoundError` naming the
    file, the URL and the folder to put the file in, so that callers that fall
    back when the data are absent keep working offline.
    """
    path = Path(path)
    try:
        return fetch_file(
            remote["url"],
            path,
            md5=remote.get("md5"),
            sha256=remote.get("sha256"),
            timeout=timeout,
        )
    except DownloadError as exc:
        reason = _reason(exc.__cause__) if exc.__cause__ is not None else exc
        raise FileNotFoundError(
            f"The {dataset_name} file '{path.name}' is not in '{path.parent}' and "
            f"could not be downloaded from {remote['url']} ({reason}). Download "
            f"it by hand and put it in '{path.parent}', or point the data_home "
            f"argument or the SKMULTIMODAL_DATA environment variable to a folder "
            f"holding {path.parent.name}/{path.name}."
        ) from exc
