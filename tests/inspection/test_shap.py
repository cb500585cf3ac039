"""shap_values() and the SHAP plots on synthetic data with known informative columns."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shap  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (  # noqa: E402
    FunctionTransformer,
    OneHotEncoder,
    StandardScaler,
)

from skmultimodal import (  # noqa: E402
    CrossAttentionFusionClassifier,
    ImageModality,
    IntermediateFusionClassifier,
    TabularMLPClassifier,
    TabularModality,
)
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import plot_shap_bar, plot_shap_summary  # noqa: E402
from skmultimodal.inspection._shap import (  # noqa: E402
    _fixed_inputs,
    _FixedInputsModel,
    shap_values,
)

xgboost = pytest.importorskip("xgboost")

# Four classes and four informative columns: with two classes the fixed mixing
# matrix of make_multimodal_classification leaves tab_0 nearly uninformative,
# with four every informative column carries a good share of the signal.
N_CLASSES, N_FEATURES, N_INFORMATIVE = 4, 8, 4
TAB = [f"tab_{i}" for i in range(N_FEATURES)]


def small_image(**kwargs):
    return ImageModality("image", backbone="simple_cnn", image_size=16, channels=1,
                         backbone_params={"channels": (4, 8)}, **kwargs)


def data(image_share, n=600, random_state=0):
    return make_multimodal_classification(
        n, n_classes=N_CLASSES, image_size=16, n_features=N_FEATURES,
        n_informative=N_INFORMATIVE, image_share=image_share, random_state=random_state,
    )


def mean_abs(explanation):
    """Mean |SHAP| per feature over rows and classes."""
    return np.abs(explanation.values).mean(axis=(0, 2))


def assert_informative_first(importance):
    informative, others = importance[:N_INFORMATIVE], importance[N_INFORMATIVE:]
    assert informative.min() > others.max(), importance.round(4)


@pytest.fixture(scope="module")
def tabular_data():
    X, y = data(image_share=0.0)
    return X[TAB], y


@pytest.fixture(scope="module")
def mlp(tabular_data):
    X, y = tabular_data
    return TabularMLPClassifier(hidden_layer_sizes=(32,), dropout=0.0, max_epochs=30,
                                lr=1e-2, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def fusion_data():
    return data(image_share=0.5)


@pytest.fixture(scope="module")
def fusion(fusion_data):
    X, y = fusion_data
    return IntermediateFusionClassifier(
        [("img", small_image()), ("tab", TabularModality(TAB, hidden_layer_sizes=(16,),
                                                         dropout=0.0))],
        embed_dim=16, head_hidden_sizes=(16,), max_epochs=20, lr=1e-2, random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def two_tables():
    """Cross-attention fusion of an image and two tables (quickly trained)."""
    X, y = make_multimodal_classification(80, image_size=16, n_features=6, random_state=1)
    X["site"] = np.where(np.arange(len(X)) % 3 == 0, "a", "b")
    clf = CrossAttentionFusionClassifier(
        [("img", small_image()),
         ("clin", TabularModality(["tab_0", "tab_1", "site"], hidden_layer_sizes=(8,))),
         ("genes", TabularModality(["tab_2", "tab_3", "tab_4", "tab_5"],
                                   hidden_layer_sizes=(8,)))],
        embed_dim=8, n_heads=2, n_layers=1, n_tokens=2, max_epochs=2, random_state=0,
    ).fit(X, y)
    return clf, X, y


# -- gradient explainer ---------------------------------------------------------
def test_mlp_ranks_informative_features(mlp, tabular_data):
    X, _ = tabular_data
    sv = shap_values(mlp, X.iloc[:30], n_samples=100, random_state=0)
    assert isinstance(sv, shap.Explanation)
    assert sv.values.shape == (30, N_FEATURES, N_CLASSES)
    assert sv.base_values.shape == (30, N_CLASSES)
    assert list(sv.feature_names) == TAB
    assert list(sv.output_names) == list(mlp.classes_)
    # data are the standardised inputs the network sees
    np.testing.assert_allclose(sv.data, mlp.modality_.transform(X.iloc[:30]), atol=1e-6)
    assert_informative_first(mean_abs(sv))


def test_fusion_ranks_informative_features(fusion, fusion_data):
    X, _ = fusion_data
    sv = shap_values(fusion, X.iloc[:30], n_samples=100, random_state=0)
    assert list(sv.feature_names) == TAB
    assert sv.values.shape == (30, N_FEATURES, N_CLASSES)
    assert_informative_first(mean_abs(sv))


def test_gradient_additivity(fusion, fusion_data):
    # Expected gradients are unbiased: base + sum -> predict_proba as n_samples
    # grows. Measured on 40 rows of this model (4 classes): largest error 0.07-0.10
    # at n_samples=200, 0.04 at 1000 (mean 0.02 and 0.01).
    X, _ = fusion_data
    rows = X.iloc[100:105]
    proba = fusion.predict_proba(rows)
    sv = shap_values(fusion, rows, n_samples=1000, batch_size=500, random_state=0)
    error = np.abs(sv.base_values + sv.values.sum(axis=1) - proba)
    assert error.max() < 0.08
    # the sums are not trivially right: the values carry the row's deviation
    assert np.abs(sv.values.sum(axis=1)).max() > 0.2


def test_base_values_hold_the_rows_other_modalities(two_tables):
    # base_values[i] = mean over background rows of the probability with the
    # explained table from the background and everything else from row i.
    clf, X, _ = two_tables
    background = X.iloc[40:50]
    rows = X.iloc[:3]
    sv = shap_values(clf, rows, modality="genes", background=background,
                     n_background=10, n_samples=20, random_state=0)
    assert list(sv.feature_names) == ["tab_2", "tab_3", "tab_4", "tab_5"]
    genes = ["tab_2", "tab_3", "tab_4", "tab_5"]
    expected = []
    for i in range(len(rows)):
        frame = pd.DataFrame({c: [rows[c].iloc[i]] * len(background) for c in X.columns},
                             index=background.index).astype(X.dtypes.to_dict())
        frame["image"] = pd.Series([rows["image"].iloc[i]] * len(background),
                                   index=background.index, dtype=object)
        frame[genes] = background[genes].to_numpy()
        expected.append(clf.predict_proba(frame).mean(axis=0))
    np.testing.assert_allclose(sv.base_values, np.array(expected), atol=1e-5)
    # another image in row 0 changes its base value: the image does enter
    swapped = rows.copy()
    swapped["image"] = pd.Series([X["image"].iloc[60]] + list(rows["image"].iloc[1:]),
                                 index=rows.index, dtype=object)
    sv2 = shap_values(clf, swapped, modality="genes", background=background,
                      n_background=10, n_samples=20, random_state=0)
    assert not np.allclose(sv2.base_values[0], sv.base_values[0], atol=1e-4)
    np.testing.assert_allclose(sv2.base_values[1:], sv.base_values[1:], atol=1e-6)


def test_fixed_inputs_model_reproduces_predict_proba(two_tables):
    clf, X, _ = two_tables
    rows = X.iloc[:4]
    dataset = clf.make_dataset(rows)
    module = clf.net_.module_
    wrapper = _FixedInputsModel(module, "clin").eval()
    proba = clf.predict_proba(rows)
    with torch.no_grad():
        for i in range(len(rows)):
            wrapper.fixed = _fixed_inputs(dataset, i, "clin", clf.device_)
            x = dataset.sources["clin"].array[i:i + 1].to(clf.device_)
            out = wrapper(x.expand(3, -1)).cpu().numpy()  # one row, repeated
            np.testing.assert_allclose(out, np.repeat(proba[i:i + 1], 3, axis=0),
                                       atol=1e-5)


def test_one_hot_names_and_clinical_modality(two_tables):
    clf, X, _ = two_tables
    sv = shap_values(clf, X.iloc[:2], modality="clin", n_samples=10, random_state=0)
    assert list(sv.feature_names) == ["tab_0", "tab_1", "site_a", "site_b"]
    np.testing.assert_array_equal(sv.data[:, 2:], [[1, 0], [0, 1]])


def test_pipeline_ending_in_mlp_matches_bare_model(mlp, tabular_data):
    X, y = tabular_data
    pipe = make_pipeline(FunctionTransformer(feature_names_out="one-to-one"),
                         TabularMLPClassifier(hidden_layer_sizes=(32,), dropout=0.0,
                                              max_epochs=30, lr=1e-2, random_state=0))
    pipe.fit(X, y)
    a = shap_values(pipe, X.iloc[:5], n_samples=30, random_state=0)
    b = shap_values(mlp, X.iloc[:5], n_samples=30, random_state=0)
    np.testing.assert_allclose(a.values, b.values, atol=1e-6)
    assert list(a.feature_names) == TAB


def test_random_state_reproducible_and_global_rng_untouched(mlp, tabular_data):
    X, _ = tabular_data
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    a = shap_values(mlp, X.iloc[:3], n_samples=20, random_state=1)
    assert np.random.rand() == expected
    b = shap_values(mlp, X.iloc[:3], n_samples=20, random_state=1)
    np.testing.assert_array_equal(a.values, b.values)


# -- tree explainer -------------------------------------------------------------
def test_xgboost_pipeline_ranks_informative_and_is_additive(tabular_data):
    X, y = tabular_data
    pipe = make_pipeline(StandardScaler(), xgboost.XGBClassifier(
        n_estimators=40, max_depth=3, learning_rate=0.2, n_jobs=1, random_state=0))
    pipe.fit(X, y)
    sv = shap_values(pipe, X.iloc[:200])
    assert list(sv.feature_names) == TAB
    assert sv.values.shape == (200, N_FEATURES, N_CLASSES)
    assert list(sv.output_names) == [0, 1, 2, 3]
    assert_informative_first(mean_abs(sv))
    transformed = pipe[0].transform(X.iloc[:200])
    np.testing.assert_allclose(sv.data, transformed, rtol=1e-6)
    margin = pipe[-1].predict(transformed, output_margin=True)
    np.testing.assert_allclose(sv.base_values + sv.values.sum(axis=1), margin, atol=1e-4)


def test_xgboost_binary_columns_and_names_from_column_transformer():
    X, y = make_multimodal_classification(200, n_features=4, n_informative=2,
                                          image_share=0.0, random_state=0)
    X = X.drop(columns="image")
    X["site"] = np.where(np.arange(len(X)) % 2 == 0, "north", "south")
    pre = ColumnTransformer([("num", StandardScaler(), ["tab_0", "tab_1", "tab_2", "tab_3"]),
                             ("cat", OneHotEncoder(), ["site"])])
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1, random_state=0)
    pipe = make_pipeline(pre, model).fit(X, y)
    sv = shap_values(pipe, X.iloc[:50])
    assert list(sv.feature_names) == ["tab_0", "tab_1", "tab_2", "tab_3", "site_north",
                                      "site_south"]
    assert sv.values.shape == (50, 6, 2)
    np.testing.assert_allclose(sv.values[:, :, 0], -sv.values[:, :, 1])
    margin = model.predict(pre.transform(X.iloc[:50]), output_margin=True)
    np.testing.assert_allclose(sv.base_values[:, 1] + sv.values[:, :, 1].sum(axis=1),
                               margin, atol=1e-4)
    # a bare model fitted on a DataFrame keeps its column names
    bare = xgboost.XGBClassifier(n_estimators=5, n_jobs=1).fit(X[["tab_0", "tab_1"]], y)
    sv = shap_values(bare, X[["tab_1", "tab_0"]].iloc[:5])
    assert list(sv.feature_names) == ["tab_0", "tab_1"]
    np.testing.assert_array_equal(sv.data[:, 0], X["tab_0"].iloc[:5])


# -- errors ---------------------------------------------------------------------
def test_errors_estimator(tabular_data):
    X, y = tabular_data
    with pytest.raises(NotFittedError):
        shap_values(TabularMLPClassifier(), X)
    with pytest.raises(NotFittedError):
        shap_values(make_pipeline(StandardScaler(), xgboost.XGBClassifier()), X)
    with pytest.raises(TypeError, match="LogisticRegression.*XGBClassifier"):
        shap_values(LogisticRegression().fit(X, y), X)
    with pytest.raises(TypeError, match="final step of Pipeline"):
        shap_values(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X)


def test_errors_modality_and_columns(two_tables, mlp, tabular_data):
    clf, X, _ = two_tables
    with pytest.raises(ValueError, match=r"several tabular modalities \['clin', 'genes'\]"):
        shap_values(clf, X.iloc[:2])
    with pytest.raises(ValueError, match=r"Unknown modality 'ehr'.*\['img', 'clin', 'genes'\]"):
        shap_values(clf, X.iloc[:2], modality="ehr")
    with pytest.raises(ValueError, match="'img' is a ImageModality"):
        shap_values(clf, X.iloc[:2], modality="img")
    with pytest.raises(KeyError, match="tab_3"):
        shap_values(clf, X.drop(columns="tab_3").iloc[:2], modality="clin")
    with pytest.raises(KeyError, match="tab_1"):
        shap_values(clf, X.iloc[:2], modality="clin",
                    background=X.drop(columns="tab_1").iloc[10:20])
    gap = X.iloc[:3].copy()
    gap.loc[gap.index[1], ["tab_2", "tab_3", "tab_4", "tab_5"]] = np.nan
    with pytest.raises(ValueError, match=r"'genes' is missing.*rows \[1\]"):
        shap_values(clf, gap, modality="genes")
    Xt, _ = tabular_data
    with pytest.raises(ValueError, match="Unknown modality 'genes'"):
        shap_values(mlp, Xt.iloc[:2], modality="genes")
    with pytest.raises(ValueError, match="n_samples"):
        shap_values(mlp, Xt.iloc[:2], n_samples=0)


# -- plots ----------------------------------------------------------------------
def test_plots(mlp, tabular_data, tmp_path):
    X, _ = tabular_data
    sv = shap_values(mlp, X.iloc[:10], n_samples=10, random_state=0)
    for plot in (plot_shap_summary, plot_shap_bar):
        with pytest.raises(ValueError, match="4 outputs.*target="):
            plot(sv)
        with pytest.raises(ValueError, match="target=7 is not among"):
            plot(sv, target=7)
        path = tmp_path / f"{plot.__name__}.png"
        fig = plot(sv, target=2, max_display=5, path=path)
        assert isinstance(fig, plt.Figure)
        assert fig.axes[0].get_title() == "class 2"
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert any(name in " ".join(labels) for name in TAB[:N_INFORMATIVE])
        assert path.stat().st_size > 1000
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        plt.close(fig)
    # a two-class explanation defaults to the second class; 2-D works as is
    two = shap.Explanation(sv.values[:, :, :2], base_values=sv.base_values[:, :2],
                           data=sv.data, feature_names=sv.feature_names,
                           output_names=["benign", "malignant"])
    fig = plot_shap_bar(two)
    assert fig.axes[0].get_title() == "class malignant"
    plt.close(fig)
    fig = plot_shap_summary(two[:, :, 0])
    assert fig.axes[0].get_title() == ""
    with pytest.raises(ValueError, match="single output"):
        plot_shap_summary(two[:, :, 0], target="benign")
    plt.close("all")


@pytest.mark.real_data
def test_metabric_genes_tree_shap(data_home):
    # GATA3, the luminal transcription factor, separates Luminal from
    # Basal/Her2 tumours; the booster leans on it most.
    from skmultimodal.datasets import load_metabric

    metabric = load_metabric(data_home=data_home, modalities=("genes",))
    genes = metabric.feature_groups["genes"]
    X, y = metabric.data[genes], metabric.target
    model = xgboost.XGBClassifier(n_estimators=50, max_depth=3, learning_rate=0.2,
                                  n_jobs=1, random_state=0).fit(X, y)
    sv = shap_values(model, X.iloc[:300])
    assert list(sv.feature_names) == genes
    np.testing.assert_allclose(sv.base_values[:, 1] + sv.values[:, :, 1].sum(axis=1),
                               model.predict(X.iloc[:300], output_margin=True), atol=1e-4)
    top = np.asarray(sv.feature_names)[np.argsort(-mean_abs(sv))[:3]]
    assert "gata3" in top, top
