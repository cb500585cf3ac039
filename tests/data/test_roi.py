"""Crops of images to their lesion (skmultimodal.data._roi)."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from skmultimodal.data import CroppedImage, ImageSource, ImageTransform, mask_box, read_image
from skmultimodal.data._roi import (
    check_roi_cells,
    crop_box,
    crop_cells,
    expand_box,
    reads_file,
)
from skmultimodal.modalities import ImageModality


def _image(h=20, w=30):
    return np.arange(h * w, dtype=np.int64).reshape(h, w).astype(np.uint16)


def _mask(shape, box):
    x0, y0, x1, y1 = box
    mask = np.zeros(shape, dtype=np.uint8)
    mask[y0:y1, x0:x1] = 255
    return mask


# -- geometry -----------------------------------------------------------------
def test_mask_box_is_the_bounding_box_of_nonzero_pixels():
    mask = np.zeros((10, 12), dtype=bool)
    mask[3, 4] = mask[6, 9] = True
    assert mask_box(mask) == (4, 3, 10, 7)
    assert mask_box(np.zeros((4, 4))) is None


@pytest.mark.parametrize("box, margin, expected", [
    ((10, 20, 30, 60), 0.0, (10, 20, 30, 60)),
    ((10, 20, 30, 60), 0.1, (8, 16, 32, 64)),  # 10% of width 20 and height 40
    ((10, 20, 30, 60), 0.25, (5, 10, 35, 70)),
    ((2, 3, 12, 13), 0.5, (0, 0, 17, 18)),  # clipped at the top-left corner
    ((90, 90, 100, 100), 1.0, (80, 80, 100, 100)),  # clipped at the bottom-right
    ((10.4, 20.6, 29.5, 59.2), 0.0, (10, 20, 30, 60)),  # rounded outwards
])
def test_expand_box(box, margin, expected):
    assert expand_box(box, margin, (100, 100)) == expected


def test_crop_of_a_box_and_of_a_mask_with_margin():
    image = _image()
    crop = CroppedImage(image, (5, 4, 15, 14), margin=0.2).read()
    np.testing.assert_array_equal(crop, image[2:16, 3:17])
    mask = _mask(image.shape, (5, 4, 15, 14))
    np.testing.assert_array_equal(CroppedImage(image, mask, margin=0.2).read(), crop)
    np.testing.assert_array_equal(np.asarray(CroppedImage(image, mask, 0.0)),
                                  image[4:14, 5:15])


def test_crop_keeps_colour_channels():
    image = np.zeros((10, 10, 3), dtype=np.uint8)
    assert CroppedImage(image, (1, 2, 5, 4), margin=0).read().shape == (2, 4, 3)


def test_empty_mask_and_missing_roi_give_the_whole_image():
    image = _image()
    whole = CroppedImage(image, np.zeros(image.shape), margin=0.1).read()
    np.testing.assert_array_equal(whole, image)
    cells = crop_cells([image, image, None], [None, np.nan, (0, 0, 2, 2)], 0.1)
    assert cells[0] is image and cells[1] is image and cells[2] is None


def test_mask_at_another_resolution_is_rescaled():
    image = _image(20, 30)
    small = _mask((10, 15), (2, 2, 6, 5))  # half resolution: the box (4, 4, 12, 10)
    np.testing.assert_array_equal(CroppedImage(image, small, margin=0).read(),
                                  image[4:10, 4:12])


def test_mask_file_and_image_file(tmp_path):
    image = (np.arange(20 * 30) % 251).astype(np.uint8).reshape(20, 30)
    Image.fromarray(image).save(tmp_path / "image.png")
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # opaque everywhere: the alpha channel is no lesion
    rgba[5:9, 10:20, :3] = 255
    Image.fromarray(rgba).save(tmp_path / "mask.png")
    cell = CroppedImage(str(tmp_path / "image.png"), str(tmp_path / "mask.png"), 0.0)
    np.testing.assert_array_equal(read_image(cell), image[5:9, 10:20])
    assert reads_file(cell) and not reads_file(CroppedImage(image, (0, 0, 1, 1)))
    assert crop_box(cell) == ((10, 5, 20, 9), (20, 30))
    assert crop_box(image) == (None, None)
    clone = pickle.loads(pickle.dumps(cell))
    np.testing.assert_array_equal(clone.read(), image[5:9, 10:20])


def test_crop_is_the_same_at_fit_and_predict():
    image = _image()
    box = (3, 2, 17, 11)
    train = ImageSource(crop_cells([image], [box], 0.1),
                        ImageTransform((8, 8), 1, None, augment=None))
    test = ImageSource(crop_cells([image], [box], 0.1),
                       ImageTransform((8, 8), 1, None, augment=None))
    torch.testing.assert_close(train[0], test[0])
    stacked = train.batch([0])
    torch.testing.assert_close(stacked[0], test[0])  # the in-memory fast path
    assert train._stackable


def test_augmentation_comes_after_the_crop():
    image = _image()
    seen = []

    def augment(tensor):
        seen.append(tuple(tensor.shape))
        return tensor

    source = ImageSource(crop_cells([image], [(0, 0, 10, 5)], 0.0),
                         ImageTransform(None, 1, None, augment=augment,
                                        intensity_range=(0, 65535)))
    source[0]
    assert seen == [(1, 5, 10)]


# -- bad input ----------------------------------------------------------------
@pytest.mark.parametrize("box, match", [
    ((5, 2, 5, 8), "x1 > x0"),
    ((1, 9, 5, 3), "y1 > y0"),
    ((1, np.nan, 5, 8), "NaN"),
    ((1, 2, 3), "four numbers"),
    (("a", 2, 3, 4), "four numbers"),
])
def test_bad_boxes_name_the_row_and_column(box, match):
    with pytest.raises(ValueError, match=match) as info:
        check_roi_cells([None, box], row_labels=["a", "case7"], column="box")
    assert "case7" in str(info.value) and "'box'" in str(info.value)


def test_box_outside_the_image_names_the_row_and_file(tmp_path):
    Image.fromarray(np.zeros((20, 30), dtype=np.uint8)).save(tmp_path / "im.png")
    cell = CroppedImage(str(tmp_path / "im.png"), (10, 10, 40, 15), row="case3")
    with pytest.raises(ValueError, match=r"outside the 20x30 image") as info:
        cell.read()
    assert "case3" in str(info.value) and "im.png" in str(info.value)


def test_missing_and_unreadable_mask_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mask file.*gone.png.*row 'r2'"):
        check_roi_cells([str(tmp_path / "gone.png")], row_labels=["r2"])
    (tmp_path / "bad.png").write_bytes(b"not a png")
    cell = CroppedImage(_image(), str(tmp_path / "bad.png"), row="r5")
    with pytest.raises(ValueError, match=r"Cannot read the lesion mask file.*bad.png.*r5"):
        cell.read()


def test_mask_of_another_aspect_ratio_is_an_error():
    cell = CroppedImage(_image(20, 30), _mask((20, 20), (1, 1, 5, 5)), row=4)
    with pytest.raises(ValueError, match=r"20x20 pixels but its image is 20x30"):
        cell.read()


@pytest.mark.parametrize("roi, error, match", [
    (3.5, TypeError, "is a float"),
    ("x", FileNotFoundError, "not found"),
    (np.zeros((2, 2, 2)), ValueError, "expected a numeric 2-D"),
    (np.full((3, 3), np.nan), ValueError, "NaN"),
])
def test_bad_roi_cells(roi, error, match):
    with pytest.raises(error, match=match):
        check_roi_cells([roi], row_labels=[0], column="roi")


def test_modality_errors_name_the_column():
    frame = pd.DataFrame({"image": [_image()]})
    modality = ImageModality("image", roi="mask", image_size=8)
    with pytest.raises(KeyError, match=r"\['mask'\] not found"):
        modality.cells_from_frame(frame)
    with pytest.raises(ValueError, match="names the image column"):
        ImageModality("image", roi="image").check_params()
    with pytest.raises(ValueError, match="fixed image_size"):
        ImageModality("image", roi="mask", image_size=None).check_params()
    with pytest.raises(ValueError, match="roi_margin"):
        ImageModality("image", roi="mask", roi_margin=-0.1).check_params()
