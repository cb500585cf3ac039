"""Torch datasets over table rows: images are read lazily, one item at a time.

In-memory image arrays with a deterministic transform are the exception: they
are prepared once, into one tensor, when the first batch is asked for, and
batches are then sliced out of it (see :meth:`ImageSource.batch`).
"""

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info

from ._bags import InstanceBag, pad_bags
from ._io import describe_cell, is_missing, read_image
from ._roi import reads_file
from ._transforms import ImageTransform, IntensityError


class ImageCache:
    """Images of one fit kept in memory after their first read.

    Maps a row position to the image decoded, converted to the right number
    of channels and resized (before augmentation and normalisation). The
    cache is never pickled nor copied: a copy starts empty. DataLoader worker
    processes therefore each fill their own copy.
    """

    def __init__(self):
        self._items = {}

    def get(self, key):
        """The cached image of row ``key``, or None."""
        return self._items.get(key)

    def __setitem__(self, key, image):
        self._items[key] = image

    def __len__(self):
        return len(self._items)

    def clear(self):
        """Drop every cached image."""
        self._items.clear()

    def __getstate__(self):
        return {"_items": {}}


#: Largest tensor (in bytes) an :class:`ImageSource` prepares at once from
#: in-memory arrays (1 GiB: e.g. 1700 RGB images at 224 pixels in float32).
STACK_MAX_BYTES = 2**30


