"""On-disk cache of image embeddings computed by frozen encoders.

One ``.npy`` file per image under ``<folder>/skmultimodal_embeddings/<encoder
key>/``. The encoder key covers everything that changes an embedding other
than the image: the encoder's class, architecture and weights (a hash of its
state dict), the output asked for (pooled embedding or spatial feature map),
the preprocessing (image size, channels, normalisation), the device type and
the torch version. The image key covers the image content: for a file, a hash
(SHA-256) of its bytes; for an array, a hash of its bytes, dtype and shape. Entries are
per image, so calls sharing images (the folds of a cross-validation, the
candidates of a grid search) reuse each other's work. Files are written to a
temporary name and moved into place with ``os.replace``, so processes sharing
the folder never read a partial file; files and folders get the permissions
of the process's umask, so other users can read them. A folder that cannot be
written is used for the entries it holds, the rest being computed without
being stored (one warning per call); an entry that cannot be read or has the
wrong shape or dtype is computed again.
"""

import hashlib
import json
import os
import secrets
import stat
import time
import warnings
import weakref
from pathlib import Path

import joblib
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..data import ImageTransform
from ..data._io import is_path
from ..utils._torch import autocast, check_precision, eval_mode

#: Sub-folder of the ``memory`` folder holding the embeddings.
CACHE_FOLDER = "skmultimodal_embeddings"
#: Bumped whenever the layout or the meaning of the stored arrays changes.
_FORMAT = 1
#: Outputs an encoder can be asked for.
OUTPUTS = ("pooled", "features")

__all__ = ["CACHE_FOLDER", "CacheNotWritableWarning", "EmbeddingStore", "check_memory",
           "encode_source", "encoder_fingerprint", "image_key"]


class CacheNotWritableWarning(UserWarning):
    """The cache folder could not be written: embeddings computed, not stored."""


def _hash(*parts):
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


class EmbeddingStore:
    """Folder of per-image arrays, safe to share between processes.

    Parameters
    ----------
    location : str or path
        The ``memory`` folder (``~`` is expanded); arrays go to its
        ``skmultimodal_embeddings`` sub-folder.
    """

    def __init__(self, location):
        self.location = Path(location).expanduser()

    @property
    def root(self):
        return self.location / CACHE_FOLDER

    def _path(self, namespace, key):
        return self.root / namespace / f"{key}.npy"

    def load(self, namespace, key):
        """Stored array, or None when absent or unreadable."""
        path = self._path(namespace, key)
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if not isinstance(array, np.ndarray):  # an .npz archive under our name
            getattr(array, "close", lambda: None)()
            return None
        return array

    def _write(self, path, write):
        """Write a file atomically: ``write(f)`` to a temporary file created
        with mode 0o666 less the umask (as ``open`` would), then ``os.replace``.

        The folders created on the way follow the umask too.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        while True:
            tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(tmp, flags, 0o666)
                break
            except FileExistsError:  # pragma: no cover - 48 random bits
                continue
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def save(self, namespace, key, array):
        """Store ``array`` atomically (temporary file, then ``os.replace``).

        Raises
        ------
        OSError
            When the folder cannot be written (read-only, disk full...).
        """
        array = np.ascontiguousarray(array)
        self._write(self._path(namespace, key),
                    lambda f: np.save(f, array, allow_pickle=False))

    def describe(self, namespace, info):
        """Write a human-readable ``key.json`` describing a namespace (once)."""
        path = self.root / namespace / "key.json"
        if path.exists():
            return
        text = json.dumps(info, indent=1, sort_keys=True, default=str).encode()
        self._write(path, lambda f: f.write(text))

    def __repr__(self):
        return f"EmbeddingStore({str(self.location)!r})"


def check_memory(memory):
    """Validate a ``memory`` parameter; return an :class:`EmbeddingStore` or None.

    Parameters
    ----------
    memory : None, str, os.PathLike or joblib.Memory
        None disables caching; a folder (str or path) or a
        :class:`joblib.Memory` (its ``location``) is the cache folder.

    Raises
    ------
    TypeError
        For any other type.
    """
    if memory is None:
        return None
    if isinstance(memory, (str, os.PathLike)):
        if not str(memory):
            raise ValueError("memory='' is not a folder; use None to disable caching.")
        return EmbeddingStore(memory)
    if isinstance(memory, joblib.Memory):
        return None if memory.location is None else EmbeddingStore(memory.location)
    raise TypeError(
        f"memory must be None, a folder (str or pathlib.Path) or a joblib.Memory, "
        f"got {type(memory).__name__}: {memory!r}."
    )


def _tensor_bytes(tensor):
    tensor = tensor.detach().cpu().contiguous().reshape(-1)
    return tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""


#: module -> (state of its tensors, fingerprint): hashing a ResNet's weights
#: takes a noticeable fraction of a second, so it is done once per module and
#: redone only when a tensor was replaced or changed in place.
_FINGERPRINTS = weakref.WeakKeyDictionary()


def _tensor_state(state_dict):
    return tuple((name, t.data_ptr(), t._version, t.dtype, tuple(t.shape), str(t.device))
                 for name, t in state_dict.items())


def encoder_fingerprint(module):
    """Hash of a module's class, architecture (``repr``) and state dict."""
    state_dict = module.state_dict()
    architecture = repr(module)
    state = (architecture, _tensor_state(state_dict))
    known = _FINGERPRINTS.get(module)
    if known is not None and known[0] == state:
        return known[1]
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{type(module).__module__}.{type(module).__qualname__}\0".encode())
    h.update(architecture.encode())
    for name, tensor in state_dict.items():
        h.update(f"\0{name}:{tensor.dtype}:{tuple(tensor.shape)}\0".encode())
        h.update(_tensor_bytes(tensor))
    _FINGERPRINTS[module] = (state, h.hexdigest())
    return h.hexdigest()


