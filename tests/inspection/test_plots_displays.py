"""Displays of the explanation figures: data kept, drawn onto a given Axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import (  # noqa: E402
    ModalityImportanceDisplay,
    ShapBarDisplay,
    ShapSummaryDisplay,
    modality_importance,
    plot_modality_importance,
    plot_shap_bar,
    plot_shap_summary,
    shap_values,
)

MODALITIES = {"signal": ["tab_0", "tab_1", "tab_2", "tab_3"], "noise": ["tab_4", "tab_5"]}


@pytest.fixture(scope="module")
def fitted():
    X, y = make_multimodal_classification(200, image_share=0.0, random_state=0)
    X = X.drop(columns="image")
    return LogisticRegression().fit(X, y), X, y


def test_modality_importance_display_keeps_the_importances(fitted):
    clf, X, y = fitted
    kw = {"modalities": MODALITIES, "n_repeats": 3, "random_state": 0}
    display = ModalityImportanceDisplay.from_estimator(clf, X, y, **kw)
    result = modality_importance(clf, X, y, **kw)
    np.testing.assert_array_equal(display.importances, result.importances)
    np.testing.assert_array_equal(display.importances_mean, result.importances_mean)
    assert display.modalities == ["signal", "noise"]
    assert display.strategy == "permute"
    assert display.baseline_score == result.baseline_score
    fig, ax = plt.subplots()
    assert display.plot(ax=ax) is display
    assert display.ax_ is ax and display.figure_ is fig
    assert [t.get_text() for t in ax.get_yticklabels()] == ["noise", "signal"]
    assert "permute, 3 repeats" in ax.get_xlabel()
    # plot_modality_importance draws the display of the same result
    drawn = plot_modality_importance(result)
    assert [t.get_text() for t in drawn.get_yticklabels()] == ["noise", "signal"]
    assert drawn.get_title() == ax.get_title()
    plt.close("all")


def test_modality_importance_display_from_arrays():
    display = ModalityImportanceDisplay([[0.1, 0.3], [0.0, 0.0]], ["a", "b"]).plot()
    np.testing.assert_allclose(display.importances_mean, [0.2, 0.0])
    assert display.ax_.get_title() == ""  # no baseline score given
    with pytest.raises(ValueError, match="modality_importance"):
        ModalityImportanceDisplay.from_result({"importances": [[0.1]]})
    plt.close("all")


# -- SHAP --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def explanation():
    shap = pytest.importorskip("shap")
    rng = np.random.RandomState(0)
    values = rng.normal(size=(30, 4, 2)) * np.array([3.0, 1.0, 0.5, 0.1])[None, :, None]
    return shap.Explanation(values, base_values=np.zeros((30, 2)),
                            data=rng.normal(size=(30, 4)),
                            feature_names=["big", "mid", "small", "tiny"],
                            output_names=["benign", "malignant"])


@pytest.mark.parametrize("display_class, plot",
                         [(ShapSummaryDisplay, plot_shap_summary),
                          (ShapBarDisplay, plot_shap_bar)])
def test_shap_display_keeps_the_explanation(explanation, display_class, plot):
    display = display_class.from_explanation(explanation, target="benign")
    np.testing.assert_array_equal(display.explanation.values, explanation.values[:, :, 0])
    assert display.title == "class benign"
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, max_display=3) is display
    assert display.ax_ is ax and display.figure_ is fig
    assert ax.get_title() == "class benign"
    labels = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "big" in labels and "tiny" not in labels  # summed into the remainder
    # the plot function draws the display of the positive class by default
    drawn = plot(explanation, max_display=3)
    assert drawn.axes[0].get_title() == "class malignant"
    with pytest.raises(ValueError, match="not among the outputs"):
        display_class.from_explanation(explanation, target="normal")
    plt.close("all")


def test_shap_display_from_estimator_equals_from_explanation(fitted):
    pytest.importorskip("shap")
    xgboost = pytest.importorskip("xgboost")
    _, X, y = fitted
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1,
                                  random_state=0).fit(X, y)
    display = ShapBarDisplay.from_estimator(model, X.iloc[:20])
    expected = ShapBarDisplay.from_explanation(shap_values(model, X.iloc[:20]))
    np.testing.assert_allclose(display.explanation.values, expected.explanation.values)
    assert display.plot().ax_.get_yticklabels()
    plt.close("all")