class ImageSource:
    """Lazy access to the images of one column.

    Parameters
    ----------
    cells : sequence or ndarray
        One cell per row: a file path, an image array, or a
        :class:`~skmultimodal.data.CroppedImage` (an image cropped to its
        lesion, see ``ImageModality(roi=...)``). An ndarray of shape
        (n, H, W[, C]) holds the images themselves.
    transform : callable
        Maps an image array to a (C, H, W) float tensor.
    row_labels : sequence, default=None
        Labels used in error messages (the DataFrame index).
    allow_missing : bool, default=False
        If True, missing cells give a zero tensor of ``placeholder_shape`` and
        a False presence flag; otherwise they raise.
    placeholder_shape : tuple, default=None
        Shape of the tensor returned for a missing image.
    cache : ImageCache, default=None
        Keep every image after its first read (decoded and resized, before
        augmentation and normalisation), so that later epochs do not decode
        it again. With an :class:`~skmultimodal.data.ImageTransform` the
        cached image is a tensor; with another transform it is the decoded
        array.
    cache_keys : array-like of int, default=None
        Key of each row in ``cache``; by default the row positions. Subsets
        keep the keys of their rows, so that they share the cache.

    Notes
    -----
    When every cell is an in-memory array (or missing, or an in-memory array
    cropped to its lesion) and the transform is
    an :class:`~skmultimodal.data.ImageTransform`, the first call of
    :meth:`batch` prepares every row once into one tensor of at most
    ``STACK_MAX_BYTES`` (1 GiB) and later batches are taken out of it: an
    in-memory data set is then converted and resized once per fit instead of
    once per epoch. Without augmentation the tensor holds the finished rows
    (``source[i]``, stacked) and batches are slices of it; with augmentation
    it holds the rows before augmentation and normalisation, and each batch
    augments and normalises its rows afresh, drawing the same random
    transforms in the same order as reading the rows one by one. The tensor
    belongs to this source (a subset or a copy starts without it) and is
    never pickled; DataLoader worker processes do not build it.
    """

    def __init__(self, cells, transform, row_labels=None, allow_missing=False,
                 placeholder_shape=None, cache=None, cache_keys=None):
        self.cells = cells
        self.transform = transform
        self.row_labels = row_labels
        self.allow_missing = allow_missing
        self.placeholder_shape = placeholder_shape
        self.cache = cache
        self.cache_keys = cache_keys
        self._stack = None
        self._stackable = None

    def __len__(self):
        return len(self.cells)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_stack"] = None
        return state

    # -- batches sliced out of one prepared tensor ---------------------------
    def batch(self, indices):
        """The stacked tensors of the rows ``indices``, or None.

        None when the rows cannot be prepared once (file paths,
        a transform other than :class:`~skmultimodal.data.ImageTransform`,
        images of different output sizes, a tensor larger than
        ``STACK_MAX_BYTES``, 1 GiB) or in a DataLoader worker process; the
        caller then reads the rows one by one.
        """
        if self._stack is None:
            if self._stackable is None:
                self._stackable = self._can_stack()
            if not self._stackable or get_worker_info() is not None:
                return None
            self._stack = self._build_stack()
            if self._stack is None:
                self._stackable = False
                return None
        if self._augments():
            return torch.stack([self._stacked_row(int(i)) for i in indices])
        return self._stack[torch.as_tensor(indices, dtype=torch.long)]

    def clear_prepared(self):
        """Drop the prepared tensor (rebuilt by the next :meth:`batch`)."""
        self._stack = None

    def _augments(self):
        return isinstance(self.transform, ImageTransform) and self.transform.augment is not None

    def _can_stack(self):
        t = self.transform
        if not isinstance(t, ImageTransform) or len(self) == 0:
            return False
        cells = self.cells
        if isinstance(cells, np.ndarray) and cells.dtype != object:
            return cells.ndim >= 3
        return not any(reads_file(c) for c in cells)

    def _build_stack(self):
        """Every row prepared, stacked; or None.

        Without augmentation a row is ``source[i]`` without a cache: the
        finished tensor. With augmentation it is the deterministic first half
        (:meth:`ImageTransform.prepare`), which :meth:`_stacked_row` finishes
        afresh each time, so every epoch draws new random transforms.
        """
        first = next((i for i in range(len(self)) if self.present(i)), None)
        if first is None:
            return None
        finish = not self._augments()
        item = self._item(first, None, finish)
        if item.numel() * item.element_size() * len(self) > STACK_MAX_BYTES:
            return None
        stack = torch.empty((len(self), *item.shape), dtype=item.dtype)
        for i in range(len(self)):
            x = item if i == first else self._item(i, None, finish)
            if x.shape != item.shape or x.dtype != item.dtype:
                return None  # per-item reading gives the size error of collate_batch
            stack[i] = x
        return stack

    def _stacked_row(self, i):
        """Row ``i`` of the prepared tensor, as ``source[i]`` gives it."""
        if not self._augments():
            return self._stack[i].clone()
        if not self.present(i):
            return torch.zeros(self.placeholder_shape, dtype=torch.float32)
        return self.transform.finish(self._stack[i])

    def present(self, i):
        """Return whether row ``i`` has an image."""
        return not is_missing(self.cells[i]) if self.allow_missing else True

    def __getitem__(self, i):
        if self._stack is not None:
            return self._stacked_row(i)
        return self._item(i, self.cache)

    def _item(self, i, cache, finish=True):
        """Row ``i`` as ``source[i]`` gives it; with ``finish=False`` before
        augmentation and normalisation. Zeros when missing."""
        cell = self.cells[i]
        if self.allow_missing and is_missing(cell):
            return torch.zeros(self.placeholder_shape, dtype=torch.float32)
        row = i if self.row_labels is None else self.row_labels[i]
        try:
            if cache is None:
                image = self._read(cell, row)
                return self.transform(image) if finish else self._prepare(image)
            key = self._key(i)
            image = cache.get(key)
            if image is None:
                image = self._prepare(self._read(cell, row))
                cache[key] = image
            return self._finish(image) if finish else image
        except IntensityError as exc:
            raise ValueError(f"Image{describe_cell(cell, row)} {exc}") from None

    def _read(self, cell, row):
        size = getattr(self.transform, "image_size", None)
        return read_image(cell, row=row, reduce_to=size)

    def _key(self, i):
        return int(i) if self.cache_keys is None else int(self.cache_keys[i])

    def _prepare(self, image):
        """Decoded array -> the cached form (channels and size, no augmentation)."""
        t = self.transform
        return t.prepare(image) if isinstance(t, ImageTransform) else image

    def _finish(self, image):
        """Cached form -> the tensor ``transform`` gives for the decoded array."""
        t = self.transform
        return t.finish(image) if isinstance(t, ImageTransform) else t(image)

    def _copy(self, **changes):
        params = dict(cells=self.cells, transform=self.transform,
                      row_labels=self.row_labels, allow_missing=self.allow_missing,
                      placeholder_shape=self.placeholder_shape, cache=self.cache,
                      cache_keys=self.cache_keys)
        params.update(changes)
        return ImageSource(**params)

    def with_transform(self, transform):
        """Return the same rows with another transform (sharing the cache)."""
        return self._copy(transform=transform)

    def with_cache(self, cache):
        """Return the same rows reading through ``cache`` (None: no cache)."""
        return self._copy(cache=cache, cache_keys=None)

    def subset(self, indices):
        """Return the rows at ``indices`` (sharing the cache)."""
        labels = None if self.row_labels is None else [self.row_labels[i] for i in indices]
        if isinstance(self.cells, np.ndarray):
            cells = self.cells[indices]
        else:
            cells = [self.cells[i] for i in indices]
        keys = None
        if self.cache is not None:
            keys = np.array([self._key(i) for i in indices], dtype=np.int64)
        return self._copy(cells=cells, row_labels=labels, cache_keys=keys)


