"""evaluate(): several models on shared folds, tidy table, bootstrap CIs."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
    cross_validate,
)
from sklearn.pipeline import make_pipeline

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.modalities import TabularModality
from skmultimodal.model_selection import (
    EvaluationReport,
    GroupLeakageError,
    evaluate,
    make_cv,
)

TAB = [f"tab_{i}" for i in range(6)]
METRICS = ["accuracy", "balanced_accuracy", "f1", "average_precision", "roc_auc"]


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(
        240, image_share=0.0, n_features=6, n_patients=80, image_size=8, random_state=0)
    return X, y, X["patient_id"].to_numpy()


@pytest.fixture(scope="module")
def report(data):
    X, y, groups = data
    return evaluate({"logreg": LogisticRegression(), "dummy": DummyClassifier()},
                    X[TAB], y, groups=groups, cv=5, n_bootstrap=100, random_state=0)


def test_summary_table(report):
    assert isinstance(report, EvaluationReport)
    s = report.summary
    assert list(s.columns) == ["model", "metric", "mean", "std", "pooled", "ci_low",
                               "ci_high", "n_folds"]
    assert s.shape == (10, 8)
    assert s["model"].tolist() == ["logreg"] * 5 + ["dummy"] * 5
    assert s["metric"].tolist() == METRICS * 2
    assert (s["n_folds"] == 5).all()
    assert report.models == ["logreg", "dummy"] and report.metrics == METRICS
    assert report.pivot().shape == (2, 5)


def test_means_match_independent_cross_validate(data, report):
    X, y, groups = data
    splitter = make_cv(5, y, groups, random_state=0)
    assert isinstance(splitter, StratifiedGroupKFold)
    for name, est in [("logreg", LogisticRegression()), ("dummy", DummyClassifier())]:
        ref = cross_validate(est, X[TAB], y, groups=groups, cv=splitter, scoring=METRICS)
        rows = report.summary[report.summary["model"] == name].set_index("metric")
        for metric in METRICS:
            scores = ref[f"test_{metric}"]
            assert rows.loc[metric, "mean"] == pytest.approx(scores.mean(), abs=1e-12)
            assert rows.loc[metric, "std"] == pytest.approx(scores.std(ddof=1), abs=1e-12)
            folds = report.folds.query("model == @name and metric == @metric")
            np.testing.assert_allclose(folds["score"], scores)


def test_dummy_auc_is_half_and_logreg_beats_it(report):
    auc = report.pivot()["roc_auc"]
    assert auc["dummy"] == 0.5
    assert auc["logreg"] > 0.85


def test_confidence_intervals(report):
    s = report.summary
    logreg = s[s["model"] == "logreg"]
    assert (logreg["ci_low"] < logreg["pooled"]).all()
    assert (logreg["pooled"] < logreg["ci_high"]).all()
    # The fold mean is close to the pooled metric: inside the CI up to a margin.
    assert (logreg["ci_low"] - 0.03 <= logreg["mean"]).all()
    assert (logreg["mean"] <= logreg["ci_high"] + 0.03).all()
    assert ((logreg["ci_high"] - logreg["ci_low"]) < 0.2).all()


def test_folds_are_grouped_and_oof_predictions_are_right(data, report):
    X, y, groups = data
    assert isinstance(report.cv, StratifiedGroupKFold)
    for train, test in report.splits:
        assert not set(groups[train]) & set(groups[test])
    assert sorted(report.rows.tolist()) == list(range(len(y)))
    np.testing.assert_array_equal(report.y_true, y[report.rows])
    expected = cross_val_predict(LogisticRegression(), X[TAB], y, cv=report.splits,
                                 method="predict_proba")
    np.testing.assert_allclose(report.scores["logreg"], expected[report.rows])
    pooled = report.summary.set_index(["model", "metric"])["pooled"]
    assert pooled[("logreg", "roc_auc")] == pytest.approx(
        roc_auc_score(y[report.rows], expected[report.rows, 1]))
    pred = report.predictions["logreg"]
    assert list(pred.columns) == ["fold", "y_true", "y_pred", "proba_0", "proba_1"]
    assert pred.loc[report.rows[0], "y_true"] == y[report.rows[0]]
    folds = report.folds
    assert len(folds) == 2 * 5 * 5
    assert ((folds["n_train"] + folds["n_test"]) == len(y)).all()


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored")
def test_leaking_splitter_is_refused(data):
    X, y, groups = data
    with pytest.raises(GroupLeakageError, match="Fold 0"):
        evaluate([("lr", LogisticRegression())], X[TAB], y, groups=groups,
                 cv=StratifiedKFold(5, shuffle=True, random_state=0), n_bootstrap=0)


def test_string_labels_and_library_preprocessing_on_frames(data):
    X, y, _ = data
    labels = np.array(["basal", "luminal"])[y]
    # Preprocessing (TabularModality's scaler) is fitted inside each fold on the
    # DataFrame that still holds the image column.
    model = make_pipeline(TabularModality(TAB), LogisticRegression())
    report = evaluate({"tab": model}, X, labels, cv=3, scoring="study1", n_bootstrap=0)
    assert report.metrics == ["accuracy", "average_precision", "f1"]
    assert report.classes.tolist() == ["basal", "luminal"]
    s = report.summary.set_index("metric")
    assert np.isnan(s["ci_low"]).all()
    pred = report.y_pred["tab"]
    assert s.loc["f1", "pooled"] == pytest.approx(
        f1_score(report.y_true, pred, pos_label="luminal"))
    assert report.predictions["tab"].columns[-1] == "proba_luminal"


def test_multiclass_per_class_auc():
    X, y = make_multimodal_classification(150, n_classes=3, image_share=0.0,
                                          image_size=8, random_state=1)
    labels = np.array(["a", "b", "mitosis"])[y]
    report = evaluate([("lr", LogisticRegression())], X[[f"tab_{i}" for i in range(10)]],
                      labels, cv=3, n_bootstrap=0)
    assert report.metrics == ["accuracy", "balanced_accuracy", "f1_macro",
                              "average_precision", "roc_auc_ovr", "roc_auc[a]",
                              "roc_auc[b]", "roc_auc[mitosis]"]
    pooled = report.summary.set_index("metric")["pooled"]
    proba = report.scores["lr"]
    assert pooled["roc_auc_ovr"] == pytest.approx(
        roc_auc_score(report.y_true, proba, multi_class="ovr"))
    assert pooled["roc_auc[mitosis]"] == pytest.approx(
        roc_auc_score(report.y_true == "mitosis", proba[:, 2]))


def test_bootstrap_is_reproducible_paired_and_grouped(data):
    X, y, groups = data
    kw = dict(groups=groups, cv=3, scoring=["roc_auc"], n_bootstrap=100)
    models = {"lr": LogisticRegression()}
    a = evaluate(models, X[TAB], y, **kw).summary
    with parallel_config(backend="threading"):  # no process start-up in tests
        b = evaluate(models, X[TAB], y, n_jobs=2, **kw).summary
    pd.testing.assert_frame_equal(a, b)
    c = evaluate(models, X[TAB], y, random_state=1, **kw).summary
    assert a["ci_low"].iloc[0] != c["ci_low"].iloc[0]
    g = evaluate(models, X[TAB], y, bootstrap_groups=True, **kw).summary
    assert g["ci_low"].iloc[0] < g["pooled"].iloc[0] < g["ci_high"].iloc[0]
    with pytest.raises(ValueError, match="bootstrap_groups"):
        evaluate(models, X[TAB], y, bootstrap_groups=True, n_bootstrap=10)
    with pytest.raises(ValueError, match="confidence"):
        evaluate(models, X[TAB], y, confidence=95)


def test_outputs_markdown_csv_and_plots(data, report, tmp_path):
    X, y, groups = data
    text = report.to_markdown(tmp_path / "t.md")
    lines = text.splitlines()
    assert lines[0] == "| model | " + " | ".join(METRICS) + " |"
    assert len(lines) == 4 and lines[3].startswith("| dummy | ")
    r = report.summary.set_index(["model", "metric"]).loc[("logreg", "roc_auc")]
    assert f"{r['mean']:.3f} ± {r['std']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]" \
        in lines[2]
    assert (tmp_path / "t.md").read_text() == text
    back = pd.read_csv(report.to_csv(tmp_path / "s.csv"))
    pd.testing.assert_frame_equal(back, report.summary, check_dtype=False)
    assert len(pd.read_csv(report.to_csv(tmp_path / "f.csv", which="folds"))) == 50
    fig = report.plot_roc()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0].startswith("logreg (AUC = ") and legend[1].startswith("dummy")
    assert report.plot_pr("logreg").axes
    assert "EvaluationReport(2 model(s)" in repr(report)

    evaluate({"lr": LogisticRegression()}, X[TAB], y, groups=groups, cv=3, n_bootstrap=0,
             scoring=["roc_auc"], plot_dir=tmp_path / "plots", verbose=1)
    for name in ("roc.png", "pr.png", "confusion.png"):
        data_ = (tmp_path / "plots" / name).read_bytes()
        assert data_[:4] == b"\x89PNG" and len(data_) > 1000


def test_input_validation(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="unique"):
        evaluate([("a", LogisticRegression()), ("a", DummyClassifier())], X[TAB], y)
    with pytest.raises(TypeError, match="instance"):
        evaluate({"a": LogisticRegression}, X[TAB], y)
    with pytest.raises(ValueError, match="rows"):
        evaluate({"a": LogisticRegression()}, X[TAB], y[:10])
    single = evaluate(LogisticRegression(), X[TAB], y, cv=3, scoring="accuracy",
                      n_bootstrap=0)
    assert single.models == ["LogisticRegression"]


def test_late_fusion_estimator_if_available(data):
    fusion = pytest.importorskip("skmultimodal.fusion")
    X, y, groups = data
    model = fusion.LateFusionClassifier([
        ("a", LogisticRegression(), TAB[:3]), ("b", LogisticRegression(), TAB[3:])])
    report = evaluate({"late": model}, X, y, groups=groups, cv=3, scoring=["roc_auc"],
                      n_bootstrap=0)
    assert report.summary["mean"].iloc[0] > 0.7


# -- combining and renaming reports ------------------------------------------------------
def _evaluate_tab(data, models, **kw):
    X, y, groups = data
    return evaluate(models, X[TAB], y, groups=groups, **{"cv": 5, "n_bootstrap": 100,
                                                         "random_state": 0, **kw})


def test_report_is_a_picklable_dataclass(report):
    import dataclasses
    import pickle

    assert dataclasses.is_dataclass(report)
    assert "estimators" in {f.name for f in dataclasses.fields(report)}
    back = pickle.loads(pickle.dumps(report))
    pd.testing.assert_frame_equal(back.summary, report.summary)
    assert back.models == report.models


def test_concat_equals_one_evaluation_of_all_models(data, report):
    parts = [_evaluate_tab(data, {"logreg": LogisticRegression()}),
             _evaluate_tab(data, {"dummy": DummyClassifier()})]
    merged = EvaluationReport.concat(parts)
    assert merged.models == report.models and merged.metrics == report.metrics
    pd.testing.assert_frame_equal(merged.summary, report.summary)
    pd.testing.assert_frame_equal(merged.folds.drop(columns=["fit_time", "score_time"]),
                                  report.folds.drop(columns=["fit_time", "score_time"]))
    for model in report.models:
        pd.testing.assert_frame_equal(merged.predictions[model], report.predictions[model])
    assert merged.to_markdown() == report.to_markdown()
    assert merged.estimators is None
    # the fold estimators are kept when every report has them
    kept = EvaluationReport.concat([
        _evaluate_tab(data, {"a": DummyClassifier()}, return_estimators=True),
        _evaluate_tab(data, {"b": DummyClassifier()}, return_estimators=True)])
    assert list(kept.estimators) == ["a", "b"] and len(kept.estimators["b"]) == 5


def test_concat_refuses_reports_that_do_not_fit(data, report):
    dummy = {"other": DummyClassifier()}
    with pytest.raises(ValueError, match="same folds"):
        EvaluationReport.concat([report, _evaluate_tab(data, dummy, cv=3)])
    with pytest.raises(ValueError, match="different metrics"):
        EvaluationReport.concat([report, _evaluate_tab(data, dummy, scoring=["roc_auc"])])
    with pytest.raises(ValueError, match="bootstrap settings"):
        EvaluationReport.concat([report, _evaluate_tab(data, dummy, n_bootstrap=10)])
    with pytest.raises(ValueError, match=r"Models \['dummy', 'logreg'\] are in several"):
        EvaluationReport.concat([report, report])
    with pytest.raises(ValueError, match="No report"):
        EvaluationReport.concat([])


def test_rename_models_everywhere(report):
    renamed = report.rename({"dummy": "baseline"})
    assert renamed.models == ["logreg", "baseline"]
    assert set(renamed.summary["model"]) == set(renamed.folds["model"]) == {
        "logreg", "baseline"}
    for field in ("y_pred", "scores", "response_method"):
        assert list(getattr(renamed, field)) == ["logreg", "baseline"]
    np.testing.assert_array_equal(renamed.scores["baseline"], report.scores["dummy"])
    assert list(renamed.predictions) == ["logreg", "baseline"]
    assert renamed.pivot().index.tolist() == ["logreg", "baseline"]
    assert report.models == ["logreg", "dummy"]  # the report itself is unchanged
    assert set(report.summary["model"]) == {"logreg", "dummy"}
    with pytest.raises(ValueError, match=r"Unknown models \['svm'\]"):
        report.rename({"svm": "x"})
    with pytest.raises(ValueError, match="duplicate"):
        report.rename({"dummy": "logreg"})


def test_rename_classes_equals_evaluating_named_labels():
    X, y = make_multimodal_classification(150, n_classes=3, image_share=0.0,
                                          image_size=8, random_state=1)
    X = X[[f"tab_{i}" for i in range(10)]]
    names = np.array(["a", "b", "mitosis"])
    kw = {"cv": 3, "n_bootstrap": 20}
    coded = evaluate({"lr": LogisticRegression()}, X, y, **kw)
    named = evaluate({"lr": LogisticRegression()}, X, names[y], **kw)
    relabelled = coded.rename_classes(names)
    assert relabelled.metrics == named.metrics
    pd.testing.assert_frame_equal(relabelled.summary, named.summary)
    np.testing.assert_array_equal(relabelled.classes, names)
    np.testing.assert_array_equal(relabelled.y_true, named.y_true)
    np.testing.assert_array_equal(relabelled.y_pred["lr"], named.y_pred["lr"])
    assert "roc_auc[0]" in coded.metrics  # unchanged
    by_dict = coded.rename_classes({2: "mitosis"})
    assert by_dict.metrics[-1] == "roc_auc[mitosis]" and by_dict.metrics[-3] == "roc_auc[0]"
    with pytest.raises(ValueError, match="3 classes"):
        coded.rename_classes(["a", "b"])
    with pytest.raises(ValueError, match=r"Unknown classes \[7\]"):
        coded.rename_classes({7: "x"})
