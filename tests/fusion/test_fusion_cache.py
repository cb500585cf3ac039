"""Fusion classifiers with memory=...: frozen image encoders run once per image."""

import os
import warnings

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skmultimodal.estimators._cache import CACHE_FOLDER, EmbeddingStore
from skmultimodal.fusion import CrossAttentionFusionClassifier, IntermediateFusionClassifier

from . import FAST, image_modality, make_data, tab_modality

CLASSES = {
    "intermediate": (IntermediateFusionClassifier, dict(embed_dim=8)),
    "cross_attention": (CrossAttentionFusionClassifier, dict(embed_dim=8, n_heads=2,
                                                             n_layers=1)),
}


def _n_entries(folder):
    return sum(f.endswith(".npy") for _, _, files in os.walk(folder) for f in files)


def _make(kind, memory=None, augment=False, freeze=True, **params):
    cls, extra = CLASSES[kind]
    modalities = [("img", image_modality(freeze_backbone=freeze, augment=augment,
                                         backbone_params={"channels": (8, 16)})),
                  ("tab", tab_modality(hidden_layer_sizes=(8,)))]
    return cls(modalities, memory=memory, **{**FAST, "max_epochs": 3, **extra, **params})


@pytest.fixture(scope="module")
def data():
    return make_data(60, missing_rate=0.2)


@pytest.mark.parametrize("kind", list(CLASSES))
def test_identical_to_no_cache_with_missing_images(tmp_path, data, encoded, kind):
    X, y = data
    n_missing = int(X["image"].isna().sum())
    assert 0 < n_missing < len(X)
    plain = _make(kind, early_stopping=True, validation_fraction=0.2).fit(X, y)
    expected = plain.predict_proba(X)
    assert encoded["images"] > 3 * len(X)  # the encoder ran in every batch
    encoded["images"] = 0
    cached = _make(kind, tmp_path, early_stopping=True, validation_fraction=0.2).fit(X, y)
    # each present image once, plus the placeholder of the missing ones
    assert encoded["images"] == len(X) - n_missing + 1
    assert _n_entries(tmp_path / CACHE_FOLDER) == len(X) - n_missing + 1
    loads = []
    original_load = EmbeddingStore.load

    def counting_load(self, namespace, key):
        loads.append(key)
        return original_load(self, namespace, key)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(EmbeddingStore, "load", counting_load)
        np.testing.assert_allclose(cached.predict_proba(X), expected, rtol=0, atol=1e-6)
    # each present image and the shared placeholder are read from disk once
    assert len(loads) == len(set(loads)) == len(X) - n_missing + 1
    np.testing.assert_array_equal(cached.net_.history[:, "train_loss"],
                                  plain.net_.history[:, "train_loss"])
    assert encoded["images"] == len(X) - n_missing + 1  # predict read the cache
    output = "pooled" if kind == "intermediate" else "features"
    assert cached.net_.module_.encoders["img"].precomputed == output
    assert plain.net_.module_.encoders["img"].precomputed is None


def test_attention_weights_with_cache(tmp_path, data):
    X, y = data
    plain = _make("cross_attention").fit(X, y).attention_weights(X.iloc[:7])
    cached = _make("cross_attention", tmp_path).fit(X, y).attention_weights(X.iloc[:7])
    assert cached.grid_shape == plain.grid_shape == {"img": (8, 8)}
    for direction, layers in plain.weights.items():
        np.testing.assert_allclose(cached.weights[direction][0], layers[0], atol=1e-6)


@pytest.mark.parametrize("kind", list(CLASSES))
def test_grid_search_computes_each_image_once(tmp_path, encoded, kind):
    X, y = make_data(40)
    grid = ({"embed_dim": [8, 16]} if kind == "intermediate"
            else {"n_layers": [0, 1]})
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    plain = GridSearchCV(_make(kind), grid, cv=cv).fit(X, y)
    encoded["images"] = 0
    cached = GridSearchCV(_make(kind, tmp_path), grid, cv=cv).fit(X, y)
    # 2 candidates x 2 folds and the refit: every image through the encoder once
    assert encoded["images"] == len(X)
    np.testing.assert_allclose(cached.cv_results_["mean_test_score"],
                               plain.cv_results_["mean_test_score"], rtol=0, atol=0)
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X), atol=1e-6)