class ArraySource:
    """Rows of a preprocessed float array (a tabular modality)."""

    def __init__(self, array, present=None):
        self.array = torch.as_tensor(np.ascontiguousarray(array, dtype=np.float32))
        self._present = None if present is None else np.asarray(present, dtype=bool)

    def __len__(self):
        return len(self.array)

    def present(self, i):
        """Return whether row ``i`` has values."""
        return True if self._present is None else bool(self._present[i])

    def __getitem__(self, i):
        return self.array[i]

    def batch(self, indices):
        """The rows ``indices`` as one tensor."""
        return self.array[torch.as_tensor(indices, dtype=torch.long)]

    def subset(self, indices):
        """Return the rows at ``indices``."""
        indices = np.asarray(indices)
        present = None if self._present is None else self._present[indices]
        return ArraySource(self.array[torch.as_tensor(indices)].numpy(), present)


#: Key of the per-row sample weight in a batch's input dict (never a
#: modality name: those cannot hold "__").
SAMPLE_WEIGHT_KEY = "__sample_weight__"


class MultimodalDataset(Dataset):
    """Map-style dataset yielding ``({name: tensor, ...}, target)`` per row.

    The dict keys become keyword arguments of the torch module's ``forward``
    (skorch passes dict inputs this way). With ``with_presence=True`` each
    modality also yields ``"<name>_present"``, a bool tensor telling whether
    the modality was given for the row.

    Parameters
    ----------
    sources : dict of str to source
        Objects with ``__len__``, ``__getitem__`` and ``present``.
    y : array-like of int, default=None
        Encoded targets; 0 is yielded when None (prediction).
    with_presence : bool, default=False
    sample_weight : array-like of float, default=None
        Weight of each row in the training loss, yielded under
        ``SAMPLE_WEIGHT_KEY`` (the network removes it before the forward
        pass and weights the loss with it).
    target_dtype : torch.dtype, default=torch.long
        Data type of the targets: class indices, or floats (e.g. the (time,
        event) pairs of survival data).
    """

    def __init__(self, sources, y=None, with_presence=False, sample_weight=None,
                 target_dtype=torch.long):
        lengths = {name: len(src) for name, src in sources.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"Modalities have different numbers of rows: {lengths}")
        self.sources = sources
        self.y = None if y is None else torch.as_tensor(np.asarray(y), dtype=target_dtype)
        self.with_presence = with_presence
        self.sample_weight = None if sample_weight is None else torch.as_tensor(
            np.asarray(sample_weight), dtype=torch.float32)
        self._n = next(iter(lengths.values()))
        if self.y is not None and len(self.y) != self._n:
            raise ValueError(
                f"X has {self._n} rows but y has {len(self.y)} entries."
            )

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        x = {}
        for name, src in self.sources.items():
            x[name] = src[i]
            if self.with_presence:
                x[f"{name}_present"] = torch.tensor(src.present(i))
        if self.sample_weight is not None:
            x[SAMPLE_WEIGHT_KEY] = self.sample_weight[i]
        target = self.y[i] if self.y is not None else torch.tensor(0)
        return x, target

    def clear_prepared(self):
        """Drop the tensors the sources prepared (see :meth:`ImageSource.batch`)."""
        for src in self.sources.values():
            if hasattr(src, "clear_prepared"):
                src.clear_prepared()

    def __getitems__(self, indices):
        """The items of ``indices``, as one :class:`StackedBatch` when every source
        gives whole batches (:meth:`ImageSource.batch`), else as a list."""
        indices = list(indices)
        inputs = {}
        for name, src in self.sources.items():
            batch = src.batch(indices) if hasattr(src, "batch") else None
            if batch is None:
                return [self[i] for i in indices]
            inputs[name] = batch
            if self.with_presence:
                inputs[f"{name}_present"] = torch.tensor([src.present(i) for i in indices],
                                                         dtype=torch.bool)
        rows = torch.as_tensor(indices, dtype=torch.long)
        if self.sample_weight is not None:
            inputs[SAMPLE_WEIGHT_KEY] = self.sample_weight[rows]
        if self.y is not None:
            target = self.y[rows]
        else:
            target = torch.zeros(len(indices), dtype=torch.long)
        return StackedBatch(inputs, target)

    def subset(self, indices, sources=None):
        """Return the rows at ``indices``; ``sources`` may replace some sources first."""
        srcs = dict(self.sources, **(sources or {}))
        rows = torch.as_tensor(indices)
        y = None if self.y is None else self.y[rows].numpy()
        weight = None if self.sample_weight is None else self.sample_weight[rows].numpy()
        dtype = torch.long if self.y is None else self.y.dtype
        return MultimodalDataset(
            {name: src.subset(indices) for name, src in srcs.items()},
            y=y, with_presence=self.with_presence, sample_weight=weight, target_dtype=dtype,
        )


