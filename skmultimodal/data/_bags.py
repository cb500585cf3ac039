"""Bags of images: one cell holds the instances of a row, read lazily and padded per batch."""

import numpy as np
import torch

from ._io import describe_cell, is_missing, read_image
from ._transforms import IntensityError


def bag_instances(cell):
    """The instances of a bag cell as a list (empty for a missing bag).

    A bag cell is a list or tuple of image paths or arrays, or one array of
    shape ``(k, H, W)`` or ``(k, H, W, C)``; None, NaN and empty sequences
    are missing bags.
    """
    if isinstance(cell, np.ndarray):
        if cell.dtype == object:
            return list(cell.ravel())
        return list(cell) if cell.ndim >= 3 else [cell]
    if isinstance(cell, (list, tuple)):
        return list(cell)
    if is_missing(cell):
        return []
    return [cell]


def bag_is_missing(cell):
    """True for a missing bag: None, NaN or no instance."""
    if isinstance(cell, (list, tuple, np.ndarray)):
        return len(cell) == 0
    return is_missing(cell)


class InstanceBag:
    """The instances of one row: a tensor ``(k, ...)``, ``k`` possibly 0.

    Batches of bags are padded to their longest bag by
    :func:`~skmultimodal.data.collate_batch`, which adds a bool mask
    ``<name>_mask`` of shape ``(N, K)`` (True for real instances).
    """

    __slots__ = ("instances",)

    def __init__(self, instances):
        self.instances = instances

    def __len__(self):
        return len(self.instances)


def pad_bags(bags):
    """Stack :class:`InstanceBag` objects into ``(N, K, ...)`` and a mask ``(N, K)``."""
    k = max([len(b) for b in bags] + [1])
    first = bags[0].instances
    padded = torch.zeros((len(bags), k, *first.shape[1:]), dtype=first.dtype)
    mask = torch.zeros((len(bags), k), dtype=torch.bool)
    for i, bag in enumerate(bags):
        n = len(bag)
        if n:
            padded[i, :n] = bag.instances
            mask[i, :n] = True
    return padded, mask


def _choose(n, max_instances, train):
    """Positions of the instances used: a random subset of ``max_instances`` in training."""
    if not train or max_instances is None or n <= max_instances:
        return np.arange(n)
    # torch's generator: seeded by the estimator's random_state (and per
    # DataLoader worker), so the subsets are reproducible and differ by epoch.
    return np.sort(torch.randperm(n)[:max_instances].numpy())


class ImageBagSource:
    """Lazy access to the bags of one column.

    Parameters
    ----------
    cells : sequence
        One bag cell per row (see :func:`bag_instances`).
    transform : callable
        Maps an image array to a (C, H, W) float tensor.
    row_labels : sequence, default=None
        Labels used in error messages (the DataFrame index).
    placeholder_shape : tuple
        Shape (C, H, W) of one instance; a missing bag has no instance.
    max_instances : int, default=None
        In training (``train=True``), a bag of more instances yields a random
        subset of this many, drawn anew at each read (each epoch).
    train : bool, default=False
    """

    def __init__(self, cells, transform, row_labels=None, placeholder_shape=None,
                 max_instances=None, train=False):
        self.cells = cells
        self.transform = transform
        self.row_labels = row_labels
        self.placeholder_shape = placeholder_shape
        self.max_instances = max_instances
        self.train = train

    def __len__(self):
        return len(self.cells)

    def present(self, i):
        """Return whether row ``i`` has at least one instance."""
        return not bag_is_missing(self.cells[i])

    def instances(self, i):
        """The instance cells of row ``i`` (paths or arrays)."""
        return bag_instances(self.cells[i])

    def read_instance(self, cell, i, position):
        """One instance of row ``i`` as the transform's tensor."""
        row = i if self.row_labels is None else self.row_labels[i]
        size = getattr(self.transform, "image_size", None)
        try:
            return self.transform(read_image(cell, row=row, reduce_to=size))
        except IntensityError as exc:
            raise ValueError(
                f"Instance {position} of the bag{describe_cell(cell, row)} {exc}") from None

    def __getitem__(self, i):
        cells = self.instances(i)
        chosen = _choose(len(cells), self.max_instances, self.train)
        if not len(chosen):
            return InstanceBag(torch.zeros((0, *self.placeholder_shape), dtype=torch.float32))
        return InstanceBag(torch.stack([self.read_instance(cells[p], i, p) for p in chosen]))

    def subset(self, indices):
        """Return the rows at ``indices``."""
        labels = None if self.row_labels is None else [self.row_labels[i] for i in indices]
        return ImageBagSource([self.cells[i] for i in indices], self.transform, labels,
                              self.placeholder_shape, self.max_instances, self.train)


class ArrayBagSource:
    """Bags of precomputed instance embeddings: one ``(k, D)`` array per row."""

    def __init__(self, arrays, width, max_instances=None, train=False):
        self.arrays = [torch.as_tensor(np.asarray(a, dtype=np.float32).reshape(-1, width))
                       for a in arrays]
        self.width = width
        self.max_instances = max_instances
        self.train = train

    def __len__(self):
        return len(self.arrays)

    def present(self, i):
        """Return whether row ``i`` has at least one instance."""
        return len(self.arrays[i]) > 0

    def __getitem__(self, i):
        chosen = _choose(len(self.arrays[i]), self.max_instances, self.train)
        return InstanceBag(self.arrays[i][torch.as_tensor(chosen, dtype=torch.long)])

    def subset(self, indices):
        """Return the rows at ``indices``."""
        out = ArrayBagSource([], self.width, self.max_instances, self.train)
        out.arrays = [self.arrays[i] for i in indices]
        return out
