"""ROC / PR / confusion figures of several models."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

from skmultimodal.metrics import plot_confusion_matrix, plot_pr_curves, plot_roc_curves


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
