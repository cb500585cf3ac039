"""Turning image arrays into normalised float tensors, with optional augmentation."""

import numbers

import numpy as np
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

#: Per-channel (R, G, B) mean of ImageNet, for ``normalize="imagenet"``.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
#: Per-channel (R, G, B) standard deviation of ImageNet, for ``normalize="imagenet"``.
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)


#: Intensity range of the dtypes that carry one: values are divided by it.
_DTYPE_RANGE = {np.dtype(np.bool_): 1.0, np.dtype(np.uint8): 255.0,
                np.dtype(np.uint16): 65535.0}


class IntensityError(ValueError):
    """An image whose pixel values cannot be mapped to [0, 1] as asked."""


def check_intensity_range(intensity_range):
    """Validate ``intensity_range``; return "auto", "minmax" or a (low, high) pair.

    Parameters
    ----------
    intensity_range : "auto", "minmax", None, number or (low, high)
        See :class:`ImageTransform`.

    Returns
    -------
    resolved : str, None or tuple of float
    """
    if intensity_range is None:
        return None
    if isinstance(intensity_range, str):
        if intensity_range in ("auto", "minmax"):
            return intensity_range
    elif isinstance(intensity_range, numbers.Real) and not isinstance(
            intensity_range, (bool, np.bool_)):
        if np.isfinite(intensity_range) and intensity_range > 0:
            return 0.0, float(intensity_range)
    else:
        try:
            low, high = (float(v) for v in intensity_range)
        except (TypeError, ValueError):
            pass
        else:
            if np.isfinite(low) and np.isfinite(high) and high > low:
                return low, high
    raise ValueError(
        f"intensity_range={intensity_range!r} is not supported; use 'auto' (the "
        "range of uint8, uint16 and bool images, [0, 1] for float images), "
        "'minmax' (each image scaled by its own minimum and maximum), a positive "
        "number (the maximum, e.g. 255 or 4095), a (low, high) pair, or None (the "
        "values used as they are, for images you have scaled yourself)."
    )


def _value_range(arr):
    if arr.size == 0:
        return 0.0, 0.0
    return float(arr.min()), float(arr.max())


def _unit_scale(arr, intensity_range):
    """Return (offset, scale) mapping the intensities of ``arr`` to [0, 1]."""
    if intensity_range is None:  # stated: the values are model-ready
        return 0.0, 1.0
    if intensity_range == "minmax":
        low, high = _value_range(arr)
        return low, (high - low) or 1.0
    if intensity_range != "auto":
        low, high = intensity_range
        vmin, vmax = _value_range(arr)
        if vmin < low or vmax > high:
            raise IntensityError(
                f"has values in [{vmin:g}, {vmax:g}], outside the stated "
                f"intensity_range=({low:g}, {high:g}). State the range the images "
                "really have, or use intensity_range='minmax'."
            )
        return low, high - low
    scale = _DTYPE_RANGE.get(arr.dtype)
    if scale is not None:
        return 0.0, scale
    if arr.dtype.kind == "f":
        vmin, vmax = _value_range(arr)
        if vmin < 0.0 or vmax > 1.0:
            raise IntensityError(
                f"is a {arr.dtype} image with values in [{vmin:g}, {vmax:g}]; with "
                "intensity_range='auto' float images must lie in [0, 1]. State their "
                "range: intensity_range=255 for 8-bit values, 65535 for 16-bit ones, "
                "(low, high), or 'minmax' to scale each image by its own range."
            )
        return 0.0, 1.0
    raise IntensityError(
        f"has dtype {arr.dtype}, which does not say what its intensity range is "
        "(only uint8, uint16, bool and float images in [0, 1] do). State it: "
        "intensity_range=255 for 8-bit values, 65535 for 16-bit ones, (low, high), "
        "or 'minmax' to scale each image by its own range; or convert the images "
        "to uint8/uint16."
    )


