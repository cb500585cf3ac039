"""skmultimodal.io: models saved and loaded through skops, never through pickle."""

import io
import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNet
from skorch.callbacks import Callback
from sksurv.util import Surv

from instance_generator import MULTIMODAL_PARAMS
from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import (
    IntermediateFusionClassifier,
    LateFusionClassifier,
    make_stacking_ensemble,
)
from skmultimodal.io import UntrustedTypesError, dump, load, trusted_types
from skmultimodal.io._skops import NetRecord, _portable, _stored_attributes
from skmultimodal.modalities import ImageModality, TabularModality
from skmultimodal.utils.discovery import all_estimators

TAB = ["tab_0", "tab_1", "tab_2", "tab_3"]
IMAGE = dict(backbone="simple_cnn", image_size=16)

# Transformers have no entry in MULTIMODAL_PARAMS (classifiers only).
TRANSFORMER_PARAMS = {
    "ImageEmbedder": dict(column="image", **IMAGE, random_state=0, device="cpu"),
    "DeepFeatureExtractor": dict(
        modalities=[("a", ImageModality("image", **IMAGE)),
                    ("b", ImageModality("image2", **IMAGE))],
        max_epochs=1, random_state=0, device="cpu"),
}

# scikit-learn types of the stacking pipeline that skops (0.16) does not trust
# by default (the trees of the forests among them): the caller must list them.
STACKING_TRUSTED = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.tree._tree.Tree",
    "sklearn.utils._bunch.Bunch",
]


def _instance(name):
    if name == "make_stacking_ensemble":
        return make_stacking_ensemble(
            [("a", ImageModality("image", **IMAGE)), ("b", ImageModality("image2", **IMAGE))],
            max_epochs=1, cv=2, random_state=0, device="cpu")
    estimators = dict(all_estimators())
    params = {**MULTIMODAL_PARAMS, **TRANSFORMER_PARAMS}[name]
    return clone(estimators[name](**params))


CASES = sorted(name for name, _ in all_estimators()) + ["make_stacking_ensemble"]


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(32, image_size=16, n_features=4,
                                          n_informative=2, random_state=0)
    X["image2"] = X["image"]
    X["bag"] = [[image, np.flipud(image)][:1 + i % 2] for i, image in enumerate(X["image"])]
    return X, y


SURVIVAL = {name for name, _ in all_estimators(type_filter="survival")}


def _survival_target(y):
    """A survival target (event, time) for the rows of a classification table."""
    rng = np.random.default_rng(0)
    return Surv.from_arrays(rng.random(len(y)) > 0.3, rng.exponential(10, len(y)) + y)


def _output(est, X):
    if _is_survival(est):
        return est.predict(X)
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.transform(X)


def _is_survival(est):
    return type(est).__name__ in SURVIVAL


def _assert_params_equal(a, b):
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for key in pa:
        _assert_equal(pa[key], pb[key], key)


