"""Reading image cells: files of each format, arrays, and clear errors."""

import numpy as np
import pytest
from PIL import Image

from skmultimodal.data import check_image_array, is_missing, read_image, read_image_file


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
