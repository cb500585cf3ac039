"""Array-to-tensor transforms: scaling, channels, resizing, normalisation."""

import numpy as np
import pytest
import torch

from skmultimodal.data import (
    IMAGENET_MEAN,
    ImageTransform,
    IntensityError,
    default_augmentation,
)
from skmultimodal.data._transforms import (
    RandomRotation90,
    SpeckleNoise,
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


PRESETS = ["generic", "default", "light", "ultrasound", "mammography", "histology"]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 32, 32), (3, 24, 32)])
def test_presets_give_valid_tensors_of_the_input_shape(preset, shape):
    torch.manual_seed(0)
    transform = resolve_augmentation(preset)
    for _ in range(10):  # several random draws
        image = torch.rand(shape)
        out = transform(image.clone())
        assert out.shape == shape and out.dtype == torch.float32
        assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_in_the_image_transform(preset):
    arr = np.random.default_rng(0).integers(0, 256, (40, 30), dtype=np.uint8)
    out = ImageTransform((32, 32), 3, "imagenet", resolve_augmentation(preset))(arr)
    assert out.shape == (3, 32, 32) and torch.isfinite(out).all()


def test_true_and_default_are_the_generic_preset():
    names = [type(t).__name__ for t in default_augmentation("generic").transforms]
    for augment in (True, "default"):
        assert [type(t).__name__ for t in resolve_augmentation(augment).transforms] == names


def test_light_ultrasound_and_mammography_never_flip_vertically():
    for preset in ("light", "ultrasound", "mammography"):
        names = [type(t).__name__ for t in default_augmentation(preset).transforms]
        assert "RandomHorizontalFlip" in names and "RandomVerticalFlip" not in names


def test_ultrasound_is_the_light_preset_with_speckle_noise():
    def names(preset):
        return [repr(t) for t in default_augmentation(preset).transforms]

    assert names("ultrasound")[:-1] == names("light")
    assert isinstance(default_augmentation("ultrasound").transforms[-1], SpeckleNoise)


def test_speckle_noise_and_right_angle_rotations():
    torch.manual_seed(0)
    grey = torch.full((3, 8, 8), 0.5)
    noisy = SpeckleNoise(sigma=0.2, p=1.0)(grey.clone())
    assert not torch.equal(noisy, grey)
    torch.testing.assert_close(noisy[0], noisy[2])  # the same noise in every channel
    assert torch.equal(SpeckleNoise(p=0.0)(grey), grey)
    image = torch.arange(12.0).view(1, 3, 4)
    for _ in range(10):  # non-square: 0 or 180 degrees only
        out = RandomRotation90()(image)
        assert out.shape == image.shape
        assert torch.equal(out, image) or torch.equal(out, image.flip(-1).flip(-2))


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="augment='xray'.*'histology'.*'ultrasound'"):
        resolve_augmentation("xray")
    with pytest.raises(ValueError, match="augment='xray' is not a preset"):
        default_augmentation("xray")


# -- one rule for pixel intensities -------------------------------------------
def _picture():
    return np.random.default_rng(0).integers(0, 256, (12, 10, 3)).astype(np.uint8)


@pytest.mark.parametrize("convert", [
    lambda a: a.astype(np.uint16) * 257,          # the same picture in 16 bits
    lambda a: a / 255.0,                          # float64 in [0, 1]
    lambda a: (a / 255.0).astype(np.float32),     # float32 in [0, 1]
], ids=["uint16", "float64", "float32"])
def test_same_picture_same_tensor_whatever_the_dtype(convert):
    pic = _picture()
    expected = ImageTransform((8, 8), 3, "imagenet")(pic)
    torch.testing.assert_close(ImageTransform((8, 8), 3, "imagenet")(convert(pic)), expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint32])
def test_integer_dtypes_without_a_range_are_refused_until_stated(dtype):
    pic = _picture()
    with pytest.raises(IntensityError, match=f"dtype {np.dtype(dtype)}.*intensity_range=255"):
        ImageTransform(None, 3, None)(pic.astype(dtype))
    stated = ImageTransform(None, 3, None, intensity_range=255)(pic.astype(dtype))
    torch.testing.assert_close(stated, ImageTransform(None, 3, None)(pic))


def test_float_images_outside_unit_range_are_refused_until_stated():
    pic = _picture().astype(np.float64)  # 0-255 floats: a float TIFF, say
    with pytest.raises(IntensityError, match=r"values in \[0, 255\].*must lie in \[0, 1\]"):
        ImageTransform(None, 1, None)(pic)
    torch.testing.assert_close(ImageTransform(None, 1, None, intensity_range=(0, 255))(pic),
                               ImageTransform(None, 1, None)(_picture()))


def test_stated_range_applies_to_every_dtype_and_is_enforced():
    pic = _picture()
    twelve_bit = pic.astype(np.uint16) * 16
    out = ImageTransform(None, 3, None, intensity_range=4095)(twelve_bit)
    torch.testing.assert_close(out, torch.from_numpy(
        (twelve_bit / 4095.0).transpose(2, 0, 1).astype(np.float32)))
    with pytest.raises(IntensityError, match=r"outside the stated intensity_range=\(0, 100\)"):
        ImageTransform(None, 3, None, intensity_range=100)(pic)


def test_minmax_scales_each_image_by_its_own_range():
    arr = np.array([[10, 20], [30, 50]], dtype=np.int64)
    out = ImageTransform(None, 1, None, intensity_range="minmax")(arr)
    torch.testing.assert_close(out, torch.tensor([[[0.0, 0.25], [0.5, 1.0]]]))
    flat = ImageTransform(None, 1, None, intensity_range="minmax")(np.full((2, 2), 7))
    torch.testing.assert_close(flat, torch.zeros(1, 2, 2))


def test_values_not_finite_in_float32_are_refused():
    nan = np.full((2, 2), 0.5)
    nan[0, 1] = np.nan
    with pytest.raises(IntensityError, match="not finite"):
        ImageTransform(None, 1, None)(nan)
    huge = np.array([[-1e308, 1e308]])  # its range overflows float64
    with pytest.raises(IntensityError, match="not finite"):
        ImageTransform(None, 1, None, intensity_range="minmax")(huge)
    with pytest.raises(IntensityError, match=r"must lie in \[0, 1\]"):
        ImageTransform(None, 1, None)(np.full((2, 2), 1e300))


@pytest.mark.parametrize("bad", ["max", 0, -1, (5, 5), (0, np.inf), True, [1, 2, 3], "none"])
def test_bad_intensity_range(bad):
    with pytest.raises(ValueError, match="intensity_range="):
        ImageTransform(None, 1, None, intensity_range=bad)


def test_none_uses_the_values_as_they_are():
    standardised = np.array([[-1.5, 0.0], [0.25, 3.0]])
    out = ImageTransform(None, 1, None, intensity_range=None)(standardised)
    torch.testing.assert_close(out, torch.tensor([[[-1.5, 0.0], [0.25, 3.0]]]))
    # uint8 images are not divided either: the user said the values are ready
    raw = ImageTransform(None, 1, None, intensity_range=None)(np.full((2, 2), 200, np.uint8))
    torch.testing.assert_close(raw, torch.full((1, 2, 2), 200.0))