def _assert_equal(a, b, where):
    assert type(a) is type(b), where
    if isinstance(a, BaseEstimator):
        _assert_params_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for x, y in zip(a, b):
            _assert_equal(x, y, where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_equal(a[k], b[k], f"{where}[{k!r}]")
    else:
        assert a == b, where


def _round_trip(est, path, **kwargs):
    dump(est, path)
    return load(path, **kwargs)


def test_every_public_estimator_has_a_test_configuration():
    for name, _ in all_estimators():
        assert name in MULTIMODAL_PARAMS or name in TRANSFORMER_PARAMS, name


@pytest.mark.parametrize("name", CASES)
def test_round_trip_predicts_identically(name, data, tmp_path):
    X, y = data
    if name in SURVIVAL:
        y = _survival_target(y)
    est = _instance(name).fit(X, y)
    expected = _output(est, X)
    path = tmp_path / "model.skops"
    dump(est, path)
    untrusted = set(sio.get_untrusted_types(file=path))
    if name == "make_stacking_ensemble":
        # the library's types and the listed scikit-learn internals, no more
        extra = untrusted - set(trusted_types())
        assert extra <= set(STACKING_TRUSTED)
        if extra:
            with pytest.raises(UntrustedTypesError) as info:
                load(path)
            assert info.value.untrusted == sorted(extra)
        loaded = load(path, trusted=STACKING_TRUSTED)
    else:
        # nothing beyond the library's own types needs trusting
        assert untrusted <= set(trusted_types())
        loaded = load(path)
    assert type(loaded) is type(est)
    _assert_params_equal(loaded, est)
    np.testing.assert_array_equal(_output(loaded, X), expected)
    if hasattr(est, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
    # the loaded model pickles, clones and refits as any other
    again = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(_output(again, X), expected)
    clone(loaded).fit(X, y)


def test_unfitted_estimator_round_trips(tmp_path):
    est = _instance("IntermediateFusionClassifier")
    loaded = _round_trip(est, tmp_path / "m.skops")
    assert type(loaded) is type(est)
    _assert_params_equal(loaded, est)
    assert not hasattr(loaded, "net_")


def test_dump_leaves_the_estimator_unchanged(data):
    X, y = data
    est = _instance("TabularMLPClassifier").fit(X, y)
    net, history = est.net_, est.net_.history
    before = dict(vars(est))
    dump(est, io.BytesIO())
    assert vars(est) == before
    assert est.net_ is net and isinstance(net, NeuralNet) and net.history is history
    pickle.loads(pickle.dumps(est))  # pickling is unchanged


def test_loaded_net_matches_the_fitted_one(data, tmp_path):
    X, y = data
    est = _instance("IntermediateFusionClassifier").fit(X, y)
    loaded = _round_trip(est, tmp_path / "m.skops")
    assert type(loaded.net_) is type(est.net_)
    assert loaded.net_.history.to_list() == est.net_.history.to_list()
    assert loaded.net_.batch_size == est.net_.batch_size
    state, expected = loaded.net_.module_.state_dict(), est.net_.module_.state_dict()
    assert state.keys() == expected.keys()
    for key in state:
        torch.testing.assert_close(state[key], expected[key], rtol=0, atol=0)
    assert loaded.n_iter_ == est.n_iter_


def test_class_weight_is_kept(data, tmp_path):
    X, y = data
    est = TabularMLPClassifier(TAB, hidden_layer_sizes=(8,), max_epochs=1,
                               class_weight="balanced", random_state=0,
                               device="cpu").fit(X, y)
    loaded = _round_trip(est, tmp_path / "m.skops")
    torch.testing.assert_close(loaded.net_.criterion_.weight, est.net_.criterion_.weight)


def test_file_objects(data):
    X, y = data
    est = _instance("TabularMLPClassifier").fit(X, y)
    buffer = io.BytesIO()
    dump(est, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load(buffer).predict_proba(X), est.predict_proba(X))
    with pytest.raises(TypeError, match="BytesIO"):
        load(buffer.getvalue())


def test_shared_estimators_stay_shared(data, tmp_path):
    X, y = data
    est = _instance("LateFusionClassifier").fit(X, y)
    loaded = _round_trip(est, tmp_path / "m.skops")
    assert type(loaded.named_estimators_) is type(est.named_estimators_)
    assert loaded.named_estimators_["img"] is loaded.estimators_[0]


def test_trusted_types_are_the_librarys_own():
    names = trusted_types()
    assert names == sorted(names)
    # the library's own, and the two arrays-only classes of a survival model's baseline
    outside = {"sksurv.functions.StepFunction", "sksurv.linear_model.coxph.BreslowEstimator"}
    assert all(name.startswith("skmultimodal.") for name in set(names) - outside)
    assert outside <= set(names)
    for _, cls in all_estimators():
        assert f"{cls.__module__}.{cls.__qualname__}" in names
    for cls in (ImageModality, TabularModality, NetRecord):
        assert f"{cls.__module__}.{cls.__qualname__}" in names


# -- types from outside the library -----------------------------------------
def _late_xgb():
    xgboost = pytest.importorskip("xgboost")
    return LateFusionClassifier(
        [("img", ImageClassifier("image", **IMAGE, max_epochs=1, random_state=0,
                                 device="cpu"), ["image"]),
         ("tab", xgboost.XGBClassifier(n_estimators=5, max_depth=2, random_state=0), TAB)])


def test_xgboost_inside_late_fusion_is_refused_unless_trusted(data, tmp_path):
    X, y = data
    est = _late_xgb().fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    with pytest.raises(UntrustedTypesError, match="xgboost.sklearn.XGBClassifier") as info:
        load(path)
    assert info.value.untrusted == ["xgboost.core.Booster", "xgboost.sklearn.XGBClassifier"]
    assert "trusted=" in str(info.value)
    assert isinstance(info.value, sio.exceptions.UntrustedTypesFoundException)
    # partly trusted: the rest is still refused
    with pytest.raises(UntrustedTypesError, match="xgboost.core.Booster"):
        load(path, trusted=["xgboost.sklearn.XGBClassifier"])
    loaded = load(path, trusted=info.value.untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    # types are accepted as well as names
    import xgboost

    loaded = load(path, trusted=[xgboost.XGBClassifier, xgboost.Booster])
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


class CountEpochs(Callback):
    """A user callback: a type from outside the library."""

    def initialize(self):
        self.n_epochs = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.n_epochs += 1


def test_user_callback_is_refused_unless_trusted(data, tmp_path):
    X, y = data
    est = TabularMLPClassifier(TAB, hidden_layer_sizes=(8,), max_epochs=1, random_state=0,
                               device="cpu", callbacks=[("count", CountEpochs())]).fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    name = f"{CountEpochs.__module__}.{CountEpochs.__qualname__}"
    with pytest.raises(UntrustedTypesError) as info:
        load(path)
    assert info.value.untrusted == [name]
    assert name in str(info.value)
    loaded = load(path, trusted=[name])
    assert isinstance(loaded.callbacks[0][1], CountEpochs)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_trusted_must_be_a_list(tmp_path):
    path = tmp_path / "m.skops"
    dump(LogisticRegression(), path)
    for bad in (True, "xgboost.sklearn.XGBClassifier", [1]):
        with pytest.raises(TypeError, match="trusted"):
            load(path, trusted=bad)


def test_skops_is_given_the_reviewed_types_only(data, tmp_path, monkeypatch):
    X, y = data
    est = _instance("TabularMLPClassifier").fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    seen = []
    original = sio.loads

    def loads(data, trusted=None):
        seen.append(trusted)
        return original(data, trusted=trusted)

    monkeypatch.setattr(sio, "loads", loads)
    load(path, trusted=["some.other.Type"])
    assert seen == [sio.get_untrusted_types(file=path)]


def test_weights_that_do_not_fit_are_an_error(data, tmp_path):
    X, y = data
    est = _instance("TabularMLPClassifier").fit(X, y)
    portable = _portable(est, {}, _stored_attributes())
    portable.net_.module_state.pop(next(iter(portable.net_.module_state)))
    path = tmp_path / "m.skops"
    sio.dump(portable, path)
    with pytest.raises(ValueError, match="do not fit"):
        load(path)


# -- what the rebuilt networks need and keep --------------------------------
def test_local_pretrained_weights_are_not_read_again(data, tmp_path):
    from skmultimodal.nn import get_backbone

    X, y = data
    weights = tmp_path / "backbone.pt"
    torch.manual_seed(0)
    torch.save(get_backbone("simple_cnn", in_channels=3, channels=(8, 16)).state_dict(),
               weights)
    est = ImageClassifier("image", **IMAGE, backbone_params={"channels": (8, 16)},
                          weights=str(weights), max_epochs=1, random_state=0,
                          device="cpu").fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    weights.unlink()
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.net_.module__encoder["weights"] == str(weights)


def test_load_leaves_the_global_rng_alone(data, tmp_path):
    X, y = data
    est = _instance("ImageClassifier").fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    load(path)
    torch.testing.assert_close(torch.rand(3), expected)


def test_frozen_encoders_with_memory_round_trip(data, tmp_path):
    X, y = data
    modalities = [("img", ImageModality("image", **IMAGE, freeze_backbone=True)),
                  ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))]
    est = IntermediateFusionClassifier(modalities, embed_dim=8, head_hidden_sizes=(8,),
                                       max_epochs=1, memory=str(tmp_path / "cache"),
                                       random_state=0, device="cpu").fit(X, y)
    assert est.net_.module_.encoders["img"].precomputed == "pooled"
    expected = est.predict_proba(X)
    loaded = _round_trip(est, tmp_path / "m.skops")
    assert loaded.net_.module_.encoders["img"].precomputed == "pooled"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    # without the cache folder the embeddings are computed again, identically
    loaded.set_params(memory=None)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
@pytest.mark.parametrize("name", ["TabularMLPClassifier", "ImageEmbedder"])
def test_model_fitted_on_cuda_loads_on_the_cpu(name, data, tmp_path):
    X, y = data
    est = _instance(name).fit(X, y)
    expected = _output(est, X)
    est.device_ = "cuda:0"  # as fitted on a GPU; the arrays are stored on the CPU
    path = tmp_path / "m.skops"
    dump(est, path)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        loaded = load(path)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(_output(loaded, X), expected)


def test_loading_warns_about_nothing_else(data, tmp_path):
    X, y = data
    est = _instance("CrossAttentionFusionClassifier").fit(X, y)
    path = tmp_path / "m.skops"
    dump(est, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(path)


def test_embedder_loads_without_its_weights_file(tmp_path):
    """The backbone is rebuilt with the stem of the stored weights, not of the weights file."""
    from skmultimodal import ImageEmbedder
    from skmultimodal.nn import ResNetBackbone

    weights = tmp_path / "small_stem.pt"
    torch.save(ResNetBackbone(stem="small").state_dict(), weights)
    X = np.random.RandomState(0).randint(0, 255, (4, 16, 16, 3)).astype(np.uint8)
    # a 3x3 stem trained at another size: at 224 px the size rule alone would pick torchvision's
    embedder = ImageEmbedder(backbone="resnet18", weights=str(weights), image_size=224,
                             device="cpu").fit(X)
    path = tmp_path / "embedder.skops"
    dump(embedder, path)
    weights.unlink()  # the machine that loads the model lacks the file
    loaded = load(path)
    assert loaded.backbone_.conv1.kernel_size == (3, 3)
    np.testing.assert_allclose(loaded.transform(X), embedder.transform(X), atol=1e-5)
