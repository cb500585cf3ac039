"""Lesion crops (roi, roi_margin) in the image estimators, modalities and fusion."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skmultimodal import (
    ImageClassifier,
    ImageEmbedder,
    ImageModality,
    IntermediateFusionClassifier,
    TabularModality,
)
from skmultimodal.data import CroppedImage
from skmultimodal.modalities import ImageBagModality

CHECKER = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)


def checker_task(n=48, seed=0):
    """64 px grey images; the label is a fine checkerboard inside an 8x8 box.

    Resized whole to 8 px, the checkerboard averages to the grey around it:
    only the crop to the box shows the label.
    """
    rng = np.random.default_rng(seed)
    images, boxes, y = [], [], []
    for i in range(n):
        image = np.full((64, 64), 128, np.uint8)
        x0, y0 = (int(v) * 8 for v in rng.integers(0, 8, 2))
        label = i % 2
        image[y0:y0 + 8, x0:x0 + 8] = CHECKER if label else 128
        images.append(image)
        boxes.append((x0, y0, x0 + 8, y0 + 8))
        y.append(label)
    X = pd.DataFrame({"image": pd.Series(images, dtype=object),
                      "box": pd.Series(boxes, dtype=object),
                      "age": rng.normal(60, 10, n)})
    return X, np.array(y)


def _classifier(**params):
    return ImageClassifier(**dict(dict(
        column="image", backbone="simple_cnn", image_size=8, channels=1, normalize=None,
        max_epochs=4, lr=1e-2, random_state=0, device="cpu"), **params))


def test_params_are_stored_and_cloned():
    clf = ImageClassifier(roi="mask", roi_margin=0.25)
    assert clf.get_params()["roi"] == "mask" and clone(clf).roi_margin == 0.25
    assert ImageClassifier().roi is None and ImageClassifier().roi_margin == 0.1
    assert ImageEmbedder(roi="mask").get_params()["roi"] == "mask"
    modality = ImageModality("image", roi="mask", roi_margin=0.0)
    assert clone(modality).get_params()["roi_margin"] == 0.0


def test_crop_changes_what_the_network_sees():
    X, y = checker_task()
    X_test, y_test = checker_task(seed=1)
    crop = _classifier(roi="box", roi_margin=0.0).fit(X, y)
    whole = _classifier().fit(X.drop(columns=["box", "age"]), y)
    assert crop.modality_.roi == "box"
    assert np.mean(crop.predict(X_test) == y_test) >= 0.9
    assert np.mean(whole.predict(X_test[["image"]]) == y_test) <= 0.7
    # the crop is taken at predict time too: without it the prediction changes
    source = crop.modality_.make_source(crop.modality_.cells_from_frame(X_test)[0])
    assert source[1].std() > 0.4  # the checkerboard itself, not its grey average


def test_column_none_takes_the_other_object_column():
    X, y = checker_task(8)
    clf = _classifier(column=None, roi="box", max_epochs=1).fit(X[["image", "box"]], y)
    assert clf.predict_proba(X[["image", "box"]]).shape == (8, 2)


def test_roi_needs_a_frame_with_the_column():
    X, y = checker_task(8)
    with pytest.raises(KeyError, match=r"\['mask'\] not found"):
        _classifier(roi="mask", max_epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="needs X as a pandas DataFrame"):
        _classifier(roi="box", max_epochs=1).fit(np.stack(X["image"]), y)
    with pytest.raises(ValueError, match="x1 > x0"):
        bad = X.copy()
        bad.at[3, "box"] = (5, 5, 5, 9)
        _classifier(roi="box", max_epochs=1).fit(bad, y)


def test_embedder_embeds_the_crop(tmp_path):
    X, _ = checker_task(6)
    params = dict(column="image", backbone="simple_cnn", image_size=8, channels=1,
                  normalize=None, random_state=0, device="cpu")
    crop = ImageEmbedder(roi="box", roi_margin=0.0, **params).fit(X)
    whole = ImageEmbedder(**params).fit(X[["image"]])
    a, b = crop.transform(X), whole.transform(X[["image"]])
    assert a.shape == b.shape and not np.allclose(a, b)
    cached = ImageEmbedder(roi="box", roi_margin=0.0, memory=tmp_path, **params).fit(X)
    np.testing.assert_allclose(cached.transform(X), a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cached.transform(X), a, rtol=1e-5, atol=1e-6)  # from disk
    wider = ImageEmbedder(roi="box", roi_margin=1.0, memory=tmp_path, **params).fit(X)
    assert not np.allclose(wider.transform(X), a)  # another crop, another cache entry


def test_fusion_with_roi_and_tabular_columns_none():
    X, y = checker_task(16)
    fusion = IntermediateFusionClassifier(
        [("img", ImageModality("image", roi="box", backbone="simple_cnn", image_size=8,
                               channels=1)),
         ("clin", TabularModality())], max_epochs=1, random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fusion.fit(X, y)
    # the box column is no tabular feature
    assert fusion.modalities_["clin"].columns_ == ["age"]
    assert fusion.predict_proba(X).shape == (16, 2)


def test_missing_roi_uses_the_whole_image():
    X, _ = checker_task(3)
    X.at[1, "box"] = None
    cells, _ = ImageModality("image", roi="box", image_size=8).cells_from_frame(X)
    assert isinstance(cells[0], CroppedImage) and cells[1] is X.at[1, "image"]


def test_bags_take_no_roi():
    with pytest.raises(TypeError, match="roi"):
        ImageBagModality("tiles", roi="mask")
    assert "roi" not in ImageBagModality("tiles").get_params()