class StackedBatch(list):
    """Items of a batch already stacked: ``collate_batch`` returns ``(inputs, target)``.

    As a list it holds the per-row ``(inputs, target)`` items (views of the
    stacked tensors), so that any other collate function gives the same batch.
    """

    def __init__(self, inputs, target):
        super().__init__(({k: v[j] for k, v in inputs.items()}, target[j])
                         for j in range(len(target)))
        self.inputs, self.target = inputs, target


def _has_bags(batch):
    first = batch[0] if batch else None
    if not (isinstance(first, tuple) and len(first) == 2 and isinstance(first[0], dict)):
        return False
    return any(isinstance(v, InstanceBag) for v in first[0].values())


def _pad_bag_inputs(batch):
    """Replace the :class:`InstanceBag` inputs by padded tensors and ``<name>_mask``."""
    names = [name for name, value in batch[0][0].items() if isinstance(value, InstanceBag)]
    inputs = [dict(x) for x, _ in batch]
    padded = {}
    for name in names:
        padded[name] = pad_bags([x.pop(name) for x in inputs])
    out = default_collate([(x, y) for x, (_, y) in zip(inputs, batch)])
    for name, (values, mask) in padded.items():
        out[0][name] = values
        out[0][f"{name}_mask"] = mask
    return out


def collate_batch(batch):
    """``default_collate``, padding bags of images, with a clear error for image sizes.

    Images are stacked into one tensor per batch: with ``image_size=None``
    (every image kept at its own size) they must all have the same size. Bags
    (:class:`~skmultimodal.data._bags.InstanceBag`) are padded to the longest
    bag of the batch, ``(N, K, C, H, W)``, with a bool mask ``<name>_mask``
    ``(N, K)`` telling the real instances.
    """
    if isinstance(batch, StackedBatch):
        return batch.inputs, batch.target
    try:
        return _pad_bag_inputs(batch) if _has_bags(batch) else default_collate(batch)
    except RuntimeError as exc:
        if "stack expects each tensor to be equal size" not in str(exc):
            raise
        inputs = [x for x, _ in batch]
        if inputs and isinstance(inputs[0], dict):
            for name in inputs[0]:
                sizes = sorted({tuple(x[name].shape[-2:]) for x in inputs
                                if getattr(x[name], "ndim", 0) >= 2})
                if len(sizes) > 1:
                    shown = ", ".join(f"{h}x{w}" for h, w in sizes[:5])
                    raise ValueError(
                        f"Images of {name!r} have different sizes ({shown}); with "
                        "image_size=None every image must have the same size. Set "
                        "image_size=(H, W) (or an int) to resize them."
                    ) from None
        raise
