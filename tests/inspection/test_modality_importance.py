"""modality_importance() and its plot on synthetic data with a known signal split."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmultimodal import (  # noqa: E402
    ImageModality,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    TabularModality,
)
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import modality_importance, plot_modality_importance  # noqa: E402
from skmultimodal.inspection._modality_importance import _permuted  # noqa: E402

TAB = [f"tab_{i}" for i in range(6)]


def fitted_fusion(image_share):
    """Fusion model fitted on 250 rows; returns it with 150 held-out rows."""
    X, y = make_multimodal_classification(400, image_size=16, n_features=6, n_informative=2,
                                          image_share=image_share, random_state=0)
    clf = IntermediateFusionClassifier(
        [("image", ImageModality("image", backbone="simple_cnn", image_size=16, channels=1,
                                 backbone_params={"channels": (8, 16)})),
         ("clinical", TabularModality(TAB, hidden_layer_sizes=(16,)))],
        embed_dim=16, head_hidden_sizes=(16,), max_epochs=15, lr=1e-2,
        modality_dropout=0.2, random_state=0,
    ).fit(X.iloc[:250], y[:250])
    return clf, X.iloc[250:], y[250:]


@pytest.fixture(scope="module")
def image_only():
    return fitted_fusion(1.0)


@pytest.fixture(scope="module")
def table_only():
    return fitted_fusion(0.0)


@pytest.fixture(scope="module")
def table():
    X, y = make_multimodal_classification(300, n_features=6, n_informative=2, image_share=0.0,
                                          random_state=0)
    return X.drop(columns="image"), y


@pytest.mark.parametrize("strategy", ["permute", "mask"])
def test_signal_modality_ranks_first(image_only, table_only, strategy):
    for (clf, X, y), strong, weak in [(image_only, "image", "clinical"),
                                      (table_only, "clinical", "image")]:
        result = modality_importance(clf, X, y, strategy=strategy, n_repeats=4,
                                     random_state=0)
        assert result.modalities == ["image", "clinical"]
        assert result.strategy == strategy
        assert result.importances.shape == (2, 4)
        imp = dict(zip(result.modalities, result.importances_mean))
        assert imp[strong] > 0.15, imp
        assert abs(imp[weak]) < 0.05, imp
        assert result.baseline_score == clf.score(X, y)
        np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))
        np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))


def test_mask_matches_missing_modality_and_is_deterministic(table_only):
    clf, X, y = table_only
    result = modality_importance(clf, X, y, strategy="mask", n_repeats=3)
    masked = X.copy()
    masked[TAB] = np.nan
    assert result.importances[1].tolist() == [clf.score(X, y) - clf.score(masked, y)] * 3
    np.testing.assert_allclose(result.importances_std, 0.0, atol=1e-12)


def test_permute_repeats_and_scoring(table_only):
    clf, X, y = table_only
    before = X.copy()
    a = modality_importance(clf, X, y, scoring="roc_auc", n_repeats=6, random_state=0)
    assert a.baseline_score == pytest.approx(roc_auc_score(y, clf.predict_proba(X)[:, 1]))
    assert a.importances.shape == (2, 6)
    assert len(np.unique(a.importances[1])) > 1  # the repeats are different permutations
    b = modality_importance(clf, X, y, scoring="roc_auc", n_repeats=6, random_state=0)
    np.testing.assert_array_equal(a.importances, b.importances)
    pd.testing.assert_frame_equal(X, before)  # X is left unchanged


class EqualColumns(ClassifierMixin, BaseEstimator):
    """Predicts 1 where the columns ``a`` and ``b`` hold the same value."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return (X["a"].to_numpy() == X["b"].to_numpy()).astype(int)


def test_columns_of_a_modality_are_permuted_jointly():
    X = pd.DataFrame({"a": np.arange(50), "b": np.arange(50), "c": np.zeros(50)})
    y = np.ones(50, dtype=int)
    clf = EqualColumns().fit(X, y)
    joint = modality_importance(clf, X, y, modalities={"ab": ["a", "b"], "c": "c"},
                                random_state=0)
    assert joint.baseline_score == 1.0
    np.testing.assert_array_equal(joint.importances, 0.0)
    split = modality_importance(clf, X, y, modalities={"a": "a", "b": ["b"]},
                                random_state=0)
    assert (split.importances > 0.8).all()


def test_explicit_modalities_for_any_pipeline(table):
    X, y = table
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    result = modality_importance(
        model, X, y, modalities={"signal": ["tab_0", "tab_1"], "noise": TAB[2:]},
        n_repeats=3, random_state=0)
    assert result.modalities == ["signal", "noise"]
    assert result.importances_mean[0] > 0.2
    assert abs(result.importances_mean[1]) < 0.05


def test_late_fusion_default_modalities_both_strategies(table):
    X, y = table
    late = LateFusionClassifier([("clinical", LogisticRegression(), ["tab_0", "tab_1"]),
                                 ("noise", LogisticRegression(), TAB[2:])]).fit(X, y)
    for strategy in ("permute", "mask"):
        result = modality_importance(late, X, y, strategy=strategy, n_repeats=3,
                                     random_state=0)
        assert result.modalities == ["clinical", "noise"]
        assert result.importances_mean[0] > 0.15
        assert abs(result.importances_mean[1]) < 0.05


