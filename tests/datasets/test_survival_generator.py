"""Tests of make_multimodal_survival."""
import numpy as np
import pytest
from sksurv.metrics import concordance_index_censored

from skmultimodal.datasets import make_multimodal_survival
from skmultimodal.datasets._synthetic import _blob_profiles, _tabular_mixing


def _cindex(y, score):
    return concordance_index_censored(y["event"], y["time"], score)[0]


def _modality_scores(X, n_informative=3):
    """Per-row readings of z_img (blob intensity) and z_tab (informative columns)."""
    images = np.stack(X["image"].to_list())
    image_size = images.shape[1]
    blob = _blob_profiles(image_size, 1)[0] >= np.exp(-2.0)
    loadings = _tabular_mixing(1, n_informative)[0]
    tab = X[[f"tab_{i}" for i in range(n_informative)]].to_numpy()
    return images[:, blob].mean(axis=1), tab @ loadings / (loadings @ loadings)


def _fits(target, *columns, tol=0.01):
    """Share of the rows a least-squares fit on ``columns`` predicts within ``tol``."""
    design = np.column_stack([*columns, np.ones_like(target)])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return np.mean(np.abs(design @ coef - target) < tol)


def test_layout_and_types():
    X, y = make_multimodal_survival(50, image_size=12, n_features=5, random_state=0)
    assert list(X.columns) == ["patient_id", "image", *[f"tab_{i}" for i in range(5)]]
    assert X["patient_id"].tolist() == list(range(50))
    assert X["image"].dtype == object
    image = X["image"].iloc[0]
    assert image.shape == (12, 12) and image.dtype == np.float32
    images = np.stack(X["image"].to_list())
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert (X.dtypes.iloc[2:] == np.float64).all()
    assert y.dtype.names == ("event", "time") and y.shape == (50,)
    assert y.dtype["event"] == np.bool_ and y.dtype["time"] == np.float64
    assert (y["time"] > 0).all() and np.isfinite(y["time"]).all()


def test_true_risk_ranks_the_rows():
    X, y, risk = make_multimodal_survival(600, return_risk=True, random_state=0)
    assert risk.shape == (600,)
    c_true = _cindex(y, risk)
    assert c_true > 0.72  # measured 0.79 on average over seeds
    assert _cindex(y, -risk) < 0.3  # a higher risk is an earlier event


def test_each_modality_alone_is_weaker_than_both():
    # noise=0: the latents are read exactly from the image and the table
    X, y, risk = make_multimodal_survival(
        800, noise=0.0, return_risk=True, random_state=1
    )
    s_img, s_tab = _modality_scores(X)
    # the log hazard is z_img + z_tab: a linear function of the two readings
    assert _fits(risk, s_img, s_tab) > 0.99  # a clipped blob may miss
    c_both, c_img, c_tab = _cindex(y, risk), _cindex(y, s_img), _cindex(y, s_tab)
    assert c_img > 0.6 and c_tab > 0.6
    assert c_both > max(c_img, c_tab) + 0.05
    # with the default noise, the observed readings alone are weaker still
    X, y, risk = make_multimodal_survival(800, return_risk=True, random_state=2)
    s_img, s_tab = _modality_scores(X)
    c_both = _cindex(y, risk)
    assert max(_cindex(y, s_img), _cindex(y, s_tab)) < c_both - 0.05
    z = (s_img - s_img.mean()) / s_img.std() + (s_tab - s_tab.mean()) / s_tab.std()
    assert _cindex(y, z) > max(_cindex(y, s_img), _cindex(y, s_tab))


def test_effects_and_interaction():
    X, y, risk = make_multimodal_survival(
        800, image_effect=0.0, noise=0.0, return_risk=True, random_state=3
    )
    s_img, s_tab = _modality_scores(X)
    assert abs(_cindex(y, s_img) - 0.5) < 0.05  # the image carries no risk
    assert np.allclose(risk, s_tab)  # z_tab itself, the loadings removed
    X, y, risk = make_multimodal_survival(
        800, interaction=1.0, noise=0.0, return_risk=True, random_state=3
    )
    s_img, s_tab = _modality_scores(X)
    assert _fits(risk, s_img, s_tab) < 0.5  # not additive
    assert _fits(risk, s_img, s_tab, s_img * s_tab) > 0.99


@pytest.mark.parametrize("censoring", [0.0, 0.3, 0.6])
def test_censoring_share_near_target(censoring):
    _, y = make_multimodal_survival(3000, censoring=censoring, random_state=4)
    share = 1.0 - y["event"].mean()
    assert abs(share - censoring) < 0.03
    if censoring == 0.0:
        assert y["event"].all()


@pytest.mark.parametrize("weibull_shape", [0.5, 1.0, 2.0])
def test_weibull_baseline(weibull_shape):
    _, y = make_multimodal_survival(
        4000, image_effect=0.0, tabular_effect=0.0, censoring=0.0,
        weibull_shape=weibull_shape, time_scale=10.0, random_state=5,
    )
    expected = 10.0 * np.log(2.0) ** (1.0 / weibull_shape)
    assert np.median(y["time"]) == pytest.approx(expected, rel=0.1)


def test_reproducible():
    X1, y1, r1 = make_multimodal_survival(40, return_risk=True, random_state=7)
    X2, y2, r2 = make_multimodal_survival(
        40, return_risk=True, random_state=np.random.RandomState(7)
    )
    assert np.array_equal(y1, y2) and np.array_equal(r1, r2)
    assert all(np.array_equal(a, b) for a, b in zip(X1["image"], X2["image"]))
    assert X1.drop(columns="image").equals(X2.drop(columns="image"))
    _, y3 = make_multimodal_survival(40, random_state=8)
    assert not np.array_equal(y1, y3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 1}, "n_samples must be >= 2"),
        ({"n_samples": 10.5}, "n_samples must be an int"),
        ({"image_size": 3}, "image_size must be >= 4"),
        ({"n_features": 0}, "n_features must be >= 1"),
        ({"n_informative": 11}, "n_informative must be <= 10"),
        ({"n_informative": 0}, "n_informative must be >= 1"),
        ({"censoring": 1.0}, r"censoring must be in \[0.0, 1.0\)"),
        ({"censoring": -0.1}, "censoring must be in"),
        ({"censoring": "high"}, "censoring must be a real number"),
        ({"noise": -1.0}, "noise must be in"),
        ({"weibull_shape": 0.0}, "weibull_shape must be in"),
        ({"time_scale": -2.0}, "time_scale must be in"),
        ({"image_effect": np.inf}, "image_effect must be finite"),
        ({"interaction": None}, "interaction must be a real number"),
        ({"return_risk": 1}, "return_risk must be a bool"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_survival(**kwargs)
