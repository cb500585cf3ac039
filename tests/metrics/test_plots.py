"""ROC / PR / confusion figures of several models."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from skmultimodal.metrics import (
    ConfusionMatricesDisplay,
    PrecisionRecallCurvesDisplay,
    RocCurvesDisplay,
    plot_confusion_matrix,
    plot_pr_curves,
    plot_roc_curves,
)


def _png_ok(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def binary():
    rng = np.random.RandomState(0)
    y = np.array(["benign", "malignant"])[rng.randint(2, size=80)]
    good = (y == "malignant") + rng.normal(scale=0.7, size=80)
    weak = (y == "malignant") + rng.normal(scale=2.0, size=80)
    sig = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
    return y, {"fusion": np.c_[1 - sig(good), sig(good)], "image": sig(weak)}


def test_roc_binary_one_curve_per_model(binary, tmp_path):
    import matplotlib.pyplot as plt

    y, scores = binary
    before = plt.get_fignums()
    fig = plot_roc_curves(y, scores, path=tmp_path / "roc.png", title="ROC")
    # a pyplot figure, so that it shows in notebooks and with plt.show()
    assert isinstance(fig, Figure) and plt.get_fignums() == before + [fig.number]
    plt.close(fig)
    (ax,) = fig.axes
    auc_fusion = roc_auc_score(y == "malignant", scores["fusion"][:, 1])
    auc_image = roc_auc_score(y == "malignant", scores["image"])
    legend = _legend(ax)
    assert legend[:2] == [f"fusion (AUC = {auc_fusion:.2f})", f"image (AUC = {auc_image:.2f})"]
    assert "malignant" in ax.get_title()
    assert _png_ok(tmp_path / "roc.png")


def test_pr_binary_average_precision_in_legend(binary, tmp_path):
    y, scores = binary
    fig = plot_pr_curves(y, scores, path=tmp_path / "sub" / "pr.png")
    ap = average_precision_score(y, scores["fusion"][:, 1], pos_label="malignant")
    assert _legend(fig.axes[0])[0] == f"fusion (AP = {ap:.2f})"
    assert _png_ok(tmp_path / "sub" / "pr.png")


def test_roc_and_pr_multiclass_one_panel_per_class(tmp_path):
    rng = np.random.RandomState(1)
    y = rng.randint(3, size=90)
    proba = rng.dirichlet([1, 1, 1], size=90) + np.eye(3)[y]
    proba /= proba.sum(axis=1, keepdims=True)
    fig = plot_roc_curves(y, {"a": proba, "b": proba[:, [1, 2, 0]]}, path=tmp_path / "r.png")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    for j, ax in enumerate(visible):
        assert ax.get_title() == f"{j} vs rest"
        assert _legend(ax)[0] == f"a (AUC = {roc_auc_score(y == j, proba[:, j]):.2f})"
    fig = plot_pr_curves(y, {"a": proba}, classes=[0, 1, 2])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3
    assert _png_ok(tmp_path / "r.png")
    with pytest.raises(ValueError, match="columns"):
        plot_roc_curves(y, {"a": proba[:, :2]})


def test_confusion_matrix_panels(binary, tmp_path):
    y, scores = binary
    preds = {name: np.where((s[:, 1] if s.ndim == 2 else s) > 0.5, "malignant", "benign")
             for name, s in scores.items()}
    fig = plot_confusion_matrix(y, preds, path=tmp_path / "cm.png")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["fusion", "image"]
    shown = axes[0].images[0].get_array()
    np.testing.assert_array_equal(shown, confusion_matrix(y, preds["fusion"]))
    assert _png_ok(tmp_path / "cm.png")
    fig = plot_confusion_matrix(y, preds["image"], normalize="true")
    np.testing.assert_allclose(fig.axes[0].images[0].get_array().sum(axis=1), 1.0)


# -- displays ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(90, 4))
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    model = LogisticRegression().fit(X, y)
    return model, X, y


def test_roc_display_keeps_the_curves_and_draws_on_a_given_ax(binary):
    import matplotlib.pyplot as plt

    y, scores = binary
    display = RocCurvesDisplay.from_predictions(y, scores)
    assert display.models == ["fusion", "image"] and display.pos_label == "malignant"
    fpr, tpr, _ = roc_curve(y == "malignant", scores["fusion"][:, 1])
    np.testing.assert_array_equal(display.fpr["fusion"]["malignant"], fpr)
    np.testing.assert_array_equal(display.tpr["fusion"]["malignant"], tpr)
    assert display.roc_auc["image"]["malignant"] == pytest.approx(
        roc_auc_score(y == "malignant", scores["image"]))
    assert not hasattr(display, "figure_")  # drawn only by plot
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, title="given") is display
    assert display.ax_ is ax and display.figure_ is fig and list(display.axes_) == [ax]
    assert _legend(ax)[0].startswith("fusion (AUC = ")
    plt.close(fig)
    # the figure of plot_roc_curves is the display's
    expected = _legend(plot_roc_curves(y, scores).axes[0])
    assert _legend(display.plot().ax_) == expected
    plt.close("all")


def test_pr_display_keeps_the_curves(binary):
    y, scores = binary
    display = PrecisionRecallCurvesDisplay.from_predictions(y, scores, pos_label="benign")
    precision, recall, _ = precision_recall_curve(y == "benign", 1 - scores["image"])
    np.testing.assert_array_equal(display.precision["image"]["benign"], precision)
    np.testing.assert_array_equal(display.recall["image"]["benign"], recall)
    assert display.average_precision["image"]["benign"] == pytest.approx(
        average_precision_score(y == "benign", 1 - scores["image"]))
    assert display.prevalence["fusion"]["benign"] == pytest.approx(np.mean(y == "benign"))
    assert display.plot().ax_.get_title() == "positive class: benign"


@pytest.mark.parametrize("display_class", [RocCurvesDisplay, PrecisionRecallCurvesDisplay])
def test_curves_from_estimator_equal_from_predictions(fitted, display_class):
    import matplotlib.pyplot as plt

    model, X, y = fitted
    from_est = display_class.from_estimator({"lr": model}, X, y)
    from_pred = display_class.from_predictions(y, {"lr": model.predict_proba(X)},
                                               classes=model.classes_)
    assert from_est.panels == from_pred.panels == ["a", "b", "c"]
    for field in display_class._fields:
        for label in from_est.panels:
            np.testing.assert_array_equal(getattr(from_est, field)["lr"][label],
                                          getattr(from_pred, field)["lr"][label])
    # a single estimator is named after its class; one given Axes per class
    fig, axes = plt.subplots(1, 3)
    single = display_class.from_estimator(model, X, y).plot(ax=axes)
    assert single.models == ["LogisticRegression"] and single.figure_ is fig
    assert [ax.get_title() for ax in single.axes_] == ["a vs rest", "b vs rest",
                                                       "c vs rest"]
    with pytest.raises(ValueError, match="one Axes per panel"):
        single.plot(ax=axes[0])
    plt.close("all")


def test_confusion_display_keeps_the_matrices(fitted):
    import matplotlib.pyplot as plt

    model, X, y = fitted
    display = ConfusionMatricesDisplay.from_estimator({"lr": model}, X, y)
    same = ConfusionMatricesDisplay.from_predictions(y, {"lr": model.predict(X)})
    np.testing.assert_array_equal(display.confusion_matrix["lr"],
                                  same.confusion_matrix["lr"])
    np.testing.assert_array_equal(display.confusion_matrix["lr"],
                                  confusion_matrix(y, model.predict(X)))
    np.testing.assert_array_equal(display.display_labels, ["a", "b", "c"])
    fig, ax = plt.subplots()
    assert display.plot(ax=ax) is display and display.ax_ is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), display.confusion_matrix["lr"])
    assert ax.get_title() == "lr"
    plt.close(fig)
    normalized = ConfusionMatricesDisplay.from_predictions(y, model.predict(X),
                                                           normalize="true")
    np.testing.assert_allclose(normalized.confusion_matrix["model"].sum(axis=1), 1.0)
    plt.close("all")


def test_displays_from_report_equal_from_predictions(fitted):
    from skmultimodal.model_selection import evaluate

    _, X, y = fitted
    report = evaluate({"lr": LogisticRegression(), "lr2": LogisticRegression(C=0.1)},
                      X, y, cv=3, scoring=["accuracy"], n_bootstrap=0)
    roc = RocCurvesDisplay.from_report(report, "lr2")
    assert roc.models == ["lr2"]
    expected = RocCurvesDisplay.from_predictions(report.y_true, report.scores["lr2"],
                                                 classes=report.classes)
    np.testing.assert_array_equal(roc.tpr["lr2"]["c"], expected.tpr["model"]["c"])
    matrices = ConfusionMatricesDisplay.from_report(report)
    assert matrices.models == ["lr", "lr2"]
    np.testing.assert_array_equal(matrices.confusion_matrix["lr"],
                                  confusion_matrix(report.y_true, report.y_pred["lr"]))
    with pytest.raises(ValueError, match=r"Unknown models \['svm'\]"):
        PrecisionRecallCurvesDisplay.from_report(report, ["svm"])
