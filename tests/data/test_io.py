"""Reading image cells: files of each format, arrays, and clear errors."""

import numpy as np
import pytest
from PIL import Image

from skmultimodal.data import read_image, read_image_file
from skmultimodal.data._io import check_image_array, is_missing


@pytest.mark.parametrize("mode,shape", [("L", (6, 5)), ("RGB", (6, 5, 3)),
                                        ("RGBA", (6, 5, 4)), ("LA", (6, 5)),
                                        ("P", (6, 5, 3)), ("1", (6, 5, 3))])
def test_png_modes(tmp_path, mode, shape):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)).convert(mode)
    img.save(tmp_path / "x.png")
    arr = read_image(tmp_path / "x.png")
    assert arr.shape == shape and arr.dtype == np.uint8


def test_sixteen_bit_tiff(tmp_path):
    data = (np.arange(30, dtype=np.uint16) * 2000).reshape(5, 6)
    Image.fromarray(data).save(tmp_path / "x.tif")
    arr = read_image_file(tmp_path / "x.tif")
    assert arr.dtype == np.uint16
    np.testing.assert_array_equal(arr, data)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"gone\.png' \(row 'p7'\)"):
        read_image(str(tmp_path / "gone.png"), row="p7")
    (tmp_path / "bad.jpg").write_text("hello")
    with pytest.raises(ValueError, match=r"Cannot read image file '.*bad\.jpg' \(row 3\)"):
        read_image(tmp_path / "bad.jpg", row=3)


def test_array_checks():
    assert check_image_array(np.zeros((4, 4, 1))).shape == (4, 4, 1)
    with pytest.raises(ValueError, match="channels-last"):
        check_image_array(np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_image_array(np.full((4, 4), np.inf))
    with pytest.raises(ValueError, match="numeric dtype"):
        check_image_array(np.array([["a"]]))
    with pytest.raises(TypeError, match="holds the number 3"):
        read_image(3)
    with pytest.raises(ValueError, match="missing"):
        read_image(None, row=0)


def test_is_missing():
    assert is_missing(None) and is_missing(float("nan"))
    assert not is_missing("a.png") and not is_missing(np.zeros(2))


# -- the same picture from every file format gives the same input -------------
def _transform(**kw):
    from skmultimodal.data import ImageTransform

    return ImageTransform((8, 8), 3, "imagenet", **kw)


def test_same_picture_in_every_lossless_format(tmp_path):
    import torch

    pic = np.random.default_rng(1).integers(0, 256, (12, 10)).astype(np.uint8)
    expected = _transform()(pic)
    Image.fromarray(pic).save(tmp_path / "a.png")
    Image.fromarray(pic).save(tmp_path / "a.bmp")
    Image.fromarray(pic).save(tmp_path / "a.tif")
    Image.fromarray(pic.astype(np.uint16) * 257).save(tmp_path / "a16.png")
    Image.fromarray(pic.astype(np.uint16) * 257).save(tmp_path / "a16.tif")
    for name in ("a.png", "a.bmp", "a.tif", "a16.png", "a16.tif"):
        torch.testing.assert_close(_transform()(read_image(tmp_path / name)), expected)
    # 32-bit integer and float TIFFs do not say their range: refused until stated
    from skmultimodal.data import IntensityError

    Image.fromarray(pic.astype(np.int32)).save(tmp_path / "i32.tif")
    Image.fromarray(pic.astype(np.float32)).save(tmp_path / "f32.tif")
    for name in ("i32.tif", "f32.tif"):
        with pytest.raises(IntensityError, match="intensity_range"):
            _transform()(read_image(tmp_path / name))
        torch.testing.assert_close(
            _transform(intensity_range=255)(read_image(tmp_path / name)), expected)


def test_large_file_is_reduced_while_decoding(tmp_path):
    big = np.random.default_rng(0).integers(0, 256, (800, 600), dtype=np.uint8)
    Image.fromarray(big).save(tmp_path / "big.png")
    Image.fromarray(np.stack([big] * 3, -1)).save(tmp_path / "big.jpg", quality=95)
    for name in ("big.png", "big.jpg"):
        arr = read_image(tmp_path / name, reduce_to=(32, 32))
        # shrunk by an integer factor, still at least twice the output size
        assert 64 <= min(arr.shape[:2]) < 200, arr.shape
    assert read_image(tmp_path / "big.png").shape == (800, 600)
    assert read_image(tmp_path / "big.png", reduce_to=(300, 300)).shape == (800, 600)


def test_reduced_decoding_keeps_the_resized_picture(tmp_path):
    import torch

    yy, xx = np.mgrid[0:512, 0:512]
    smooth = (127 + 120 * np.sin(xx / 40.0) * np.cos(yy / 55.0)).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "s.png")
    from skmultimodal.data import ImageTransform

    unit = ImageTransform((8, 8), 1, None)  # intensities in [0, 1]
    full = unit(read_image(tmp_path / "s.png"))
    reduced = unit(read_image(tmp_path / "s.png", reduce_to=(8, 8)))
    assert torch.max(torch.abs(full - reduced)) < 0.03


def test_decompression_bomb_names_the_file_and_the_fix(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match=r"bomb\.png' \(row 3\).*MAX_IMAGE_PIXELS"):
        read_image_file(tmp_path / "bomb.png", row=3)


def test_truncated_and_empty_files_name_the_file(tmp_path):
    Image.fromarray(np.zeros((64, 64), np.uint8) + 7).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ("cut.png", "empty.png"):
        with pytest.raises(ValueError, match=rf"Cannot read image file '.*{name}' \(row 'r'\)"):
            read_image_file(tmp_path / name, row="r")
