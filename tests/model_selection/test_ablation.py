"""modality_ablation() on small stand-in composite estimators."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import LateFusionClassifier
from skmultimodal.modalities import MultimodalMixin, TabularModality
from skmultimodal.model_selection import make_cv, modality_ablation

# With n_informative=3 the class signal is spread over tab_0..tab_2 so that
# each group of columns alone sees only part of it (tab_3.. are noise).
CLINICAL = ["tab_1", "tab_3", "tab_4"]
GENES = ["tab_0", "tab_2", "tab_5"]


class UnionLogisticRegression(MultimodalMixin, ClassifierMixin, BaseEstimator):
    """Stand-in fusion model: logistic regression on the union of its modalities.

    ``scale`` optionally multiplies the columns of each named modality: a
    per-modality parameter that the protocol's ``_modality_subset_params``
    restricts with the modalities.
    """

    def __init__(self, modalities, C=1.0, scale=None):
        self.modalities = modalities
        self.C = C
        self.scale = scale

    def _modality_subset_params(self, names):
        params = super()._modality_subset_params(names)
        if self.scale is not None:
            params["scale"] = {k: v for k, v in self.scale.items() if k in names}
        return params

    def _fitted_modality_columns(self):
        return {name: list(m.columns) for name, m in self.modalities}

    def _block(self, X):
        blocks = []
        for name, modality in self.modalities:
            factor = (self.scale or {}).get(name, 1.0)
            blocks.append(X[list(modality.columns)].to_numpy() * factor)
        return np.hstack(blocks)

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(self._block(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(self._block(X))

    def predict(self, X):
        return self.model_.predict(self._block(X))


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(
        400, image_share=0.0, n_features=6, n_informative=3, noise=1.0, image_size=8,
        n_patients=200, random_state=0)
    return X, y, X["patient_id"].to_numpy()


def _model():
    return UnionLogisticRegression([("clinical", TabularModality(CLINICAL)),
                                    ("genes", TabularModality(GENES))])


def test_two_modalities_three_rows_per_metric_fusion_wins(data):
    X, y, groups = data
    report = modality_ablation(_model(), X, y, groups=groups, cv=5,
                               scoring=["roc_auc", "accuracy"], n_bootstrap=100)
    s = report.summary
    assert list(s.columns[:4]) == ["model", "modalities", "n_modalities", "metric"]
    assert s.shape == (6, 10)
    assert s.groupby("metric").size().tolist() == [3, 3]
    auc = s[s["metric"] == "roc_auc"].set_index("modalities")
    assert auc.index.tolist() == ["clinical+genes", "clinical", "genes"]
    assert auc["n_modalities"].tolist() == [2, 1, 1]
    both = auc.loc["clinical+genes", "mean"]
    assert both > auc.loc["clinical", "mean"] + 0.01
    assert both > auc.loc["genes", "mean"] + 0.01
    assert (auc["ci_low"] <= auc["pooled"]).all() and (auc["pooled"] <= auc["ci_high"]).all()
    # The single-modality rows are true unimodal baselines on the shared folds.
    assert isinstance(report.cv, StratifiedGroupKFold)
    splitter = make_cv(5, y, groups, random_state=0)
    for name, cols in [("clinical", CLINICAL), ("genes", GENES)]:
        ref = cross_validate(LogisticRegression(), X[cols], y, groups=groups, cv=splitter,
                             scoring="roc_auc")["test_score"]
        assert auc.loc[name, "mean"] == pytest.approx(ref.mean(), abs=1e-12)
    assert set(report.folds["modalities"]) == set(auc.index)


def test_subset_choices(data):
    X, y, _ = data
    model = UnionLogisticRegression([("a", TabularModality(["tab_0"])),
                                     ("b", TabularModality(["tab_1"])),
                                     ("c", TabularModality(["tab_2"]))])
    kw = dict(cv=2, scoring="accuracy", n_bootstrap=0)

    def names(subsets):
        return modality_ablation(model, X, y, subsets=subsets, **kw).models

    assert names("all") == ["a+b+c", "a+b", "a+c", "b+c", "a", "b", "c"]
    assert names("single") == ["a+b+c", "a", "b", "c"]
    assert names("leave_one_out") == ["a+b+c", "a+b", "a+c", "b+c"]
    assert names([["c", "a"], "b", ["a", "c"]]) == ["a+c", "b"]
    with pytest.raises(ValueError, match="among"):
        names([["a", "x"]])
    with pytest.raises(ValueError, match="subsets="):
        names("pairs")


def test_late_fusion_voting_weights_and_per_modality_params(data):
    X, y, _ = data
    late = LateFusionClassifier([("clinical", LogisticRegression(), CLINICAL),
                                 ("genes", LogisticRegression(C=0.5), GENES)],
                                voting_weights=[2.0, 1.0])
    report = modality_ablation(late, X, y, cv=3, scoring=["roc_auc"], n_bootstrap=0,
                               return_estimators=True)
    assert report.models == ["clinical+genes", "clinical", "genes"]
    genes = report.estimators["genes"][0]
    assert genes.get_modality_names() == ["genes"]
    assert genes.modalities[0][1].C == 0.5 and genes.voting_weights == [1.0]
    assert report.estimators["clinical+genes"][0].voting_weights == [2.0, 1.0]
    assert late.voting_weights == [2.0, 1.0] and len(late.modalities) == 2  # untouched

    scaled = UnionLogisticRegression(_model().modalities, scale={"clinical": 2.0})
    report = modality_ablation(scaled, X, y, cv=2, scoring=["roc_auc"], n_bootstrap=0,
                               return_estimators=True)
    assert report.estimators["genes"][0].scale == {}
    assert report.estimators["clinical"][0].scale == {"clinical": 2.0}


def test_other_lists_of_named_entries_with_param(data):
    X, y, _ = data
    voting = VotingClassifier([("a", LogisticRegression()), ("b", LogisticRegression(C=0.1))],
                              voting="soft")
    report = modality_ablation(voting, X[CLINICAL], y, cv=2, scoring="roc_auc",
                               n_bootstrap=0, param="estimators", return_estimators=True)
    assert report.models == ["a+b", "a", "b"]
    assert [n for n, _ in report.estimators["b"][0].estimators] == ["b"]
    with pytest.raises(ValueError, match="list of \\(name, ...\\) tuples"):
        modality_ablation(LogisticRegression(), X, y, param="C")


def test_nested_param_and_errors(data):
    X, y, _ = data
    pipe = Pipeline([("id", FunctionTransformer()), ("clf", _model())])
    report = modality_ablation(pipe, X, y, cv=2, scoring=["roc_auc"], n_bootstrap=0,
                               subsets="single", return_estimators=True)
    assert report.models == ["clinical+genes", "clinical", "genes"]
    assert [n for n, _ in report.estimators["genes"][0]["clf"].modalities] == ["genes"]
    assert pipe["clf"].get_modality_names() == ["clinical", "genes"]  # untouched
    report = modality_ablation(pipe, X, y, param="clf__modalities", cv=2,
                               scoring=["roc_auc"], n_bootstrap=0)
    assert len(report.summary) == 3
    with pytest.raises(ValueError, match="no parameter"):
        modality_ablation(pipe, X, y, param="clf__nothing")
    with pytest.raises(ValueError, match="does not read named modalities"):
        modality_ablation(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="non-empty selection"):
        _model().select_modalities(["nope"])


def test_rows_missing_a_modality_are_left_out_of_every_subset(data):
    """A row without clinical columns cannot be read by the clinical model:
    every subset is evaluated on the rows holding both modalities."""
    X, y, groups = data
    X = X.copy()
    X.loc[X.index[:30], CLINICAL] = np.nan
    X.loc[X.index[30:50], GENES] = np.nan
    late = LateFusionClassifier([("clinical", LogisticRegression(), CLINICAL),
                                 ("genes", LogisticRegression(), GENES)])
    with pytest.warns(UserWarning, match="50 of 400 rows lack every modality of some "
                                         "subset.*other 350 rows"):
        report = modality_ablation(late, X, y, groups=groups, cv=3, scoring="roc_auc",
                                   n_bootstrap=0)
    assert report.index.tolist() == X.index[50:].tolist()
    complete = X.iloc[50:]
    splitter = make_cv(3, y[50:], groups[50:], random_state=0)
    ref = cross_validate(LogisticRegression(), complete[GENES], y[50:], groups=groups[50:],
                         cv=splitter, scoring="roc_auc")["test_score"]
    auc = report.summary.set_index("modalities")["mean"]
    assert auc["genes"] == pytest.approx(ref.mean(), abs=1e-12)
    # the late fusion alone reads every row: it is scored on all of them
    alone = modality_ablation(late, X, y, groups=groups, cv=3, scoring="roc_auc",
                              n_bootstrap=0, subsets=[["clinical", "genes"]])
    assert len(alone.index) == 400
    with pytest.raises(ValueError, match="No row holds a modality of every subset"):
        modality_ablation(late, X.iloc[:50], y[:50], cv=2, scoring="roc_auc",
                          n_bootstrap=0)
