"""The two random views of an image that contrastive pretraining compares."""

import torch
from torchvision.transforms import v2

from ..data._transforms import SpeckleNoise

#: The named presets of ``ContrastivePretrainer(augment=...)``.
VIEW_PRESETS = ("ultrasound", "generic")


def _blur_kernel(size):
    """An odd Gaussian-blur kernel of about a tenth of the image side (SimCLR)."""
    k = max(3, int(0.1 * min(size)))
    return k if k % 2 else k + 1


class _Jitter(torch.nn.Module):
    """Brightness and contrast jitter; saturation and hue too on RGB images."""

    def __init__(self, strength):
        super().__init__()
        self.rgb = v2.ColorJitter(brightness=strength, contrast=strength,
                                  saturation=strength, hue=min(0.1, strength / 4))
        self.grey = v2.ColorJitter(brightness=strength, contrast=strength)

    def forward(self, tensor):
        return (self.rgb if tensor.shape[-3] == 3 else self.grey)(tensor)


class _RandomGreyscale(torch.nn.Module):
    """An RGB image turned to grey (kept with three channels) with probability ``p``."""

    def __init__(self, p=0.2):
        super().__init__()
        self.p = p

    def forward(self, tensor):
        if tensor.shape[-3] != 3 or float(torch.rand(())) >= self.p:
            return tensor
        return v2.functional.rgb_to_grayscale(tensor, num_output_channels=3)


def _ultrasound(size):
    # no vertical flip: the probe (skin) is at the top of every frame
    return [
        v2.RandomResizedCrop(size, scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomApply([_Jitter(0.4)], p=0.8),
        v2.RandomApply([v2.GaussianBlur(_blur_kernel(size), sigma=(0.1, 2.0))], p=0.5),
        SpeckleNoise(sigma=0.15, p=0.5),
    ]


def _generic(size):
    return [
        v2.RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomApply([_Jitter(0.4)], p=0.8),
        _RandomGreyscale(p=0.2),
        v2.RandomApply([v2.GaussianBlur(_blur_kernel(size), sigma=(0.1, 2.0))], p=0.5),
    ]


_PRESETS = {"ultrasound": _ultrasound, "generic": _generic}


def contrastive_views(augment, image_size):
    """The random transform drawing one view of an image.

    ============  ==========================================================
    preset        transforms (in this order)
    ============  ==========================================================
    ultrasound    random resized crop (30-100% of the area, aspect ratio
                  3/4-4/3) back to ``image_size``; horizontal flip (never
                  vertical: the probe is at the top); brightness and
                  contrast jitter of 0.4 (p=0.8); Gaussian blur, kernel a
                  tenth of the side, sigma 0.1-2 (p=0.5); multiplicative
                  speckle noise, sigma 0.15 (p=0.5).
    generic       random resized crop (20-100% of the area); horizontal
                  flip; brightness, contrast (and on RGB saturation 0.4
                  and hue 0.1) jitter (p=0.8); greyscale (RGB only,
                  p=0.2); Gaussian blur (p=0.5). SimCLR's recipe.
    ============  ==========================================================

    Parameters
    ----------
    augment : {"ultrasound", "generic"} or callable
        A preset, or a callable taking a float (C, H, W) tensor in [0, 1]
        (the image resized to ``image_size``, before normalisation) and
        returning a tensor of the same shape, drawing new random values at
        every call.
    image_size : (int, int)
        Height and width of the views.

    Returns
    -------
    transform : callable
    """
    if callable(augment):
        return augment
    try:
        make = _PRESETS[augment]
    except (KeyError, TypeError):
        raise ValueError(
            f"augment={augment!r} is not a view preset; use one of "
            f"{list(VIEW_PRESETS)} or a callable transform."
        ) from None
    return v2.Compose(make(tuple(image_size)))