#: (device, inode, size, mtime, ctime) of a file -> its content key, so that a
#: process does not hash the same unchanged file again (a grid search reads
#: every image in every fit). The ctime cannot be set by users: any rewrite,
#: even one restoring the size and mtime (``cp -p``, ``rsync -t``, ``tar -x``),
#: changes it. Files changed less than _RACY_NS before they were hashed are not
#: remembered, since a rewrite within the file system's timestamp granularity
#: could keep even the ctime. Not used on Windows, where ``st_ctime`` is the
#: creation time.
_MEMO = os.name == "posix"
_CONTENT_KEYS = {}
_MAX_CONTENT_KEYS = 1 << 17
_RACY_NS = 2_000_000_000
_CHUNK = 1 << 20


def _signature(st):
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _hash_file(f):
    """Content key of an open binary file: SHA-256 of its bytes, read in chunks.

    SHA-256 rather than blake2b: OpenSSL runs it on the SHA extensions of
    current x86 and ARM processors, about 2.5 times faster than blake2b there
    (``benchmarks/bench_cache_key.py``).
    """
    h = hashlib.sha256(b"file\0")
    while chunk := f.read(_CHUNK):
        h.update(chunk)
    return h.hexdigest()[:32]


def _file_key(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise FileNotFoundError(f"Image file not found: '{path}'") from None
    before = os.fstat(fd)
    if not stat.S_ISREG(before.st_mode):
        os.close(fd)
        raise FileNotFoundError(f"Image file not found: '{path}' (not a file)")
    with os.fdopen(fd, "rb") as f:
        signature = _signature(before)
        key = _CONTENT_KEYS.get(signature)
        if key is not None:
            return key
        key = _hash_file(f)
        if (_MEMO and _signature(os.fstat(fd)) == signature
                and time.time_ns() - before.st_ctime_ns > _RACY_NS):
            if len(_CONTENT_KEYS) >= _MAX_CONTENT_KEYS:
                _CONTENT_KEYS.clear()
            _CONTENT_KEYS[signature] = key
    return key


def image_key(cell):
    """Key of one image cell: a hash of a file's bytes, or of an array's bytes,
    dtype and shape.

    Two files with the same bytes share a key wherever they are; a file
    rewritten with other bytes gets a new key whatever its size and
    modification time.

    Raises
    ------
    FileNotFoundError
        If a path names no file.
    """
    if is_path(cell):
        return _file_key(cell)
    arr = np.ascontiguousarray(np.asarray(cell))
    return _hash("array", arr.dtype.str, arr.shape, arr.tobytes())


def _transform_info(transform):
    if not isinstance(transform, ImageTransform) or transform.augment is not None:
        raise ValueError(
            "Embeddings can only be cached for images prepared without augmentation."
        )
    return {"image_size": transform.image_size, "channels": transform.channels,
            "normalize": transform.stats, "intensity_range": transform.intensity_range}


class _Rows(Dataset):
    def __init__(self, source, indices):
        self.source, self.indices = source, indices

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.source[self.indices[i]]


def _encode(backbone, tensors, output, precision, channels_last):
    """Run the backbone on a list of (C, H, W) tensors, grouping equal shapes."""
    out = [None] * len(tensors)
    groups = {}
    for i, t in enumerate(tensors):
        groups.setdefault(tuple(t.shape), []).append(i)
    device = next(backbone.parameters()).device
    mixed = autocast(precision, device.type)
    for idx in groups.values():
        x = torch.stack([tensors[i] for i in idx]).to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with mixed:
            y = backbone(x) if output == "pooled" else backbone.forward_features(x)
        y = y.float().cpu().numpy()
        for j, i in enumerate(idx):
            out[i] = y[j]
    return out


def encode_source(backbone, source, *, output="pooled", store=None, batch_size=64,
                  num_workers=0, precision=None, channels_last=False, verbose=0):
    """Encoder outputs of every row of an image source, through the cache.

    Parameters
    ----------
    backbone : torch.nn.Module
        A backbone of :func:`skmultimodal.nn.get_backbone`, on the device to
        compute on; it runs in evaluation mode (its mode is restored after).
    source : skmultimodal.data.ImageSource
        The rows; its transform must not augment. Missing rows give the
        encoder output of the source's placeholder image.
    output : {"pooled", "features"}, default="pooled"
        Pooled embedding ``(n, F)`` or spatial feature map ``(n, F, h, w)``.
    store : EmbeddingStore or None, default=None
        Cache; None computes everything. Entries that cannot be read, or are
        not outputs of this encoder (dtype, dimensions, shape), are computed
        again and rewritten.
    batch_size, num_workers : int
        Batches of images computed together, DataLoader workers reading them.
    precision : {None, "bf16", "fp16"}, default=None
        Run the backbone under :class:`torch.autocast` with this dtype (as the
        network it belongs to does); the outputs are stored as float32.
    channels_last : bool, default=False
        Feed the images in the ``torch.channels_last`` memory format.
    verbose : int, default=0
        Progress bar over the batches computed when > 0.

    Returns
    -------
    embeddings : ndarray of float32
        One row per row of ``source`` (shape ``(0,)`` when it has none).
    n_computed : int
        Images run through the backbone (the cache misses).

    Warns
    -----
    CacheNotWritableWarning
        Once, when the cache folder cannot be written: the entries it holds
        are used and the others are computed without being stored.
    """
    if output not in OUTPUTS:
        raise ValueError(f"output={output!r} must be one of {list(OUTPUTS)}.")
    check_precision(precision)
    n = len(source)
    present = [source.present(i) for i in range(n)]
    placeholder = _hash("placeholder", source.placeholder_shape)
    # rows sharing a key are computed once: the placeholder of missing rows,
    # and with a store the repeats of an image
    keys = [i if present[i] else placeholder for i in range(n)]
    writer = None
    if store is not None:
        info = dict(format=_FORMAT, output=output, encoder=encoder_fingerprint(backbone),
                    preprocessing=_transform_info(source.transform),
                    device=next(backbone.parameters()).device.type,
                    precision=precision, channels_last=bool(channels_last),
                    torch=torch.__version__)
        writer = _Writer(store, _hash(json.dumps(info, sort_keys=True, default=str)))
        writer.describe(info)
        keys = [image_key(source.cells[i]) if present[i] else placeholder
                for i in range(n)]
    valid = _EntryCheck(backbone, output)
    results = [None] * n
    todo = {}  # key -> rows needing it (a repeated image is computed once)
    hits = {}  # key -> rows given a stored array (a repeated image is read once)
    for i in range(n):
        key = keys[i]
        if key in todo:
            todo[key].append(i)
            continue
        if key not in hits:
            cached = None if writer is None else writer.load(key)
            if cached is None or not valid(cached):
                todo[key] = [i]  # absent, unreadable or not an output of this encoder
                continue
            hits[key] = []
        else:
            cached = results[hits[key][0]]
        hits[key].append(i)
        results[i] = cached

    def compute(groups):
        first_rows = [rows[0] for rows in groups.values()]
        if not first_rows:
            return 0
        device = next(backbone.parameters()).device
        loader = DataLoader(_Rows(source, first_rows), batch_size=int(batch_size),
                            num_workers=int(num_workers), collate_fn=list,
                            pin_memory=device.type == "cuda",
                            generator=torch.Generator())
        if verbose:
            from tqdm.auto import tqdm

            loader = tqdm(loader, desc="embedding", unit="batch")
        done = 0
        # batch norms use their running statistics, left untouched
        with eval_mode(backbone), torch.inference_mode():
            for batch in loader:
                for arr in _encode(backbone, batch, output, precision, channels_last):
                    key = keys[first_rows[done]]
                    if writer is not None:
                        writer.save(key, arr)
                    for r in groups[key]:
                        results[r] = arr
                    done += 1
        return len(first_rows)

    n_computed = compute(todo)
    if hits and len({r.shape for r in results}) > 1:
        # Correct entries of one encoder and preprocessing all have the shape
        # the images give now: an entry of another shape (a file of another
        # version or program, a damaged one) is computed again. Which one is at
        # fault is not known, so every entry read is recomputed (and rewritten).
        n_computed += compute(hits)
    if writer is not None:
        writer.warn_if_failed()
    if n == 0:
        return np.zeros((0,), dtype=np.float32), 0
    shapes = {r.shape for r in results}
    if len(shapes) > 1:
        raise ValueError(
            f"The encoder outputs of the images have different shapes {sorted(shapes)}; "
            "set image_size so that every image has the same size."
        )
    return np.stack(results).astype(np.float32, copy=False), n_computed


class _EntryCheck:
    """Whether a stored array can be an output of ``backbone``: float32, one
    dimension (pooled) or three (feature map), ``num_features`` first."""

    def __init__(self, backbone, output):
        self.ndim = 1 if output == "pooled" else 3
        self.num_features = getattr(backbone, "num_features", None)

    def __call__(self, array):
        return (array.dtype == np.float32 and array.ndim == self.ndim
                and all(d > 0 for d in array.shape)
                and (self.num_features is None or array.shape[0] == self.num_features))


class _Writer:
    """Reads and writes of one encoder's folder during one call.

    The first write that fails (a read-only folder, another user's folder, a
    full disk) stops the writes of the call with one warning: the entries
    present are still read, the others are computed and kept in memory.
    """

    def __init__(self, store, namespace):
        self.store, self.namespace = store, namespace
        self.failed = None

    def load(self, key):
        return self.store.load(self.namespace, key)

    def _try(self, write, *args):
        if self.failed is not None:
            return
        try:
            write(*args)
        except OSError as exc:
            self.failed = exc

    def warn_if_failed(self):
        """One warning naming the folder, when a write failed (called by
        :func:`encode_source`, so the warning points at its caller)."""
        if self.failed is None:
            return
        exc = self.failed
        reason = exc.strerror or str(exc) or type(exc).__name__
        warnings.warn(
            f"The embedding cache {self.store.root / self.namespace} cannot be written "
            f"({reason}): the embeddings it holds are used, the others are computed "
            "without being stored.", CacheNotWritableWarning, stacklevel=3,
        )

    def describe(self, info):
        self._try(self.store.describe, self.namespace, info)

    def save(self, key, array):
        self._try(self.store.save, self.namespace, key, array)
