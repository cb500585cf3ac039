"""evaluate() and modality_ablation() on survival models."""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sksurv.base import SurvivalAnalysisMixin
from sksurv.functions import StepFunction
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import check_y_survival

from skmultimodal import ImageModality, TabularModality
from skmultimodal.datasets import make_multimodal_survival
from skmultimodal.model_selection import (
    EvaluationReport,
    evaluate,
    make_cv,
    modality_ablation,
)
from skmultimodal.model_selection._survival_metrics import _truncate, survival_time_grid
from skmultimodal.survival import IntermediateFusionSurvival, TabularMLPSurvival

TAB = [f"tab_{i}" for i in range(4)]
METRICS = ["harrell_c", "uno_c", "mean_auc", "ibs"]


class RiskOnly(SurvivalAnalysisMixin, BaseEstimator):
    """Random risk scores, no survival function."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y):
        self.event_, self.time_ = check_y_survival(y)
        return self

    def predict(self, X):
        return np.random.default_rng(self.random_state).normal(size=len(X))


class RandomRisk(RiskOnly):
    """Random risk scores; the Kaplan-Meier curve of the training rows for everyone."""

    def predict_survival_function(self, X, return_array=False):
        fn = StepFunction(*kaplan_meier_estimator(self.event_, self.time_))
        return np.array([fn] * len(X))


@pytest.fixture(scope="module")
def data():
    """The hazard reads off the table alone (true risk: Harrell's C about 0.8)."""
    X, y = make_multimodal_survival(200, image_size=8, n_features=4, n_informative=2,
                                    image_effect=0.0, tabular_effect=1.5, noise=0.3,
                                    random_state=0)
    return X, y


@pytest.fixture(scope="module")
def report(data):
    X, y = data
    models = {"cox": make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
              "random": RandomRisk()}
    return evaluate(models, X[TAB], y, cv=4, n_bootstrap=50, random_state=0)


def test_table_has_the_survival_metrics_with_sensible_values(report):
    assert isinstance(report, EvaluationReport)
    s = report.summary
    assert s.shape == (8, 8) and report.metrics == METRICS
    assert report.models == ["cox", "random"] and (s["n_folds"] == 4).all()
    mean, pooled = report.pivot(), report.pivot("pooled")
    for table in (mean, pooled):
        for metric in ["harrell_c", "uno_c", "mean_auc"]:
            assert table.loc["cox", metric] > 0.7
            assert abs(table.loc["random", metric] - 0.5) < 0.12
        assert 0 < table.loc["cox", "ibs"] < table.loc["random", "ibs"] < 0.3
    assert len(report.folds) == 2 * 4 * 4
    assert report.classes.size == 0 and report.cv.__class__.__name__ == "StratifiedKFold"


def test_intervals_contain_the_pooled_metric_and_the_mean(report):
    s = report.summary
    assert s[["ci_low", "ci_high"]].notna().all().all()
    assert (s["ci_low"] <= s["pooled"]).all() and (s["pooled"] <= s["ci_high"]).all()
    assert (s["ci_low"] <= s["mean"]).all() and (s["mean"] <= s["ci_high"]).all()
    assert ((s["ci_high"] - s["ci_low"]) < 0.25).all()


def test_scores_equal_scikit_survival_metrics(data, report):
    X, y = data
    # The time grid: percentiles 10..80 of the event times, inside every fold.
    times = report.times
    event_times = y["time"][y["event"]]
    assert np.array_equal(times, survival_time_grid(y, report.splits))
    assert 2 <= len(times) <= 8
    assert times[0] >= np.percentile(event_times, 10) - 1e-12
    assert times[-1] <= np.percentile(event_times, 80) + 1e-12
    for train, test in report.splits:
        assert y["time"][test].min() <= times[0] and times[-1] < y["time"][test].max()
    # Fold 0, scored with the training fold's censoring distribution.
    train, test = report.splits[0]
    model = make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()).fit(
        X[TAB].iloc[train], y[train])
    risk = model.predict(X[TAB].iloc[test])
    surv = np.vstack([fn(times) for fn in model.predict_survival_function(
        X[TAB].iloc[test])])
    y_test = _truncate(y[test], y[train])
    expected = {
        "harrell_c": concordance_index_censored(y["event"][test], y["time"][test],
                                                risk)[0],
        "uno_c": concordance_index_ipcw(y[train], y_test, risk, tau=times[-1])[0],
        "mean_auc": cumulative_dynamic_auc(y[train], y_test, risk, times)[1],
        "ibs": integrated_brier_score(y[train], y_test, surv, times),
    }
    folds = report.folds.query("model == 'cox' and fold == 0").set_index("metric")
    for metric, value in expected.items():
        assert folds.loc[metric, "score"] == pytest.approx(value, rel=1e-6)
    # Pooled: out-of-fold risks, censoring of the whole data set.
    pred = report.predictions["cox"]
    assert list(pred.columns[:4]) == ["fold", "event", "time", "risk"]
    assert pred.shape[1] == 4 + len(times)
    np.testing.assert_array_equal(pred["time"], y["time"][report.rows])
    pooled = report.summary.set_index(["model", "metric"])["pooled"]
    assert pooled[("cox", "harrell_c")] == pytest.approx(concordance_index_censored(
        pred["event"].to_numpy(), pred["time"].to_numpy(), pred["risk"].to_numpy())[0])
    assert pooled[("cox", "uno_c")] == pytest.approx(concordance_index_ipcw(
        y, _truncate(report.y_true, y), pred["risk"].to_numpy(), tau=times[-1])[0])