def test_pickled_fusion_model_predicts_new_images(tmp_path, data, encoded):
    X, y = data
    train, new = X.iloc[:40], X.iloc[40:]
    clf = _make("intermediate", tmp_path / "cache").fit(train, y[:40])
    expected = clf.predict_proba(X)
    n = encoded["images"]
    joblib.dump(clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=0, atol=1e-6)
    assert encoded["images"] == n  # new rows were cached by the first predict
    plain = _make("intermediate").fit(train, y[:40]).predict_proba(new)
    np.testing.assert_allclose(loaded.predict_proba(new), plain, atol=1e-6)
    # without a cache the precomputing network still predicts (encoder run again)
    loaded.set_params(memory=None)
    encoded["images"] = 0
    np.testing.assert_allclose(loaded.predict_proba(new), plain, atol=1e-6)
    assert encoded["images"] == len(new) - int(new["image"].isna().sum()) + 1


def test_augmented_frozen_encoder_is_not_cached(tmp_path, data, encoded):
    X, y = data
    with pytest.warns(UserWarning, match="augment=True changes the images"):
        cached = _make("intermediate", tmp_path, augment=True).fit(X, y)
    assert cached.net_.module_.encoders["img"].precomputed is None
    assert _n_entries(tmp_path) == 0
    plain = _make("intermediate", augment=True).fit(X, y)
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X), atol=1e-6)


def test_trainable_encoder_warns_memory_unused(tmp_path, data):
    X, y = data
    with pytest.warns(UserWarning, match="memory has no effect"):
        clf = _make("intermediate", tmp_path, freeze=False).fit(X, y)
    assert clf.net_.module_.encoders["img"].precomputed is None
    assert _n_entries(tmp_path) == 0


def test_no_warning_without_memory(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _make("intermediate", freeze=False, max_epochs=1).fit(X, y)


def test_memory_of_wrong_type(data):
    X, y = data
    with pytest.raises(TypeError, match="The .memory. parameter of "
                                        "CrossAttentionFusionClassifier must be None"):
        _make("cross_attention", memory=42).fit(X, y)


def test_feature_map_of_another_shape_is_recomputed(tmp_path, data, encoded):
    """A stored feature map of another spatial size (another image_size, a damaged
    file) is computed again, not reported as images of different sizes."""
    X, y = data
    n_images = len(X) - int(X["image"].isna().sum()) + 1
    clf = _make("cross_attention", tmp_path, max_epochs=1).fit(X, y)
    expected = clf.predict_proba(X)
    assert encoded["images"] == n_images
    entries = sorted((tmp_path / CACHE_FOLDER).rglob("*.npy"))
    good = np.load(entries[0])
    assert good.ndim == 3
    np.save(entries[0], np.zeros((good.shape[0], 3, 3), dtype=np.float32))
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=0, atol=1e-5)
    # the entries read could not be told apart: all were computed again, once
    assert encoded["images"] == 2 * n_images
    np.testing.assert_allclose(np.load(entries[0]), good, rtol=1e-5, atol=1e-6)
    clf.predict_proba(X)
    assert encoded["images"] == 2 * n_images


def test_read_only_cache_still_fits(tmp_path, data, monkeypatch):
    X, y = data

    def refuse(self, path, write):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(EmbeddingStore, "_write", refuse)
    with pytest.warns(UserWarning, match="cannot be written") as record:
        cached = _make("intermediate", tmp_path, max_epochs=1).fit(X, y)
    assert sum("cannot be written" in str(w.message) for w in record) == 1
    assert _n_entries(tmp_path) == 0
    plain = _make("intermediate", max_epochs=1).fit(X, y)
    with pytest.warns(UserWarning, match="cannot be written"):
        proba = cached.predict_proba(X)
    np.testing.assert_allclose(proba, plain.predict_proba(X), atol=1e-6)
