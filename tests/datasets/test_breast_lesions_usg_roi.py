"""Lesion crops with the masks shipped with BrEaST-Lesions-USG (needs SKMULTIMODAL_DATA)."""

import numpy as np
import pytest
from PIL import Image

from skmultimodal import ImageClassifier, ImageModality
from skmultimodal.data import CroppedImage, mask_box, read_image
from skmultimodal.datasets import load_breast_lesions_usg
from skmultimodal.inspection import grad_cam, lesion_heat_share


@pytest.fixture(scope="module")
def bunch(data_home):
    return load_breast_lesions_usg(data_home=data_home)


@pytest.mark.real_data
def test_real_crops_hold_the_whole_lesion(bunch):
    data = bunch.data.iloc[::12]  # 21 patients
    modality = ImageModality("image_path", roi="mask_path", roi_margin=0.1, image_size=64)
    cells, rows = modality.cells_from_frame(data)
    assert all(isinstance(c, CroppedImage) for c in cells)
    for cell, mask_path in zip(cells, data["mask_path"]):
        image = read_image(cell.image)
        with Image.open(mask_path) as im:
            mask = np.asarray(im.convert("L")) > 0
        assert mask.shape == image.shape[:2]
        x0, y0, x1, y1 = cell.box(image.shape)
        lx0, ly0, lx1, ly1 = mask_box(mask)
        assert x0 <= lx0 and y0 <= ly0 and lx1 <= x1 and ly1 <= y1
        crop = read_image(cell)
        assert crop.shape[:2] == (y1 - y0, x1 - x0)
        assert crop.size < image.size  # the lesion is smaller than the frame
        # the crop is the lesion's box, 10% wider on each side unless clipped
        assert x0 == max(0, int(np.floor(lx0 - 0.1 * (lx1 - lx0) + 1e-9)))


@pytest.mark.real_data
def test_real_fit_on_crops_and_heat_share(bunch):
    data, y = bunch.data.iloc[:40], bunch.target[:40]
    clf = ImageClassifier(column="image_path", roi="mask_path", backbone="simple_cnn",
                          image_size=32, channels=1, max_epochs=1, random_state=0,
                          device="cpu").fit(data[["image_path", "mask_path"]], y)
    assert clf.predict_proba(data[["image_path", "mask_path"]]).shape == (40, 2)
    rows = data[["image_path", "mask_path"]].iloc[:4]
    result = grad_cam(clf, rows)
    assert all(box is not None for box in result.crop_boxes)
    shares = lesion_heat_share(result, list(rows["mask_path"]))
    assert shares["area_share"].between(0.1, 1.0).all()
    assert shares["heat_share"].dropna().between(0.0, 1.0).all()
