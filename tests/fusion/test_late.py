"""LateFusionClassifier: per-modality estimators, voting and stacking."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from skmultimodal import ImageClassifier
from skmultimodal.fusion import LateFusionClassifier

from . import FAST, IMAGE_SIZE, TAB, make_data


@pytest.fixture(scope="module")
def data():
    return make_data(80, missing_rate=0.15)


def _image():
    return ImageClassifier("image", backbone="simple_cnn", image_size=IMAGE_SIZE, channels=1,
                           **FAST)


def _xgb():
    return XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1, random_state=0)


class RowCounter(ClassifierMixin, BaseEstimator):
    """Predicts the class frequencies and records the rows it saw."""

    def fit(self, X, y):
        self.n_rows_ = len(X)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.zeros(len(X), int)]


@pytest.mark.parametrize("voting", ["soft", "weighted", "stacking"])
def test_xgboost_on_ehr_and_cnn_on_images(data, voting):
    X, y = data
    clf = LateFusionClassifier(
        [("ehr", _xgb(), TAB), ("img", _image(), ["image"])], voting=voting,
        voting_weights=[2, 1] if voting == "weighted" else None, cv=3, random_state=0,
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert list(clf.named_estimators_) == ["ehr", "img"]
    assert isinstance(clf.named_estimators_["img"], ImageClassifier)
    if voting == "stacking":
        # two probability columns and one presence flag per modality
        assert clf.final_estimator_.n_features_in_ == 6


def test_each_estimator_sees_only_rows_where_its_modality_is_present(data):
    X, y = data
    clf = LateFusionClassifier([("ehr", RowCounter(), TAB),
                                ("img", RowCounter(), "image")]).fit(X, y)
    assert clf.named_estimators_["ehr"].n_rows_ == (~X[TAB].isna().all(axis=1)).sum()
    assert clf.named_estimators_["img"].n_rows_ == X["image"].notna().sum()


def test_soft_voting_averages_present_modalities(data):
    X, y = data
    ehr, img = LogisticRegression(), DecisionTreeClassifier(max_depth=2, random_state=0)
    X = X.assign(brightness=[np.nan if im is None else im.mean() for im in X["image"]])
    clf = LateFusionClassifier([("ehr", ehr, TAB), ("img", img, ["brightness"])],
                               voting_weights=[3, 1]).fit(X, y)
    proba = clf.predict_proba(X)
    ehr_missing = X[TAB].isna().all(axis=1).to_numpy()
    img_missing = X["image"].isna().to_numpy()
    both = ~ehr_missing & ~img_missing
    p_ehr = clf.named_estimators_["ehr"].predict_proba(X.loc[~ehr_missing, TAB])
    p_img = clf.named_estimators_["img"].predict_proba(X.loc[~img_missing, ["brightness"]])
    np.testing.assert_allclose(proba[img_missing], p_ehr[img_missing[~ehr_missing]])
    np.testing.assert_allclose(proba[ehr_missing], p_img[ehr_missing[~img_missing]])
    expected = (3 * p_ehr[both[~ehr_missing]] + p_img[both[~img_missing]]) / 4
    np.testing.assert_allclose(proba[both], expected)


def test_stacking_uses_out_of_fold_probabilities():
    # A 1-nearest-neighbour-like tree fits its training rows perfectly: in-sample
    # probabilities would be all 0/1 and useless, out-of-fold ones are not.
    X, y = make_data(80)
    clf = LateFusionClassifier(
        [("ehr", DecisionTreeClassifier(random_state=0), TAB),
         ("lr", LogisticRegression(), TAB)],
        voting="stacking", cv=4,
    ).fit(X, y)
    coef = clf.final_estimator_.coef_.ravel()
    # columns: tree P(0), P(1), present, lr P(0), P(1), present
    assert abs(coef[4]) > abs(coef[1])  # the honest LR counts more than the overfit tree


def test_nested_params_and_grid_search():
    X, y = make_data(60)
    clf = LateFusionClassifier([("ehr", _xgb(), TAB), ("lr", LogisticRegression(), TAB[:4])])
    params = clf.get_params()
    assert params["ehr__max_depth"] == 2 and "lr__C" in params
    clf.set_params(ehr__max_depth=3, voting="stacking", cv=3)
    assert clf.modalities[0][1].max_depth == 3 and clf.modalities[0][2] == TAB
    clf.set_params(lr=DecisionTreeClassifier())
    assert isinstance(clf.modalities[1][1], DecisionTreeClassifier)
    assert clf.modalities[1][2] == TAB[:4]
    grid = GridSearchCV(clf, {"ehr__max_depth": [1, 2], "voting": ["soft", "stacking"]},
                        cv=2).fit(X, y)
    assert set(grid.best_params_) == {"ehr__max_depth", "voting"}


def test_validation_errors(data):
    X, y = data
    lr = LogisticRegression()
    cases = [
        (dict(modalities=[("a", lr, TAB), ("a", lr, TAB)]), ValueError, "not unique"),
        (dict(modalities=[("a__b", lr, TAB)]), ValueError, "__"),
        (dict(modalities=[("cv", lr, TAB)]), ValueError, "conflict with constructor"),
        (dict(modalities=[("a", lr)]), TypeError, "columns"),
        (dict(modalities=[("a", LogisticRegression, TAB)]), TypeError, "instance"),
        (dict(modalities=[("a", lr, TAB)], voting="hard"), ValueError, "voting"),
        (dict(modalities=[("a", lr, TAB)], voting="weighted"), ValueError, "voting_weights"),
        (dict(modalities=[("a", lr, TAB)], voting_weights=[1, 2]), ValueError, "voting_weights"),
        (dict(modalities=[("a", lr, ["nope"])]), KeyError, "available columns"),
    ]
    for params, error, match in cases:
        with pytest.raises(error, match=match):
            LateFusionClassifier(**params).fit(X, y)
    with pytest.raises(TypeError, match="DataFrame"):
        LateFusionClassifier([("a", lr, TAB)]).fit(X["tab_0"], y)
