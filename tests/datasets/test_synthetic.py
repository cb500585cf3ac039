"""Tests of make_multimodal_classification and signal_mask."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.datasets import make_multimodal_classification, signal_mask


def _tabular(X):
    return X[[c for c in X.columns if c.startswith("tab_")]].to_numpy()


def _blob_means(X, image_size, n_classes):
    """Mean grey level of each blob region, read off the images."""
    images = np.stack(X["image"].to_list()).astype(float)
    masks = signal_mask(image_size, n_classes, per_component=True)
    return np.stack([images[:, mask].mean(axis=1) for mask in masks], axis=1)


def _cv_accuracy(features, y):
    model = make_pipeline(StandardScaler(), LogisticRegression())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(model, features, y, cv=cv).mean()


@pytest.mark.parametrize(
    "n_channels, shape", [(1, (16, 16)), (3, (16, 16, 3)), (4, (16, 16, 4))]
)
def test_shapes_dtypes_and_names(n_channels, shape):
    X, y = make_multimodal_classification(
        50, image_size=16, n_channels=n_channels, n_features=6, random_state=0
    )
    assert isinstance(X, pd.DataFrame)
    assert list(X.columns) == ["image"] + [f"tab_{i}" for i in range(6)]
    assert X["image"].dtype == object
    assert all(cell.shape == shape and cell.dtype == np.uint8 for cell in X["image"])
    assert (X.dtypes.iloc[1:] == np.float64).all()
    assert isinstance(y, np.ndarray) and y.dtype.kind == "i" and y.shape == (50,)
    assert set(y) == {0, 1}
    assert X.index.equals(pd.RangeIndex(50))


def test_colour_channels():
    X, _ = make_multimodal_classification(20, n_channels=4, random_state=0)
    images = np.stack(X["image"].to_list())
    assert (images[..., 3] == 255).all()
    rgb = images[..., :3].astype(float)
    # same blobs in every channel, independent noise per channel
    assert not np.array_equal(rgb[..., 0], rgb[..., 1])
    assert np.corrcoef(rgb[..., 0].ravel(), rgb[..., 1].ravel())[0, 1] > 0.8


def test_deterministic_for_int_seed():
    kwargs = dict(n_samples=60, n_patients=20, missing_rate=0.2, random_state=7)
    X1, y1 = make_multimodal_classification(**kwargs)
    X2, y2 = make_multimodal_classification(**kwargs)
    assert np.array_equal(y1, y2)
    pd.testing.assert_frame_equal(X1.drop(columns="image"), X2.drop(columns="image"))
    for a, b in zip(X1["image"], X2["image"]):
        assert (a is None and b is None) or np.array_equal(a, b)


def test_different_seeds_differ():
    X1, y1 = make_multimodal_classification(60, random_state=0)
    X2, y2 = make_multimodal_classification(60, random_state=1)
    assert not np.allclose(_tabular(X1), _tabular(X2))
    assert not np.array_equal(X1["image"].iloc[0], X2["image"].iloc[0])


def test_several_classes_balanced_and_learnable():
    X, y = make_multimodal_classification(
        800, n_classes=4, n_informative=6, random_state=0
    )
    counts = np.bincount(y)
    assert len(counts) == 4 and counts.min() > 150
    features = np.hstack([_tabular(X), _blob_means(X, 32, 4)])
    assert _cv_accuracy(features, y) > 0.7  # chance is 0.25


@pytest.mark.parametrize(
    "missing_rate, n_image, n_tab",
    [
        (0.2, 40, 40),
        ({"image": 0.3}, 60, 0),
        ({"image": 0.1, "tabular": 0.45}, 20, 90),
        (0.5, 100, 100),
    ],
)
def test_missing_rates(missing_rate, n_image, n_tab):
    X, _ = make_multimodal_classification(
        200, missing_rate=missing_rate, random_state=0
    )
    image_missing = X["image"].isna().to_numpy()
    tab = _tabular(X)
    tab_missing = np.isnan(tab).all(axis=1)
    assert image_missing.sum() == n_image and tab_missing.sum() == n_tab
    # a tabular row is either complete or all NaN
    assert np.array_equal(np.isnan(tab).any(axis=1), tab_missing)
    assert not (image_missing & tab_missing).any()
    assert all(isinstance(c, np.ndarray) for c in X["image"][~image_missing])


@pytest.mark.parametrize(
    "missing_rate, match",
    [
        (1.0, r"missing_rate\['image'\] must be in \[0.0, 1.0\)"),
        (-0.1, "must be in"),
        ({"image": 0.6, "tabular": 0.6}, "add up to at most 1"),
        ({"text": 0.1}, "keys must be among"),
        ("high", "must be a real number"),
    ],
)
def test_invalid_missing_rate(missing_rate, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_classification(40, missing_rate=missing_rate)


def test_patients():
    X, y = make_multimodal_classification(
        300, n_patients=40, shuffle=False, random_state=0
    )
    assert X.columns[0] == "patient_id"
    assert X["patient_id"].dtype == np.int64
    ids = X["patient_id"].to_numpy()
    assert sorted(np.unique(ids)) == list(range(40))
    assert np.all(np.diff(ids) >= 0)  # unshuffled: patients contiguous
    # patients tend to share their label
    same = ids[:, None] == ids[None, :]
    np.fill_diagonal(same, False)
    agree = y[:, None] == y[None, :]
    assert agree[same].mean() > 0.75
    assert abs(agree[~same].mean() - 0.5) < 0.05


def test_patients_make_random_splits_leak():
    X, y = make_multimodal_classification(600, n_patients=60, random_state=0)
    tab, groups = _tabular(X), X["patient_id"].to_numpy()
    knn = KNeighborsClassifier(5)
    random_cv = KFold(5, shuffle=True, random_state=0)
    random_split = cross_val_score(knn, tab, y, cv=random_cv)
    grouped = cross_val_score(knn, tab, y, cv=GroupKFold(5), groups=groups)
    assert random_split.mean() > grouped.mean() + 0.03


def test_every_patient_has_a_sample():
    X, _ = make_multimodal_classification(10, n_patients=10, random_state=0)
    assert sorted(X["patient_id"]) == list(range(10))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 3}, "n_samples must be >= 4"),
        ({"n_samples": 10, "n_classes": 6}, "n_samples must be >= 12"),
        ({"n_classes": 1}, "n_classes must be >= 2"),
        ({"image_size": 3}, "image_size must be >= 4"),
        ({"n_channels": 2}, "n_channels must be 1"),
        ({"n_features": 0}, "n_features must be >= 1"),
        ({"n_informative": 0}, "n_informative must be >= 1"),
        ({"n_informative": 11}, "n_informative must be <= 10"),
        ({"image_share": 1.5}, "image_share must be in"),
        ({"class_sep": 0.0}, "class_sep must be in"),
        ({"noise": -1.0}, "noise must be in"),
        ({"n_patients": 0}, "n_patients must be >= 1"),
        ({"n_patients": 201}, "n_patients must be <= 200"),
        ({"n_samples": 20.0}, "n_samples must be an int"),
        ({"shuffle": "yes"}, "shuffle must be a bool"),
        ({"interaction": 1}, "interaction must be a bool"),
        ({"interaction": True, "n_classes": 3}, "n_classes must be 2"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_classification(**kwargs)


@pytest.mark.parametrize("n_classes", [2, 3, 4, 5, 9])
def test_signal_mask_layout(n_classes):
    masks = signal_mask(32, n_classes, per_component=True)
    assert masks.shape == (n_classes, 32, 32) and masks.dtype == bool
    assert np.array_equal(masks.any(axis=0), signal_mask(32, n_classes))
    assert (masks.sum(axis=(1, 2)) > 0).all()
    assert (masks.sum(axis=0) <= 1).all()  # blobs do not overlap
    union = masks.any(axis=0)
    border = np.concatenate([union[0], union[-1], union[:, 0], union[:, -1]])
    assert not border.any()
    assert 0.05 < union.mean() < 0.5


def test_signal_mask_is_where_the_blobs_are():
    X, _ = make_multimodal_classification(200, noise=0.0, random_state=0)
    images = np.stack(X["image"].to_list()).astype(float)
    mask = signal_mask(32, 2)
    # grey levels vary across samples in the blobs, are flat background elsewhere
    spread = images.std(axis=0)
    assert spread[mask].min() > 4 * spread[~mask].mean()


def test_signal_is_split_between_modalities():
    X, y = make_multimodal_classification(600, image_share=0.5, random_state=0)
    tab, blobs = _tabular(X), _blob_means(X, 32, 2)
    acc_tab = _cv_accuracy(tab, y)
    acc_image = _cv_accuracy(blobs, y)
    acc_both = _cv_accuracy(np.hstack([tab, blobs]), y)
    assert 0.65 < acc_tab < 0.85 and 0.65 < acc_image < 0.85
    assert acc_both >= 0.88
    assert acc_both >= acc_tab + 0.08 and acc_both >= acc_image + 0.08


@pytest.mark.parametrize("image_share", [1.0, 0.0])
def test_image_share_extremes(image_share):
    X, y = make_multimodal_classification(600, image_share=image_share, random_state=0)
    acc_tab = _cv_accuracy(_tabular(X), y)
    acc_image = _cv_accuracy(_blob_means(X, 32, 2), y)
    if image_share == 1.0:
        informative, chance = acc_image, acc_tab
    else:
        informative, chance = acc_tab, acc_image
    assert chance < 0.6
    assert informative > 0.85


def _tabular_latents(X, n_features=10, n_informative=4, n_classes=2):
    """Least-squares estimate of ``z_tab`` from the informative columns."""
    from skmultimodal.datasets._synthetic import _tabular_mixing

    informative = _tabular(X)[:, :n_informative]
    return informative @ np.linalg.pinv(_tabular_mixing(n_classes, n_informative))


def test_interaction_draws_the_same_rows():
    # Only the labels change: the images and the table are those of interaction=False.
    X0, y0 = make_multimodal_classification(120, n_patients=30, random_state=3)
    X1, y1 = make_multimodal_classification(120, n_patients=30, interaction=True,
                                            random_state=3)
    pd.testing.assert_frame_equal(X0.drop(columns="image"), X1.drop(columns="image"))
    assert all(np.array_equal(a, b) for a, b in zip(X0["image"], X1["image"]))
    assert not np.array_equal(y0, y1)
    X2, y2 = make_multimodal_classification(120, n_patients=30, interaction=False,
                                            random_state=3)
    np.testing.assert_array_equal(y0, y2)


def test_interaction_needs_both_modalities():
    # little noise, so that the latents can be read off almost exactly
    X, y = make_multimodal_classification(1000, interaction=True, noise=0.1,
                                          random_state=0)
    assert 0.45 < y.mean() < 0.55
    tab, blobs = _tabular(X), _blob_means(X, 32, 2)
    # either modality alone, even with a non-linear model, is at chance
    for alone in (tab, blobs):
        assert abs(_cv_accuracy(alone, y) - 0.5) < 0.06
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(15))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    assert abs(cross_val_score(knn, blobs, y, cv=cv).mean() - 0.5) < 0.06
    # both modalities summed are at chance too: the signal is their product
    assert abs(_cv_accuracy(np.hstack([tab, blobs]), y) - 0.5) < 0.06
    # a linear model given the two latents and their product is close to 1
    # (about 0.86 at the default noise=0.5)
    z_img = StandardScaler().fit_transform(blobs[:, :1])
    z_tab = StandardScaler().fit_transform(_tabular_latents(X)[:, :1])
    assert _cv_accuracy(np.hstack([z_img, z_tab, z_img * z_tab]), y) >= 0.93