def _with_missing_modalities(X, seed=0):
    """A copy of X where 15 rows lack the image and 15 others the table."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))
    out = X.copy()
    out.loc[out.index[rows[:15]], "image"] = None
    out.loc[out.index[rows[15:30]], TAB] = np.nan
    return out, rows[:15], rows[15:30]


def test_permute_keeps_each_rows_modalities(table_only):
    """Shuffled among the rows that have it, a modality stays missing where it
    was: no row is left without a modality (the model would refuse it)."""
    clf, X, y = table_only
    X, no_image, no_table = _with_missing_modalities(X)
    shuffled = _permuted(X, ["image"], np.random.RandomState(0))
    assert shuffled["image"].isna().to_numpy().nonzero()[0].tolist() == sorted(no_image)
    moved = [i for i in range(len(X)) if X["image"].iloc[i] is not None
             and shuffled["image"].iloc[i] is not X["image"].iloc[i]]
    assert len(moved) > 0.8 * (len(X) - 15)
    pd.testing.assert_frame_equal(shuffled[TAB], X[TAB])
    result = modality_importance(clf, X, y, n_repeats=3, random_state=0)
    assert result.n_rows.tolist() == [len(X), len(X)]
    assert result.importances_mean[1] > 0.1  # the table still carries the signal


def test_mask_leaves_out_rows_with_no_other_modality(table_only):
    clf, X, y = table_only
    X, no_image, no_table = _with_missing_modalities(X)
    with pytest.warns(UserWarning, match=r"15 row\(s\) for 'image', 15 row\(s\) for "
                                         r"'clinical'"):
        result = modality_importance(clf, X, y, strategy="mask", n_repeats=2)
    assert result.n_rows.tolist() == [len(X) - 15, len(X) - 15]
    assert result.baseline_score == pytest.approx(clf.score(X, y))
    # the table's importance: on the rows that keep their image
    keep = np.setdiff1d(np.arange(len(X)), no_image)
    rows, labels = X.iloc[keep], y[keep]
    masked = rows.copy()
    masked[TAB] = np.nan
    expected = clf.score(rows, labels) - clf.score(masked, labels)
    np.testing.assert_allclose(result.importances[1], [expected] * 2)
    # complete rows: nothing left out, no warning
    clf_rows = X.dropna(subset=["image"]).dropna(subset=TAB, how="all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = modality_importance(clf, clf_rows, y[clf_rows.index - X.index[0]],
                                   strategy="mask", n_repeats=1)
    assert full.n_rows.tolist() == [len(clf_rows)] * 2
    # images only: masking them leaves no row to score
    images_only = X.copy()
    images_only[TAB] = np.nan
    with pytest.raises(ValueError, match="every row has modality 'image' as its only one"):
        modality_importance(clf, images_only.dropna(subset=["image"]),
                            y[images_only["image"].notna().to_numpy()], strategy="mask")


def test_errors(table, table_only):
    X, y = table
    model = LogisticRegression().fit(X, y)
    signal = {"signal": ["tab_0"]}
    with pytest.raises(ValueError, match="pass modalities="):
        modality_importance(model, X, y)
    with pytest.raises(ValueError, match="strategy='mask'.*LogisticRegression"):
        modality_importance(model, X, y, modalities=signal, strategy="mask")
    with pytest.raises(ValueError, match="strategy='drop'"):
        modality_importance(model, X, y, modalities=signal, strategy="drop")
    with pytest.raises(ValueError, match="n_repeats=0"):
        modality_importance(model, X, y, modalities=signal, n_repeats=0)
    with pytest.raises(KeyError, match=r"'genes'.*\['tab_9'\]"):
        modality_importance(model, X, y, modalities={"genes": ["tab_0", "tab_9"]})
    with pytest.raises(TypeError, match="DataFrame"):
        modality_importance(model, X.to_numpy(), y, modalities=signal)
    with pytest.raises(TypeError, match="dict"):
        modality_importance(model, X, y, modalities=[("signal", ["tab_0"])])
    with pytest.raises(ValueError, match="single scorer"):
        modality_importance(model, X, y, modalities=signal, scoring=["accuracy"])
    with pytest.raises(ValueError, match="X has 300 rows but y has 10"):
        modality_importance(model, X, y[:10], modalities=signal)
    with pytest.raises(NotFittedError):
        modality_importance(LogisticRegression(), X, y, modalities=signal)
    clf, Xf, yf = table_only
    with pytest.raises(KeyError, match=r"'image'.*\['image'\]"):
        modality_importance(clf, Xf.drop(columns="image"), yf)


def test_plot_modality_importance(table_only, tmp_path):
    clf, X, y = table_only
    result = modality_importance(clf, X, y, n_repeats=3, random_state=0)
    ax = plot_modality_importance(result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["image", "clinical"]  # largest mean on top
    assert "permute, 3 repeats" in ax.get_xlabel()
    assert f"{result.baseline_score:.3f}" in ax.get_title()
    ax.figure.savefig(tmp_path / "importance.png")
    assert (tmp_path / "importance.png").stat().st_size > 1000
    fig, given = plt.subplots()
    assert plot_modality_importance(result, ax=given) is given
    with pytest.raises(ValueError, match="modality_importance"):
        plot_modality_importance({"importances": result.importances})
    plt.close("all")
