"""Turning image arrays into normalised float tensors, with optional augmentation."""

import numbers

import numpy as np
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)


def to_float_tensor(arr):
    """Convert an (H, W) or (H, W, C) array to a float32 (C, H, W) tensor.

    uint8 images are scaled to [0, 1], uint16 images by 65535; all other
    dtypes keep their values. An alpha channel is dropped.
    """
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[-1] == 4:
        arr = arr[:, :, :3]
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(arr.dtype)
    tensor = torch.tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    tensor = tensor.to(torch.float32)
    if scale is not None:
        tensor = tensor / scale
    return tensor


def convert_channels(tensor, channels):
    """Convert a (C, H, W) tensor with C in {1, 3} to ``channels`` channels."""
    have = tensor.shape[0]
    if have == channels:
        return tensor
    if channels == 3:
        return tensor.expand(3, -1, -1).clone()
    return (tensor * _LUMA).sum(dim=0, keepdim=True)


def normalisation_stats(normalize, channels):
    """Return (mean, std) tuples of length ``channels``, or None.

    Parameters
    ----------
    normalize : {"imagenet", None} or tuple of (mean, std)
        "imagenet" uses the ImageNet statistics (their average for one channel).
    channels : int
    """
    if normalize is None:
        return None
    if isinstance(normalize, str):
        if normalize != "imagenet":
            raise ValueError(
                f"normalize={normalize!r} is not supported; use 'imagenet', None "
                "or a (mean, std) pair."
            )
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        if channels == 1:
            mean, std = (float(np.mean(mean)),), (float(np.mean(std)),)
        return mean, std
    try:
        mean, std = normalize
    except (TypeError, ValueError):
        raise ValueError(
            f"normalize={normalize!r} is not supported; use 'imagenet', None or a "
            "(mean, std) pair."
        ) from None
    mean = (mean,) * channels if isinstance(mean, numbers.Real) else tuple(mean)
    std = (std,) * channels if isinstance(std, numbers.Real) else tuple(std)
    if len(mean) != channels or len(std) != channels or min(std) <= 0:
        raise ValueError(
            f"normalize={normalize!r} must give {channels} means and {channels} "
            "positive standard deviations."
        )
    return mean, std


def default_augmentation():
    """Augmentation used with ``augment=True``: flips, small rotations, jitter."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.RandomApply([v2.RandomRotation(15)], p=0.5),
            v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
        ]
    )


def resolve_augmentation(augment):
    """Map the ``augment`` parameter to a transform or None."""
    if augment is None or augment is False:
        return None
    if augment is True or augment == "default":
        return default_augmentation()
    if callable(augment):
        return augment
    raise ValueError(
        f"augment={augment!r} is not supported; use False, True, 'default' or a "
        "callable transform (e.g. a torchvision.transforms.v2.Compose)."
    )


def check_image_size(image_size):
    """Return image_size as an (H, W) tuple of positive ints, or None."""
    if image_size is None:
        return None
    if isinstance(image_size, bool) or isinstance(image_size, str):
        size = ()
    elif isinstance(image_size, numbers.Integral):
        size = (int(image_size), int(image_size))
    else:
        try:
            size = tuple(int(s) for s in image_size)
        except (TypeError, ValueError):
            size = ()
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"image_size={image_size!r} must be a positive int or an (H, W) pair."
        )
    return size


class ImageTransform:
    """Array -> normalised tensor of fixed size and channel count.

    Parameters
    ----------
    image_size : tuple of int or None
        (H, W) output size; None keeps the input size.
    channels : {1, 3}
        Output channels: greyscale images are repeated to RGB, RGB images are
        converted to luminance for one channel.
    normalize : see :func:`normalisation_stats`
    augment : callable or None
        Applied after resizing, before normalisation, in training only.
    """

    def __init__(self, image_size, channels, normalize, augment=None):
        self.image_size = image_size
        self.channels = channels
        self.stats = normalisation_stats(normalize, channels)
        self.augment = augment

    def prepare(self, arr):
        """Decoded array -> float tensor with the output channels and size.

        The deterministic first half of the transform: what a cache of decoded
        images can keep (see :meth:`finish`).
        """
        tensor = convert_channels(to_float_tensor(arr), self.channels)
        if self.image_size is not None and tuple(tensor.shape[-2:]) != self.image_size:
            tensor = F.resize(tensor, list(self.image_size), antialias=True)
        return tensor

    def finish(self, tensor):
        """Augmentation (if any) and normalisation of a :meth:`prepare` output.

        ``tensor`` itself is never modified, so a cached one can be reused.
        """
        if self.augment is not None:
            tensor = self.augment(tensor.clone())
        if self.stats is not None:
            tensor = F.normalize(tensor, list(self.stats[0]), list(self.stats[1]))
        return tensor

    def __call__(self, arr):
        return self.finish(self.prepare(arr))