def to_float_tensor(arr, intensity_range="auto"):
    """Convert an (H, W) or (H, W, C) array to a float32 (C, H, W) tensor in [0, 1].

    The one rule for pixel intensities, whatever the array's dtype or the
    file it came from: uint8 images are divided by 255, uint16 by 65535, bool
    images are 0 or 1, and float images must already lie in [0, 1]; other
    integer dtypes (int64, int32 TIFFs, ...) have no known range and raise
    until ``intensity_range`` states it (see :class:`ImageTransform`). An
    alpha channel is dropped.

    Raises
    ------
    IntensityError
        If the intensities cannot be mapped to [0, 1] as asked, or are not
        finite in float32.
    """
    intensity_range = check_intensity_range(intensity_range)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[-1] == 4:
        arr = arr[:, :, :3]
    offset, scale = _unit_scale(arr, intensity_range)
    if offset == 0.0 and arr.dtype in _DTYPE_RANGE and intensity_range is not None:
        tensor = torch.tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        tensor = tensor.to(torch.float32) / scale
    else:
        # scaled in float64: large integers and floats keep their precision
        unit = (np.asarray(arr, dtype=np.float64) - offset) / scale
        tensor = torch.from_numpy(
            np.ascontiguousarray(unit.transpose(2, 0, 1), dtype=np.float32))
    if not torch.isfinite(tensor).all():
        raise IntensityError(
            "holds values that are not finite (NaN, infinity, or too large for "
            "float32)."
        )
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


class SpeckleNoise(torch.nn.Module):
    """Multiplicative noise, the same in every channel, clipped to [0, 1].

    Each pixel is multiplied by ``1 + sigma * n`` with ``n`` standard normal
    (the granular texture of ultrasound speckle); applied with probability
    ``p``. Expects a float (C, H, W) tensor in [0, 1] (before normalisation).

    Parameters
    ----------
    sigma : float, default=0.1
    p : float, default=0.5
    """

    def __init__(self, sigma=0.1, p=0.5):
        super().__init__()
        self.sigma = sigma
        self.p = p

    def forward(self, tensor):
        if float(torch.rand(())) >= self.p:
            return tensor
        noise = torch.randn((1, *tensor.shape[-2:]), dtype=tensor.dtype)
        return (tensor * (1.0 + self.sigma * noise)).clamp_(0.0, 1.0)


class RandomRotation90(torch.nn.Module):
    """Rotate by a random multiple of 90 degrees (180 or 0 for non-square images,
    so that the size never changes)."""

    def forward(self, tensor):
        square = tensor.shape[-1] == tensor.shape[-2]
        k = int(torch.randint(4, ())) if square else 2 * int(torch.randint(2, ()))
        return torch.rot90(tensor, k, dims=(-2, -1)) if k else tensor


def _small_affine():
    return v2.RandomApply(
        [v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1))], p=0.5)


def _generic():
    return [
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
        v2.RandomApply([v2.RandomRotation(15)], p=0.5),
        v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
    ]


def _light():
    # valid for every kind of image here: no vertical flip, small geometry
    return [
        v2.RandomHorizontalFlip(),
        _small_affine(),
        v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
    ]


def _ultrasound():
    # no vertical flip: the probe (skin) is at the top of every frame
    return [
        v2.RandomHorizontalFlip(),
        _small_affine(),
        v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
        SpeckleNoise(sigma=0.1, p=0.5),
    ]


def _mammography():
    # left and right breasts mirror each other; the chest wall stays at one side
    return [
        v2.RandomHorizontalFlip(),
        _small_affine(),
        v2.RandomApply([v2.ColorJitter(contrast=0.2)], p=0.5),
    ]


def _histology():
    # tissue has no orientation: every flip and right-angle rotation is valid
    return [
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
        RandomRotation90(),
        v2.RandomApply([_ColourJitter()], p=0.8),
    ]


class _ColourJitter(torch.nn.Module):
    """Brightness, contrast, saturation and hue jitter (hue and saturation only
    for RGB images: a greyscale image has neither)."""

    def __init__(self):
        super().__init__()
        self.rgb = v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05)
        self.grey = v2.ColorJitter(brightness=0.2, contrast=0.2)

    def forward(self, tensor):
        return (self.rgb if tensor.shape[-3] == 3 else self.grey)(tensor)


#: The named presets of ``augment``: name -> function returning the transforms.
_PRESETS = {
    "generic": _generic,
    "default": _generic,
    "light": _light,
    "ultrasound": _ultrasound,
    "mammography": _mammography,
    "histology": _histology,
}


