"""Tests of make_bag_classification."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.datasets import make_bag_classification


def _cv_accuracy(feature, y):
    model = make_pipeline(StandardScaler(), LogisticRegression())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(model, np.asarray(feature, float)[:, None], y, cv=cv).mean()


def test_shapes_dtypes_and_names():
    X, y = make_bag_classification(
        30, min_instances=3, max_instances=6, image_size=8, n_tabular=4, random_state=0
    )
    assert isinstance(X, pd.DataFrame)
    assert list(X.columns) == ["bag", "tab_0", "tab_1", "tab_2", "tab_3", "patient_id"]
    assert X["bag"].dtype == object
    assert X.index.equals(pd.RangeIndex(30))
    for bag in X["bag"]:
        assert isinstance(bag, list) and 3 <= len(bag) <= 6
        assert all(im.shape == (8, 8) and im.dtype == np.uint8 for im in bag)
    assert (X.dtypes.iloc[1:5] == np.float64).all()
    assert X["patient_id"].dtype == np.int64
    assert X["patient_id"].tolist() == list(range(30))  # one patient per row
    assert isinstance(y, np.ndarray) and y.dtype == np.int64 and y.shape == (30,)
    assert np.bincount(y).tolist() == [15, 15]


def test_bag_lengths_cover_the_range_independently_of_the_label():
    X, y = make_bag_classification(
        400, min_instances=2, max_instances=5, image_size=4, random_state=1
    )
    lengths = X["bag"].map(len).to_numpy()
    assert set(lengths) == {2, 3, 4, 5}
    assert abs(lengths[y == 1].mean() - lengths[y == 0].mean()) < 0.3
    X, _ = make_bag_classification(
        10, min_instances=3, max_instances=3, n_key_instances=3, image_size=4,
        random_state=0,
    )
    assert set(X["bag"].map(len)) == {3}


def test_no_tabular_columns():
    X, _ = make_bag_classification(
        6, n_tabular=0, n_informative=0, image_size=4, random_state=0
    )
    assert list(X.columns) == ["bag", "patient_id"]


def test_deterministic_for_int_seed():
    kwargs = dict(n_samples=20, image_size=6, n_patients=5, missing_rate=0.2,
                  random_state=3, return_key_instances=True)
    X1, y1, k1 = make_bag_classification(**kwargs)
    X2, y2, k2 = make_bag_classification(**kwargs)
    np.testing.assert_array_equal(y1, y2)
    pd.testing.assert_frame_equal(X1.drop(columns="bag"), X2.drop(columns="bag"))
    for a, b in zip(X1["bag"], X2["bag"]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(np.stack(a), np.stack(b))
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(k1, k2))
    X3, y3 = make_bag_classification(20, image_size=6, random_state=4)
    assert not np.array_equal(np.stack(X1["bag"].dropna().iloc[0][:3]),
                              np.stack(X3["bag"].iloc[0][:3]))
    rng = np.random.RandomState(0)
    make_bag_classification(5, image_size=4, random_state=rng)  # a RandomState is used


def test_key_instances_are_where_the_pattern_is():
    X, y, keys = make_bag_classification(
        60, image_size=12, n_key_instances=(1, 3), min_instances=4, max_instances=8,
        random_state=0, return_key_instances=True,
    )
    assert len(keys) == 60
    key_max, other_max = [], []
    for bag, key, label in zip(X["bag"], keys, y):
        assert key.dtype.kind == "i" and np.all(np.diff(key) > 0)
        if label:
            assert 1 <= len(key) <= 3 and key.max() < len(bag)
        else:
            assert len(key) == 0
        for i, image in enumerate(bag):
            (key_max if i in key else other_max).append(int(image.max()))
    # a bright blob on the key instances only
    assert min(key_max) > np.percentile(other_max, 99)
    assert np.median(key_max) - np.median(other_max) > 80
    # positive bags: key positions vary
    assert len({int(k[0]) for k, label in zip(keys, y) if label}) > 2


def test_key_blob_is_localised():
    X, y, keys = make_bag_classification(
        20, image_size=24, n_key_instances=1, noise=0.0, random_state=2,
        return_key_instances=True,
    )
    for bag, key, label in zip(X["bag"], keys, y):
        if label:
            image = bag[key[0]].astype(float)
            bright = image > image.max() - 40
            assert bright.mean() < 0.1  # a few pixels, not the whole instance


def test_missing_rate():
    X, y, keys = make_bag_classification(
        40, image_size=4, missing_rate=0.25, random_state=0, return_key_instances=True
    )
    missing = X["bag"].isna().to_numpy()
    assert missing.sum() == 10
    assert all(k is None for k, m in zip(keys, missing) if m)
    assert not X.drop(columns="bag").isna().any().any()
    assert set(y[missing]) == {0, 1} or missing.sum() < 2


def test_patients():
    X, _ = make_bag_classification(30, image_size=4, n_patients=7, random_state=0)
    assert sorted(set(X["patient_id"])) == list(range(7))
    assert list(X.columns)[-1] == "patient_id"


def test_max_pooling_beats_mean_pooling():
    X, y = make_bag_classification(200, image_size=12, random_state=0)
    bag_max = [max(int(im.max()) for im in bag) for bag in X["bag"]]
    bag_mean = [np.mean([im.mean() for im in bag]) for bag in X["bag"]]
    assert _cv_accuracy(bag_max, y) > 0.95
    assert _cv_accuracy(bag_mean, y) < 0.7


def test_tabular_is_weakly_informative():
    X, y = make_bag_classification(
        2000, image_size=4, min_instances=1, max_instances=1, n_key_instances=1,
        n_tabular=4, n_informative=2, random_state=0,
    )
    diff = X[y == 1].iloc[:, 1:5].mean() - X[y == 0].iloc[:, 1:5].mean()
    assert diff.iloc[:2].between(0.3, 0.7).all()
    assert diff.iloc[2:].abs().lt(0.2).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 1}, "n_samples must be >= 2"),
        ({"min_instances": 0}, "min_instances must be >= 1"),
        ({"min_instances": 9, "max_instances": 4}, "min_instances must be <= max"),
        ({"n_key_instances": 0}, "1 <= low <= high"),
        ({"n_key_instances": (2, 1)}, "1 <= low <= high"),
        ({"n_key_instances": (1, 9)}, "more than min_instances=8"),
        ({"n_key_instances": (1, 2, 3)}, "an int or a pair"),
        ({"n_key_instances": (1.0, 2)}, r"n_key_instances\[0\] must be an int"),
        ({"image_size": 3}, "image_size must be >= 4"),
        ({"n_tabular": -1}, "n_tabular must be >= 0"),
        ({"n_informative": 6}, "n_informative must be <= n_tabular"),
        ({"class_sep": 0.0}, "class_sep must be in"),
        ({"noise": -1.0}, "noise must be in"),
        ({"missing_rate": 1.0}, "missing_rate must be in"),
        ({"n_patients": 0}, "n_patients must be >= 1"),
        ({"n_patients": 500}, "n_patients must be <= 200"),
        ({"return_key_instances": 1}, "return_key_instances must be a bool"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_bag_classification(**kwargs)
