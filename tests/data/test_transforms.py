"""Array-to-tensor transforms: scaling, channels, resizing, normalisation."""

import numpy as np
import pytest
import torch

from skmultimodal.data import (
    IMAGENET_MEAN,
    ImageTransform,
    check_image_size,
    normalisation_stats,
    resolve_augmentation,
)


def test_uint8_scaled_and_grey_repeated_to_rgb():
    arr = np.full((4, 6), 255, dtype=np.uint8)
    out = ImageTransform((4, 6), 3, None)(arr)
    assert out.shape == (3, 4, 6) and out.dtype == torch.float32
    torch.testing.assert_close(out, torch.ones(3, 4, 6))


def test_rgba_drops_alpha_and_rgb_to_grey_is_luminance():
    arr = np.zeros((2, 2, 4), dtype=np.uint8)
    arr[..., 0] = 255
    out = ImageTransform(None, 1, None)(arr)
    torch.testing.assert_close(out, torch.full((1, 2, 2), 0.299))


def test_resize_and_imagenet_normalisation():
    arr = np.zeros((10, 20, 3), dtype=np.uint8)
    out = ImageTransform((5, 5), 3, "imagenet")(arr)
    assert out.shape == (3, 5, 5)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor(-IMAGENET_MEAN[0] / 0.229))


def test_float_images_keep_their_values_and_augment_applies_in_training():
    arr = np.full((4, 4), 0.25, dtype=np.float64)
    flip = lambda t: t * 2  # noqa: E731 - any callable
    torch.testing.assert_close(ImageTransform(None, 1, None, flip)(arr),
                               torch.full((1, 4, 4), 0.5))


def test_parameter_validation():
    assert check_image_size(8) == (8, 8) and check_image_size((4, 6)) == (4, 6)
    for bad in (0, (1, 2, 3), "big", True):
        with pytest.raises(ValueError, match="image_size"):
            check_image_size(bad)
    assert normalisation_stats("imagenet", 1)[0] == (pytest.approx(np.mean(IMAGENET_MEAN)),)
    assert normalisation_stats((0.5, 0.25), 3) == ((0.5,) * 3, (0.25,) * 3)
    with pytest.raises(ValueError, match="normalize"):
        normalisation_stats("zscore", 3)
    with pytest.raises(ValueError, match="positive"):
        normalisation_stats(([0, 0, 0], [1, 0, 1]), 3)
    assert resolve_augmentation(False) is None
    assert callable(resolve_augmentation(True))