def default_augmentation(preset="generic"):
    """A training-time augmentation preset, for one kind of image.

    The transforms receive the float (C, H, W) tensor in [0, 1], after
    resizing and before normalisation.

    ============  ==========================================================
    preset        transforms
    ============  ==========================================================
    light         horizontal flip (no vertical flip); small affine
                  (rotation 10 degrees, shift 5%, scale 0.9-1.1; p=0.5);
                  brightness and contrast jitter of 0.2 (p=0.5). Plausible
                  for every kind of image here; the default of
                  :class:`~skmultimodal.ImageClassifier`.
    generic       horizontal and vertical flips; rotation up to 15 degrees
                  (p=0.5); brightness and contrast jitter of 0.2 (p=0.5).
                  "default" and ``augment=True`` are this preset.
    ultrasound    horizontal flip (no vertical flip: the probe is at the
                  top); small affine (rotation 10 degrees, shift 5%, scale
                  0.9-1.1; p=0.5); brightness and contrast jitter of 0.2
                  (p=0.5); multiplicative speckle noise, sigma 0.1 (p=0.5).
    mammography   horizontal flip; small affine (as ultrasound); contrast
                  jitter of 0.2 (p=0.5).
    histology     horizontal and vertical flips; rotation by a multiple of
                  90 degrees; brightness, contrast, saturation (0.2) and hue
                  (0.05) jitter (p=0.8; hue and saturation on RGB only).
    ============  ==========================================================

    Parameters
    ----------
    preset : {"generic", "default", "light", "ultrasound", "mammography", \
"histology"}, default="generic"

    Returns
    -------
    transform : torchvision.transforms.v2.Compose
    """
    try:
        make = _PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(
            f"augment={preset!r} is not a preset; use one of {sorted(_PRESETS)}."
        ) from None
    return v2.Compose(make())


def resolve_augmentation(augment):
    """Map the ``augment`` parameter to a transform or None."""
    if augment is None or augment is False:
        return None
    if augment is True:
        return default_augmentation()
    if isinstance(augment, str):
        if augment in _PRESETS:
            return default_augmentation(augment)
    elif callable(augment):
        return augment
    raise ValueError(
        f"augment={augment!r} is not supported; use False, True, a preset name "
        f"({', '.join(repr(p) for p in sorted(_PRESETS))}) or a callable transform "
        "(e.g. a torchvision.transforms.v2.Compose)."
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
    normalize : {"imagenet", None} or tuple of (mean, std)
        "imagenet" uses the ImageNet statistics (their average for one
        channel); None does not normalise.
    augment : callable or None
        Applied after resizing, before normalisation, in training only.
    intensity_range : "auto", "minmax", None, number or (low, high), default="auto"
        How pixel values map to [0, 1] before normalisation. "auto": by the
        dtype (uint8 / 255, uint16 / 65535, bool as 0 or 1, float images
        must lie in [0, 1]; other integer dtypes are an error until the
        range is stated). A number ``high`` or a pair ``(low, high)`` states
        the range of every image, whatever its dtype (values outside it are
        an error). "minmax" scales each image by its own minimum and maximum.
        None uses the values as they are, in any range (images the user has
        already scaled or standardised).
    """

    def __init__(self, image_size, channels, normalize, augment=None,
                 intensity_range="auto"):
        self.image_size = image_size
        self.channels = channels
        self.stats = normalisation_stats(normalize, channels)
        self.augment = augment
        self.intensity_range = check_intensity_range(intensity_range)

    def prepare(self, arr):
        """Decoded array -> float tensor with the output channels and size.

        The deterministic first half of the transform: what a cache of decoded
        images can keep (see :meth:`finish`). A greyscale image becomes RGB
        after resizing, so a large one is never held as three float channels
        at full size.
        """
        tensor = to_float_tensor(arr, self.intensity_range)
        if tensor.shape[0] > self.channels:  # to luminance before resizing
            tensor = convert_channels(tensor, self.channels)
        if self.image_size is not None and tuple(tensor.shape[-2:]) != self.image_size:
            tensor = F.resize(tensor, list(self.image_size), antialias=True)
        return convert_channels(tensor, self.channels)

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
