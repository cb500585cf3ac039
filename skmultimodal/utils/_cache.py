"""On-disk cache of image embeddings computed by frozen encoders.

One ``.npy`` file per image under ``<folder>/skmultimodal_embeddings/<encoder
key>/``. The encoder key covers everything that changes an embedding other
than the image: the encoder's class, architecture and weights (a hash of its
state dict), the output asked for (pooled embedding or spatial feature map),
the preprocessing (image size, channels, normalisation), the device type and
the torch version. The image key covers the image content: for a file, its
resolved path, size and modification time (ns); for an array, a hash of its
bytes, dtype and shape. Entries are per image, so calls sharing images (the
folds of a cross-validation, the candidates of a grid search) reuse each
other's work. Files are written to a temporary name and moved into place with
``os.replace``, so processes sharing the folder never read a partial file.
"""

import hashlib
import json
import os
import tempfile
import weakref
from pathlib import Path

import joblib
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..data import ImageTransform
from ..data._io import is_path
from ._torch import autocast, check_precision

#: Sub-folder of the ``memory`` folder holding the embeddings.
CACHE_FOLDER = "skmultimodal_embeddings"
#: Bumped whenever the layout or the meaning of the stored arrays changes.
_FORMAT = 1
#: Outputs an encoder can be asked for.
OUTPUTS = ("pooled", "features")

__all__ = ["CACHE_FOLDER", "EmbeddingStore", "check_memory", "encode_source",
           "encoder_fingerprint", "image_key"]


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
        The ``memory`` folder; arrays go to its ``skmultimodal_embeddings``
        sub-folder.
    """

    def __init__(self, location):
        self.location = Path(location)

    @property
    def root(self):
        return self.location / CACHE_FOLDER

    def _path(self, namespace, key):
        return self.root / namespace / f"{key}.npy"

    def load(self, namespace, key):
        """Stored array, or None when absent or unreadable."""
        path = self._path(namespace, key)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None

    def save(self, namespace, key, array):
        """Store ``array`` atomically (temporary file, then ``os.replace``)."""
        path = self._path(namespace, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def describe(self, namespace, info):
        """Write a human-readable ``key.json`` describing a namespace (once)."""
        path = self.root / namespace / "key.json"
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=1, sort_keys=True, default=str)
        os.replace(tmp, path)

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


def image_key(cell):
    """Key of one image cell: path, size and mtime of a file, or an array's bytes.

    Raises
    ------
    FileNotFoundError
        If a path names no file.
    """
    if is_path(cell):
        path = os.path.realpath(cell)
        st = os.stat(path)
        return _hash("file", path, st.st_size, st.st_mtime_ns)
    arr = np.ascontiguousarray(np.asarray(cell))
    return _hash("array", arr.dtype.str, arr.shape, arr.tobytes())


def _transform_info(transform):
    if not isinstance(transform, ImageTransform) or transform.augment is not None:
        raise ValueError(
            "Embeddings can only be cached for images prepared without augmentation."
        )
    return {"image_size": transform.image_size, "channels": transform.channels,
            "normalize": transform.stats}


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
        Cache; None computes everything.
    batch_size, num_workers : int
        Batches of images computed together, DataLoader workers reading them.
    precision : {None, "bf16", "fp16"}, default=None
        Run the backbone under :func:`torch.autocast` with this dtype (as the
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
    """
    if output not in OUTPUTS:
        raise ValueError(f"output={output!r} must be one of {list(OUTPUTS)}.")
    check_precision(precision)
    n = len(source)
    present = [source.present(i) for i in range(n)]
    namespace = None
    placeholder = _hash("placeholder", source.placeholder_shape)
    # rows sharing a key are computed once: the placeholder of missing rows,
    # and with a store the repeats of an image
    keys = [i if present[i] else placeholder for i in range(n)]
    if store is not None:
        info = dict(format=_FORMAT, output=output, encoder=encoder_fingerprint(backbone),
                    preprocessing=_transform_info(source.transform),
                    device=next(backbone.parameters()).device.type,
                    precision=precision, channels_last=bool(channels_last),
                    torch=torch.__version__)
        namespace = _hash(json.dumps(info, sort_keys=True, default=str))
        store.describe(namespace, info)
        keys = [image_key(source.cells[i]) if present[i] else placeholder
                for i in range(n)]
    results = [None] * n
    todo = {}  # key -> rows needing it (a repeated image is computed once)
    hits = {}  # key -> stored array (a repeated image is read once)
    for i in range(n):
        key = keys[i]
        if key in todo:
            todo[key].append(i)
            continue
        if key not in hits:
            cached = None if store is None else store.load(namespace, key)
            if cached is None:
                todo[key] = [i]
                continue
            hits[key] = cached
        results[i] = hits[key]
    first_rows = [rows[0] for rows in todo.values()]
    if first_rows:
        device = next(backbone.parameters()).device
        loader = DataLoader(_Rows(source, first_rows), batch_size=batch_size,
                            num_workers=num_workers, collate_fn=list,
                            pin_memory=device.type == "cuda",
                            generator=torch.Generator())
        if verbose:
            from tqdm.auto import tqdm

            loader = tqdm(loader, desc="embedding", unit="batch")
        done = 0
        was_training = backbone.training
        backbone.eval()  # batch norms use their running statistics, untouched
        try:
            with torch.inference_mode():
                for batch in loader:
                    for arr in _encode(backbone, batch, output, precision, channels_last):
                        i = first_rows[done]
                        key = keys[i]
                        if store is not None:
                            store.save(namespace, key, arr)
                        for r in todo[key]:
                            results[r] = arr
                        done += 1
        finally:
            backbone.train(was_training)
    if n == 0:
        return np.zeros((0,), dtype=np.float32), 0
    shapes = {r.shape for r in results}
    if len(shapes) > 1:
        raise ValueError(
            f"The encoder outputs of the images have different shapes {sorted(shapes)}; "
            "set image_size so that every image has the same size."
        )
    return np.stack(results).astype(np.float32, copy=False), len(first_rows)
