"""Behaviour shared by the fusion classifiers: accuracy gain, sklearn contract, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.fusion import (
    CrossAttentionFusionClassifier,
    IntermediateFusionClassifier,
    LateFusionClassifier,
)
from skmultimodal.modalities import TabularModality

from . import FAST, IMAGE_SIZE, TAB, image_modality, make_data, tab_modality, two_modalities


def _intermediate(**kw):
    return IntermediateFusionClassifier(two_modalities(), embed_dim=16,
                                        head_hidden_sizes=(16,), **{**FAST, **kw})


def _cross_attention(**kw):
    return CrossAttentionFusionClassifier(two_modalities(), embed_dim=16, n_heads=2,
                                          n_layers=1, n_tokens=2, **{**FAST, **kw})


def _image_classifier(**kw):
    # the generator's blobs sit at fixed places (as in ImageModality: no augmentation)
    return ImageClassifier("image", backbone="simple_cnn", image_size=IMAGE_SIZE, channels=1,
                           **{**FAST, "augment": False, **kw})


def _late(**kw):
    return LateFusionClassifier([("img", _image_classifier(**kw), ["image"]),
                                 ("tab", LogisticRegression(), TAB)])


FACTORIES = {
    "intermediate": _intermediate,
    "cross_attention": _cross_attention,
    "late": _late,
}


@pytest.fixture(scope="module")
def data():
    return make_data(80)


# -- the point of fusion: split signal -------------------------------------------------
SPLIT_BUDGET = dict(max_epochs=10, batch_size=32, lr=1e-2, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def split_signal_scores():
    """3-fold CV accuracy of unimodal and fusion models, half the signal per modality.

    Every network, unimodal or fused, recomputes its batch-norm statistics
    after training (the library's default), so all are compared on equal terms.
    """
    X, y = make_data(300, image_share=0.5)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    img = image_modality()
    tab = tab_modality(hidden_layer_sizes=(32,))
    models = {
        "image": _image_classifier(**SPLIT_BUDGET),
        "tabular": TabularMLPClassifier(TAB, hidden_layer_sizes=(32,),
                                        **SPLIT_BUDGET),
        "intermediate": IntermediateFusionClassifier(
            [("img", img), ("tab", tab)], embed_dim=32, head_hidden_sizes=(32,),
            **SPLIT_BUDGET),
        "cross_attention": CrossAttentionFusionClassifier(
            [("img", img), ("tab", tab)], embed_dim=32, n_heads=2, n_layers=1,
            **SPLIT_BUDGET),
        "late": LateFusionClassifier(
            [("img", _image_classifier(**SPLIT_BUDGET), ["image"]),
             ("tab", LogisticRegression(), TAB)]),
    }
    scores = {name: cross_val_score(model, X, y, cv=cv).mean() for name, model in models.items()}
    print("split-signal 3-fold CV accuracy:", {k: round(v, 3) for k, v in scores.items()})
    return scores


@pytest.mark.parametrize("fusion", ["intermediate", "cross_attention", "late"])
def test_fusion_beats_each_modality_alone(split_signal_scores, fusion):
    scores = split_signal_scores
    best_unimodal = max(scores["image"], scores["tabular"])
    assert scores[fusion] >= best_unimodal + 0.05, scores


# -- scikit-learn contract ---------------------------------------------------------------
@pytest.mark.parametrize("kind", FACTORIES)
def test_clone_pickle_and_reproducibility(data, kind):
    X, y = data
    est = FACTORIES[kind]()
    fitted = clone(est).fit(X, y)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    again = clone(est).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    # row-order invariance
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(fitted.predict_proba(X.iloc[perm]), proba[perm],
                               rtol=1e-5, atol=1e-6)
    assert list(fitted.feature_names_in_) == list(X.columns)
    assert fitted.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("kind", FACTORIES)
def test_string_labels(data, kind):
    X, y = data
    labels = np.array(["benign", "malignant"])[y]
    est = FACTORIES[kind]().fit(X, labels)
    assert set(est.predict(X)) <= {"benign", "malignant"}
    assert list(est.classes_) == ["benign", "malignant"]


def test_grid_search_over_nested_and_fusion_params(data):
    X, y = data
    grid = GridSearchCV(
        _intermediate(max_epochs=1),
        {"tab__hidden_layer_sizes": [(8,), (16,)], "fusion": ["concat", "gated"]},
        cv=2,
    ).fit(X, y)
    assert set(grid.best_params_) == {"tab__hidden_layer_sizes", "fusion"}
    best = grid.best_estimator_
    sizes = grid.best_params_["tab__hidden_layer_sizes"]
    assert best.modalities_["tab"].hidden_layer_sizes == sizes
    assert best.net_.module_.fusion == grid.best_params_["fusion"]


def test_grid_search_over_image_modality_param(data):
    X, y = data
    grid = GridSearchCV(_cross_attention(max_epochs=1),
                        {"img__normalize": ["imagenet", None], "n_heads": [1, 2]}, cv=2)
    grid.fit(X, y)
    assert grid.best_estimator_.get_params()["img__normalize"] in ("imagenet", None)


def test_cross_validate_grouped_parallel():
    X, y = make_data(60, n_patients=20)
    res = cross_validate(_intermediate(max_epochs=1), X, y, groups=X["patient_id"],
                         cv=StratifiedGroupKFold(3), n_jobs=2,
                         scoring=["accuracy", "roc_auc"])
    assert np.isfinite(res["test_accuracy"]).all()
    assert len(res["test_roc_auc"]) == 3


# -- missing modalities ----------------------------------------------------------------
@pytest.mark.parametrize("kind", FACTORIES)
def test_missing_modalities_in_fit_and_predict(kind):
    X, y = make_data(80, missing_rate=0.2)
    assert X["image"].isna().sum() > 0 and X[TAB].isna().all(axis=1).sum() > 0
    est = FACTORIES[kind]().fit(X, y)
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("kind", FACTORIES)
def test_row_with_every_modality_missing(data, kind):
    X, y = data
    est = FACTORIES[kind]().fit(X, y)
    bad = X.iloc[:4].copy()
    bad.loc[bad.index[1], TAB] = np.nan
    bad.loc[bad.index[1], "image"] = None
    with pytest.raises(ValueError, match=r"every modality missing.*rows \[1\]"):
        est.predict(bad)
    with pytest.raises(ValueError, match="every modality missing"):
        FACTORIES[kind]().fit(pd.concat([bad, X]), np.r_[y[:4], y])


# -- input errors ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", FACTORIES)
def test_input_errors(data, kind):
    X, y = data
    est = FACTORIES[kind]()
    with pytest.raises(KeyError, match="available columns"):
        est.fit(X.drop(columns=["tab_3"]), y)
    numbers = X.assign(image=np.arange(len(X), dtype=float))
    with pytest.raises(TypeError, match="image"):
        est.fit(numbers, y)
    strings = X.assign(tab_0=X["tab_0"].astype(object))
    strings.loc[strings.index[3], "tab_0"] = "n/a"
    with pytest.raises(ValueError, match="tab_0|n/a"):  # late: the estimator's message
        est.fit(strings, y)
    fitted = FACTORIES[kind]().fit(X, y)
    with pytest.raises(KeyError, match="available columns"):
        fitted.predict(X.drop(columns=["image"]).assign(other=1))


@pytest.mark.parametrize("kind", ["intermediate", "cross_attention"])
def test_non_frame_input(data, kind):
    X, y = data
    with pytest.raises(TypeError, match="DataFrame"):
        FACTORIES[kind]().fit(X.to_numpy(), y)
    with pytest.raises(TypeError, match="DataFrame"):
        FACTORIES[kind]().fit(X["tab_0"], y)


@pytest.mark.parametrize("Fusion", [IntermediateFusionClassifier,
                                    CrossAttentionFusionClassifier])
def test_modality_list_validation(data, Fusion):
    X, y = data
    cases = [
        ([("a", tab_modality()), ("a", image_modality())], ValueError,
         r"not unique: \['a', 'a'\]"),
        ([("a__b", tab_modality())], ValueError, "__"),
        ([("max_epochs", tab_modality())], ValueError,
         r"conflict with constructor arguments: \['max_epochs'\]"),
        ([("tab", LogisticRegression())], TypeError,
             "ImageModality, ImageBagModality or TabularModality"),
        ({"tab": tab_modality()}, TypeError, "list"),
        ([], TypeError, "non-empty"),
        ([("img", image_modality(backbone="vgg"))], ValueError, "backbone"),
    ]
    for modalities, error, match in cases:
        with pytest.raises(error, match=match):
            Fusion(modalities, **FAST).fit(X, y)


def test_set_params_nested():
    est = _intermediate()
    est.set_params(img__backbone="resnet18", tab__hidden_layer_sizes=(32,), embed_dim=8)
    params = est.get_params()
    assert params["img__backbone"] == "resnet18"
    assert params["tab__hidden_layer_sizes"] == (32,)
    assert params["embed_dim"] == 8
    est.set_params(tab=TabularModality(TAB[:3]))
    assert est.get_params()["tab__columns"] == TAB[:3]
    assert "img__column" in est.get_params()
    assert "img__column" not in est.get_params(deep=False)


def test_tabular_array_input():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    for est in (
        IntermediateFusionClassifier([("tab", TabularModality(None))], **FAST),
        CrossAttentionFusionClassifier([("tab", TabularModality(None))], embed_dim=8,
                                       n_heads=2, **FAST),
        LateFusionClassifier([("tab", LogisticRegression(), None)]),
    ):
        est.fit(X, y)
        assert est.n_features_in_ == 4
        assert est.predict(X).shape == (60,)
        with pytest.raises(ValueError, match="features"):
            est.predict(X[:, :3])
