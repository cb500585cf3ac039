"""TabularMLPClassifier: DataFrames, preprocessing inside fit, bad input."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedGroupKFold, cross_validate

from skmultimodal import TabularMLPClassifier

FAST = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=1e-2, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def frame():
    X, y = make_classification(120, n_features=5, n_informative=3, random_state=0)
    df = pd.DataFrame(X, columns=[f"g{i}" for i in range(5)])
    df["grade"] = np.where(y == 1, "high", "low")
    df.loc[::7, "grade"] = "mid"
    df["patient"] = np.arange(120) // 3
    return df, y


def test_dataframe_with_categorical_columns(frame):
    df, y = frame
    clf = TabularMLPClassifier(**FAST).fit(df.drop(columns="patient"), y)
    assert clf.modality_.categorical_columns_ == ["grade"]
    assert clf.modality_.numeric_columns_ == [f"g{i}" for i in range(5)]
    assert list(clf.feature_names_in_) == [f"g{i}" for i in range(5)] + ["grade"]
    assert clf.score(df.drop(columns="patient"), y) > 0.8


def test_columns_select_the_modality(frame):
    df, y = frame
    clf = TabularMLPClassifier(columns=["g0", "g1"], **FAST).fit(df, y)
    assert clf.modality_.n_features_out_ == 2


def test_preprocessing_is_fitted_on_training_rows_only(frame):
    df, y = frame
    clf = TabularMLPClassifier(columns=["g0"], **FAST).fit(df.iloc[:60], y[:60])
    scaler = clf.modality_.preprocessor_.named_transformers_["numeric"][-1]
    np.testing.assert_allclose(scaler.mean_, [df["g0"].iloc[:60].mean()])


def test_grouped_cross_validation(frame):
    df, y = frame
    scores = cross_validate(TabularMLPClassifier(**FAST), df.drop(columns="patient"), y,
                            groups=df["patient"], cv=StratifiedGroupKFold(3),
                            scoring=["accuracy", "roc_auc"])
    assert scores["test_roc_auc"].mean() > 0.8


def test_unknown_category_at_predict_time_is_accepted(frame):
    df, y = frame
    clf = TabularMLPClassifier(**FAST).fit(df.drop(columns="patient"), y)
    new = df.drop(columns="patient").iloc[:3].copy()
    new["grade"] = "unheard-of"
    assert clf.predict_proba(new).shape == (3, 2)


def test_round_trip(tmp_path, frame):
    df, y = frame
    clf = TabularMLPClassifier(**FAST).fit(df, y)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(df),
                                  clf.predict_proba(df))


def test_nan_names_column_and_rows(frame):
    df, y = frame
    bad = df.copy()
    bad.loc[[3, 9], "g2"] = np.nan
    with pytest.raises(ValueError, match=r"NaN\) in column\(s\) \['g2'\] at rows \[3, 9\]"):
        TabularMLPClassifier(**FAST).fit(bad, y)
    clf = TabularMLPClassifier(impute="median", **FAST).fit(bad, y)
    assert np.isfinite(clf.predict_proba(bad)).all()


def test_infinity_is_an_error(frame):
    df, y = frame
    bad = df.copy()
    bad.loc[5, "g1"] = np.inf
    with pytest.raises(ValueError, match=r"Infinite values in column\(s\) \['g1'\] at rows \[5\]"):
        TabularMLPClassifier(impute="median", **FAST).fit(bad, y)


def test_unparseable_strings_are_named(frame):
    df, y = frame
    bad = df.copy()
    bad["age"] = "50"
    bad.loc[4, "age"] = "not available"
    with pytest.raises(ValueError, match=r"Column 'age'.*'not available'.*rows \[4\]"):
        TabularMLPClassifier(**FAST).fit(bad, y)


def test_missing_columns_listed(frame):
    df, y = frame
    with pytest.raises(KeyError, match=r"\['nope'\] not found in X; available columns"):
        TabularMLPClassifier(columns=["g0", "nope"], **FAST).fit(df, y)


def test_feature_count_checked_at_predict(frame):
    X, y = make_classification(60, n_features=4, random_state=0)
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])


def test_single_class(frame):
    df, y = frame
    with pytest.raises(ValueError, match="only one class"):
        TabularMLPClassifier(**FAST).fit(df, np.ones(len(y)))
