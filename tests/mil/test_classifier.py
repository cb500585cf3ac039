"""ImageBagClassifier and bags in the fusion classifiers."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from skmultimodal import (
    CrossAttentionFusionClassifier,
    ImageBagClassifier,
    ImageBagModality,
    IntermediateFusionClassifier,
    TabularModality,
)
from skmultimodal.data import _bags

SMALL = dict(backbone="simple_cnn", image_size=16, channels=1,
             backbone_params={"channels": (8, 16)}, random_state=0, device="cpu")


def _bags_data(n=40, seed=0):
    """Bags of 2-7 16x16 images; positive bags hold one bright square."""
    rng = np.random.default_rng(seed)
    bags, y = [], np.arange(n) % 2
    for label in y:
        k = int(rng.integers(2, 8))
        inst = rng.random((k, 16, 16), dtype=np.float32) * 0.5
        if label:
            r, c = rng.integers(2, 11, 2)
            inst[rng.integers(k), r:r + 5, c:c + 5] = 1.0
        bags.append(list(inst))
    X = pd.DataFrame({"tiles": bags, "tab_0": rng.normal(size=n),
                      "patient": np.arange(n) // 2})
    return X, y


@pytest.fixture(scope="module")
def data():
    return _bags_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return ImageBagClassifier("tiles", max_epochs=3, **SMALL).fit(X, y)


def _shuffled(X, seed=1):
    rng = np.random.default_rng(seed)
    X = X.copy()
    X["tiles"] = [bag if bag is None else [bag[i] for i in rng.permutation(len(bag))]
                  for bag in X["tiles"]]
    return X


@pytest.mark.parametrize("pooling", ["gated_attention", "attention", "mean", "max"])
def test_prediction_does_not_depend_on_instance_order(data, pooling):
    X, y = data
    clf = ImageBagClassifier("tiles", pooling=pooling, max_epochs=2, **SMALL).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(_shuffled(X)), clf.predict_proba(X),
                               atol=1e-5)


def test_padding_does_not_change_the_prediction(fitted, data):
    X, _ = data
    one = clone(fitted).set_params(batch_size=1)
    one.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    # batches of one bag have no padding; batches of 16 pad to the longest bag
    np.testing.assert_allclose(one.predict_proba(X), fitted.predict_proba(X), atol=1e-5)


def test_input_forms(fitted, data):
    X, _ = data
    p = fitted.predict_proba(X)
    bags = list(X["tiles"])
    as_list = ImageBagClassifier(max_epochs=3, **SMALL).fit(bags, data[1])
    np.testing.assert_allclose(as_list.predict_proba(bags), p, atol=1e-6)
    np.testing.assert_allclose(as_list.predict_proba(pd.Series(bags)), p, atol=1e-6)
    arrays = [np.stack(b) for b in bags]  # one (k, H, W) array per bag
    np.testing.assert_allclose(as_list.predict_proba(arrays), p, atol=1e-6)
    one_column = ImageBagClassifier(max_epochs=3, **SMALL).fit(X[["tiles"]], data[1])
    np.testing.assert_allclose(one_column.predict_proba(X[["tiles"]]), p, atol=1e-6)
    with pytest.raises(ValueError, match="X has column 'other', but fit saw 'tiles'"):
        one_column.predict(X[["tiles"]].rename(columns={"tiles": "other"}))
    with pytest.raises(ValueError, match="set column= to the one holding the bags"):
        ImageBagClassifier(**SMALL).fit(X, data[1])


def test_clone_pickle_and_grid_search(fitted, data):
    X, y = data
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X))
    assert clone(fitted).get_params()["pooling"] == "gated_attention"
    search = GridSearchCV(
        ImageBagClassifier("tiles", max_epochs=1, **SMALL),
        {"pooling": ["gated_attention", "mean"], "max_instances": [None, 3]},
        cv=GroupKFold(2), scoring="roc_auc",
    ).fit(X, y, groups=X["patient"])
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_same_random_state_same_model_with_max_instances(data):
    X, y = data
    a = ImageBagClassifier("tiles", max_instances=3, max_epochs=2, **SMALL).fit(X, y)
    b = ImageBagClassifier("tiles", max_instances=3, max_epochs=2, **SMALL).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_max_instances_bounds_training_bags_not_prediction(data, monkeypatch):
    X, y = data
    sizes = {"train": [], "predict": []}
    original = _bags.ImageBagSource.__getitem__

    def counting(self, i):
        bag = original(self, i)
        sizes["train" if self.train else "predict"].append(len(bag))
        return bag

    monkeypatch.setattr(_bags.ImageBagSource, "__getitem__", counting)
    clf = ImageBagClassifier("tiles", max_instances=3, max_epochs=1, recalibrate_bn=False,
                             num_workers=0, **SMALL).fit(X, y)
    assert max(sizes["train"]) == 3
    sizes["predict"].clear()
    clf.predict(X)
    assert sorted(sizes["predict"]) == sorted(len(b) for b in X["tiles"])


def test_frozen_encoder_and_memory_encode_each_instance_once(data, tmp_path, encoded):
    X, y = data
    n_instances = sum(len(b) for b in X["tiles"])
    kw = dict(SMALL, freeze_backbone=True, max_epochs=3, num_workers=0)
    plain = ImageBagClassifier("tiles", **kw).fit(X, y)
    encoded["images"] = 0
    first = ImageBagClassifier("tiles", memory=str(tmp_path), **kw).fit(X, y)
    assert encoded["images"] == n_instances  # once, not once per epoch
    np.testing.assert_allclose(first.predict_proba(X), plain.predict_proba(X), atol=1e-5)
    encoded["images"] = 0
    other = ImageBagClassifier("tiles", memory=str(tmp_path), pooling="mean", **kw).fit(X, y)
    other.predict_proba(X)
    assert encoded["images"] == 0  # another candidate: every instance read from the cache


def test_bad_bags_are_clear_errors(data, tmp_path):
    X, y = data
    clf = ImageBagClassifier("tiles", max_epochs=1, **SMALL)
    bad = X.copy()
    bad.at[3, "tiles"] = "slide.png"
    with pytest.raises(TypeError, match=r"Bag cell in column 'tiles' \(row 3\) is a str"):
        clf.fit(bad, y)
    bad = X.copy()
    bad.at[5, "tiles"] = [X.at[5, "tiles"][0], str(tmp_path / "absent.png")]
    with pytest.raises(FileNotFoundError, match=r"row 5.*absent\.png"):
        clf.fit(bad, y)
    bad = X.copy()
    bad.at[2, "tiles"] = np.zeros((16, 16))
    with pytest.raises(ValueError, match=r"row 2.*shape \(16, 16\).*\(k, H, W\)"):
        clf.fit(bad, y)
    bad = X.copy()
    bad.at[4, "tiles"] = [np.zeros((16, 16)), "text"]
    with pytest.raises(FileNotFoundError, match=r"row 4"):
        clf.fit(bad, y)
    bad = X.copy()
    bad.at[7, "tiles"] = []
    with pytest.raises(ValueError, match=r"1 bag\(s\) in column 'tiles' are missing or "
                                         r"empty at rows \[7\].*accepts missing bags"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="max_instances"):
        ImageBagClassifier("tiles", max_instances=0, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="pooling"):
        ImageBagClassifier("tiles", pooling="sum", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="fixed image_size"):
        ImageBagClassifier("tiles", **dict(SMALL, image_size=None)).fit(X, y)


def _fusion(cls, **params):
    kw = dict(embed_dim=16, max_epochs=3, random_state=0, device="cpu")
    if cls is CrossAttentionFusionClassifier:
        kw.update(n_heads=2, n_layers=1, n_tokens=2)
    modalities = [("tiles", ImageBagModality("tiles", **{k: v for k, v in SMALL.items()
                                                         if k not in ("random_state",
                                                                      "device")})),
                  ("clin", TabularModality(["tab_0"], hidden_layer_sizes=(8,)))]
    return cls(modalities, **dict(kw, **params))


@pytest.mark.parametrize("cls", [IntermediateFusionClassifier, CrossAttentionFusionClassifier])
def test_bags_in_fusion(cls, data):
    X, y = data
    X = X.copy()
    X.at[0, "tiles"] = None  # missing bags: missing modality
    X.at[1, "tiles"] = []
    clf = _fusion(cls).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(clf.predict_proba(_shuffled(X)), proba, atol=1e-5)
    assert clf.get_modality_columns() == {"tiles": ["tiles"], "clin": ["tab_0"]}
    clf.set_params(tiles__pooling="mean", tiles__max_instances=4)
    assert clf.get_params()["tiles__pooling"] == "mean"
    ds = clf.make_dataset(X.iloc[:4])
    from skmultimodal.data._dataset import collate_batch
    inputs, _ = collate_batch([ds[i] for i in range(4)])
    weights = clf.net_.module_.instance_weights(**inputs)["tiles"]
    assert weights.shape == inputs["tiles_mask"].shape
    np.testing.assert_allclose(weights.sum(dim=1).detach().numpy()[2:], 1, atol=1e-5)


@pytest.mark.parametrize("cls", [IntermediateFusionClassifier, CrossAttentionFusionClassifier])
def test_bags_in_fusion_with_memory(cls, data, tmp_path, encoded):
    X, y = data
    plain = _fusion(cls, num_workers=0).set_params(tiles__freeze_backbone=True).fit(X, y)
    encoded["images"] = 0
    cached = _fusion(cls, num_workers=0, memory=str(tmp_path)).set_params(
        tiles__freeze_backbone=True).fit(X, y)
    assert encoded["images"] == sum(len(b) for b in X["tiles"])
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X), atol=1e-5)


def test_grad_cam_of_a_bag_points_to_the_bag_explanations(fitted, data):
    from skmultimodal.inspection import grad_cam

    X, _ = data
    with pytest.raises(ValueError, match="is a bag of images.*bag_instance_grad_cam"):
        grad_cam(fitted, X.iloc[:2])
    fusion = _fusion(IntermediateFusionClassifier, max_epochs=1).fit(*data)
    with pytest.raises(ValueError, match="'tiles' .* is a bag of images"):
        grad_cam(fusion, X.iloc[:2], modality="tiles")


def test_cross_attention_weights_point_to_bag_attention(data):
    clf = _fusion(CrossAttentionFusionClassifier, max_epochs=1).fit(*data)
    with pytest.raises(ValueError, match="does not cover bags.*bag_attention"):
        clf.attention_weights(data[0])


def test_bag_classifier_in_late_fusion_and_skops(fitted, data, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from skmultimodal import LateFusionClassifier
    from skmultimodal.io import dump, load

    X, y = data
    late = LateFusionClassifier([
        ("tiles", ImageBagClassifier("tiles", max_epochs=1, **SMALL), ["tiles"]),
        ("clin", LogisticRegression(), ["tab_0"])]).fit(X, y)
    assert np.isfinite(late.predict_proba(X)).all()
    dump(fitted, tmp_path / "bags.skops")  # loads without trusting anything by hand
    np.testing.assert_allclose(load(tmp_path / "bags.skops").predict_proba(X),
                               fitted.predict_proba(X))


def test_deep_feature_extractor_refuses_bags(data):
    from skmultimodal import DeepFeatureExtractor

    modality = ImageBagModality("tiles", backbone="simple_cnn", image_size=16, channels=1)
    with pytest.raises(TypeError, match="ImageBagModality.*ImageBagClassifier"):
        DeepFeatureExtractor([("t", modality)], max_epochs=1).fit(*data)