def test_truncation_leaves_the_window_metrics_unchanged(data):
    _, y = data
    event, time = check_y_survival(y)
    cut = np.percentile(time, 90)
    censoring = y[time <= cut]  # followed up to `cut` only
    late = _truncate(y, censoring)
    assert (late["time"] <= censoring["time"].max()).all()
    assert not late["event"][time >= censoring["time"].max()].any()
    times = np.percentile(time[event], [20, 50, 70])
    risk = -time + np.random.default_rng(0).normal(size=len(time))
    # With a censoring distribution that covers every time, truncating at
    # `cut` changes nothing on the window.
    for metric in (lambda t: cumulative_dynamic_auc(y, t, risk, times)[1],
                   lambda t: concordance_index_ipcw(y, t, risk, tau=times[-1])[0]):
        assert metric(_truncate(y, censoring)) == pytest.approx(metric(y))


def test_model_without_survival_function_has_no_ibs(data):
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = evaluate({"risk": RiskOnly()}, X[TAB], y, cv=3, n_bootstrap=20)
    messages = [str(w.message) for w in caught]
    assert any("no predict_survival_function" in m for m in messages)
    assert not any("bootstrap resamples" in m for m in messages)
    s = report.summary.set_index("metric")
    assert s.loc["ibs", ["mean", "pooled", "ci_low"]].isna().all()
    assert s.loc[["harrell_c", "uno_c", "mean_auc"], "ci_low"].notna().all()
    assert report.scores["risk"] is None and report.response_method["risk"] == "predict"
    assert list(report.predictions["risk"].columns) == ["fold", "event", "time", "risk"]


def test_scoring_times_groups_and_concat(data, report):
    X, y = data
    groups = np.arange(len(y)) // 2
    r = evaluate({"cox2": CoxPHSurvivalAnalysis()}, X[TAB], y, groups=groups, cv=3,
                 scoring=["harrell_c", "ibs"], times=[2.0, 4.0, 6.0], n_bootstrap=20,
                 bootstrap_groups=True)
    assert r.metrics == ["harrell_c", "ibs"] and r.times.tolist() == [2.0, 4.0, 6.0]
    assert r.cv.__class__.__name__ == "StratifiedGroupKFold"
    # Same folds as the report: concatenated into one table.
    same = evaluate({"cox2": CoxPHSurvivalAnalysis()}, X[TAB], y, cv=4, n_bootstrap=50)
    both = EvaluationReport.concat([report, same])
    assert both.models == ["cox", "random", "cox2"] and both.summary.shape == (12, 8)
    assert "cox2" in both.to_markdown()
    with pytest.raises(ValueError, match="evaluation times"):
        EvaluationReport.concat([report, evaluate(
            {"cox2": CoxPHSurvivalAnalysis()}, X[TAB], y, cv=4, n_bootstrap=0,
            times=report.times[:-1])])
    with pytest.raises(ValueError, match="follow-up"):
        evaluate({"cox": CoxPHSurvivalAnalysis()}, X[TAB], y, cv=3, times=[0.0, 1e6])
    with pytest.raises(ValueError, match="Unknown survival metrics"):
        evaluate({"cox": CoxPHSurvivalAnalysis()}, X[TAB], y, cv=3, scoring="roc_auc")
    # The folds of an int cv are stratified on the event indicator.
    splitter = make_cv(4, y["event"], random_state=0)
    for (_, a), (_, b) in zip(report.splits, splitter.split(X, y["event"])):
        np.testing.assert_array_equal(a, b)


