"""Share of the Grad-CAM heat inside the lesion (lesion_heat_share) and its figures."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from skmultimodal import ImageClassifier
from skmultimodal.inspection import (
    ImageExplanationDisplay,
    grad_cam,
    lesion_heat_share,
    plot_image_explanations,
)

matplotlib.use("Agg")


def _mask(shape, box):
    x0, y0, x1, y1 = box
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_all_heat_inside_and_uniform_heat():
    mask = _mask((10, 20), (0, 0, 5, 10))  # a quarter of the image
    inside = mask * 0.7
    shares = lesion_heat_share([inside, np.ones((10, 20)), (~mask) * 1.0], [mask] * 3)
    np.testing.assert_allclose(shares["heat_share"], [1.0, 0.25, 0.0])
    np.testing.assert_allclose(shares["area_share"], 0.25)
    np.testing.assert_allclose(shares["ratio"], [4.0, 1.0, 0.0])


def test_undefined_shares_are_nan():
    mask = _mask((4, 4), (0, 0, 2, 2))
    shares = lesion_heat_share([np.zeros((4, 4)), np.ones((4, 4)), np.ones((4, 4))],
                               [mask, np.zeros((4, 4)), None])
    assert np.isnan(shares["heat_share"].iloc[0])  # no heat at all
    assert shares["heat_share"].iloc[1] == 0 and np.isnan(shares["ratio"].iloc[1])
    assert shares.iloc[2].isna().all()  # no mask


def test_mask_at_another_resolution_and_bad_input():
    heat = np.zeros((20, 20))
    heat[:10] = 1.0
    small = _mask((10, 10), (0, 0, 10, 5))
    assert lesion_heat_share([heat], [small])["heat_share"].iloc[0] == 1.0
    with pytest.raises(ValueError, match="masks has 2 entries for 1"):
        lesion_heat_share([heat], [small, small])
    with pytest.raises(ValueError, match="negative"):
        lesion_heat_share([-heat], [small])
    with pytest.raises(ValueError, match="aspect ratios differ"):
        lesion_heat_share([heat], [np.ones((10, 20))])


def _frame(n=8, seed=0):
    rng = np.random.default_rng(seed)
    images, boxes, masks = [], [], []
    for _ in range(n):
        image = rng.integers(0, 255, (32, 32)).astype(np.uint8)
        x0, y0 = (int(v) for v in rng.integers(0, 16, 2))
        box = (x0, y0, x0 + 12, y0 + 10)
        images.append(image)
        boxes.append(box)
        masks.append(_mask((32, 32), box))
    X = pd.DataFrame({"image": pd.Series(images, dtype=object),
                      "mask": pd.Series(masks, dtype=object)})
    return X, np.arange(n) % 2, boxes, masks


def test_grad_cam_of_a_crop_model_is_in_the_cropped_frame():
    X, y, boxes, masks = _frame()
    clf = ImageClassifier(column="image", roi="mask", roi_margin=0.0, backbone="simple_cnn",
                          image_size=16, max_epochs=1, random_state=0,
                          device="cpu").fit(X, y)
    result = grad_cam(clf, X.iloc[:3])
    assert result.crop_boxes == boxes[:3]
    assert result.original_shapes == [(32, 32)] * 3
    assert [h.shape for h in result.heatmaps] == [(10, 12)] * 3
    # the mask cropped as the image: it covers the whole crop
    shares = lesion_heat_share(result, masks[:3])
    np.testing.assert_allclose(shares["area_share"], 1.0)
    np.testing.assert_allclose(shares["heat_share"][~result.flat], 1.0)

    whole = ImageClassifier(column="image", backbone="simple_cnn", image_size=16,
                            max_epochs=1, random_state=0, device="cpu").fit(X[["image"]], y)
    result = grad_cam(whole, X[["image"]].iloc[:3])
    assert result.crop_boxes == [None] * 3
    shares = lesion_heat_share(result, masks[:3])
    np.testing.assert_allclose(shares["area_share"], 120 / 1024)


def test_figures_outline_the_lesion_and_give_the_share(tmp_path):
    heat = np.zeros((10, 10))
    heat[:5] = 1.0
    mask = _mask((10, 10), (0, 0, 10, 5))
    result = {"heatmaps": [heat, heat], "images": [np.zeros((10, 10))] * 2,
              "rows": ["a", "b"], "flat": np.array([False, False])}
    fig = plot_image_explanations(result, masks=[mask, None], path=tmp_path / "f.png")
    titles = [ax.get_title() for ax in fig.axes[:2]]
    assert "lesion heat 100% (2.0x uniform)" in titles[0]
    assert "lesion heat" not in titles[1]
    assert (tmp_path / "f.png").is_file()
    display = ImageExplanationDisplay.from_result(result, masks=[mask, mask]).plot()
    np.testing.assert_allclose(display.heat_shares_["ratio"], 2.0)
    assert display.axes_[0].collections  # the outline of the lesion
    with pytest.raises(ValueError, match="masks has 1 entries for 2"):
        ImageExplanationDisplay([heat, heat], [heat, heat], masks=[mask])