def test_mixing_kinds_and_wrong_targets_are_refused(data):
    X, y = data
    labels = y["event"].astype(int)
    with pytest.raises(ValueError, match="are classifiers and \\['cox'\\] are not"):
        evaluate({"lr": LogisticRegression(), "cox": CoxPHSurvivalAnalysis()}, X[TAB], y)
    with pytest.raises(ValueError, match="y is a survival target"):
        evaluate({"lr": LogisticRegression()}, X[TAB], y)
    with pytest.raises(ValueError, match="needs y as a scikit-survival structured array"):
        evaluate({"cox": CoxPHSurvivalAnalysis()}, X[TAB], labels)
    with pytest.raises(ValueError, match="times is for survival models"):
        evaluate({"lr": LogisticRegression()}, X[TAB], labels, times=[1.0, 2.0])
    swapped = np.array(list(zip(y["time"], y["event"])),
                       dtype=[("time", float), ("event", bool)])
    with pytest.raises(ValueError, match="must be the boolean event indicator"):
        evaluate({"cox": CoxPHSurvivalAnalysis()}, X[TAB], swapped)


def test_figures_are_refused_for_survival_reports(data, report, tmp_path):
    X, y = data
    for method in ("plot_roc", "plot_pr", "plot_confusion"):
        with pytest.raises(ValueError, match="needs classifiers; this report is of survival"):
            getattr(report, method)()
    with pytest.raises(ValueError, match="no classes"):
        report.rename_classes(["a", "b"])
    with pytest.raises(ValueError, match="plot_dir"):
        evaluate({"cox": CoxPHSurvivalAnalysis()}, X[TAB], y, plot_dir=tmp_path)
    renamed = report.rename({"cox": "coxph"})
    assert renamed.models == ["coxph", "random"] and "coxph" in renamed.predictions


def test_network_and_modality_ablation_of_a_survival_fusion_model():
    X, y = make_multimodal_survival(120, image_size=8, n_features=4, n_informative=2,
                                    random_state=0)
    net = dict(max_epochs=4, lr=1e-2, batch_size=64, random_state=0, device="cpu")
    modalities = [
        ("image", ImageModality("image", backbone="simple_cnn", image_size=8, channels=1,
                                backbone_params={"channels": (4, 8)})),
        ("tab", TabularModality(TAB, hidden_layer_sizes=(8,))),
    ]
    fusion = IntermediateFusionSurvival(modalities, embed_dim=8, **net)
    report = modality_ablation(fusion, X, y, cv=2, subsets="single", n_bootstrap=20)
    assert report.models == ["image+tab", "image", "tab"]
    assert report.metrics == METRICS
    assert report.summary["n_modalities"].tolist() == [2] * 4 + [1] * 8
    assert report.summary["mean"].notna().all()
    assert report.summary.query("metric == 'harrell_c'")["mean"].between(0.3, 1).all()
    mlp = TabularMLPSurvival(TAB, hidden_layer_sizes=(8,), **net)
    tab_report = evaluate({"mlp": mlp}, X, y, cv=2, scoring="harrell_c", n_bootstrap=0,
                          return_estimators=True)
    assert 0.5 < tab_report.pivot().loc["mlp", "harrell_c"] <= 1
    assert len(tab_report.estimators["mlp"]) == 2
