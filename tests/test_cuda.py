"""The GPU paths: training and prediction on CUDA, mixed precision, pinned memory
and workers, the embedding cache, explanations, and models moved between devices.

Every test here needs a CUDA device and is skipped without one.
"""
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from instance_generator import MULTIMODAL_PARAMS, survival_instances
from skmultimodal import ImageClassifier, ImageEmbedder, TabularMLPClassifier
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import CrossAttentionFusionClassifier, IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality, TabularModality

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICE = "cuda"

N = 96
TAB = [f"tab_{i}" for i in range(4)]


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(N, image_size=32, n_informative=2,
                                          random_state=0)


def _modalities(backbone="simple_cnn"):
    params = {"channels": (8, 16)} if backbone == "simple_cnn" else {}
    return [("img", ImageModality("image", backbone=backbone, image_size=32, channels=1,
                                  backbone_params=params)),
            ("tab", TabularModality(TAB, hidden_layer_sizes=(16,)))]


def _make(name, **params):
    common = dict(max_epochs=4, batch_size=32, random_state=0, device=DEVICE)
    if name == "image":
        return ImageClassifier(**dict(common, column="image", backbone="resnet18",
                                      image_size=32, **params))
    if name == "tabular":
        return TabularMLPClassifier(TAB, **dict(common, hidden_layer_sizes=(16,), **params))
    if name == "intermediate":
        return IntermediateFusionClassifier(_modalities(), **dict(common, embed_dim=16,
                                                                  **params))
    return CrossAttentionFusionClassifier(_modalities(), **dict(
        common, embed_dim=16, n_heads=2, n_layers=1, n_tokens=2, **params))


def _check_proba(clf, X):
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    return proba


NAMES = ["image", "tabular", "intermediate", "cross"]


@pytest.mark.parametrize("name", NAMES)
def test_fits_on_cuda(data, name):
    X, y = data
    clf = _make(name).fit(X, y)
    assert clf.device_ == "cuda"
    assert next(clf.net_.module_.parameters()).is_cuda
    _check_proba(clf, X)


@pytest.mark.parametrize("name", NAMES)
def test_device_auto_picks_the_gpu(data, name):
    X, y = data
    clf = _make(name, device="auto").fit(X, y)
    assert clf.device_ == "cuda"


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("name", ["image", "intermediate", "cross"])
def test_mixed_precision_training(data, name, precision):
    X, y = data
    clf = _make(name, precision=precision).fit(X, y)
    scaler = clf.net_.grad_scaler_
    if precision == "fp16":
        assert isinstance(scaler, torch.amp.GradScaler)
        assert np.isfinite(scaler.get_scale()) and scaler.get_scale() > 0
    else:
        assert scaler is None
    losses = clf.net_.history[:, "train_loss"]
    assert np.isfinite(losses).all()
    _check_proba(clf, X)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("name", ["image", "intermediate", "cross"])
def test_mixed_precision_forward_is_close_to_fp32(data, name, precision):
    """The same fitted weights give nearly the same probabilities under autocast."""
    X, y = data
    clf = _make(name).fit(X, y)
    full = _check_proba(clf, X)
    clf.net_.precision = precision
    np.testing.assert_allclose(_check_proba(clf, X), full, atol=0.05)


def test_fp16_training_learns_as_fp32(data):
    X, y = data
    full = _make("tabular", max_epochs=30, lr=0.01).fit(X, y)
    mixed = _make("tabular", max_epochs=30, lr=0.01, precision="fp16").fit(X, y)
    losses = mixed.net_.history[:, "train_loss"]
    assert losses[-1] < losses[0]
    assert abs(mixed.score(X, y) - full.score(X, y)) <= 0.1


def test_channels_last_on_cuda(data):
    X, y = data
    fast = _make("image", channels_last=True, precision="bf16").fit(X, y)
    param = next(p for p in fast.net_.module_.parameters() if p.ndim == 4)
    assert param.is_contiguous(memory_format=torch.channels_last)
    proba = _check_proba(fast, X)
    fast.net_.channels_last = False  # same weights, inputs in the default format
    np.testing.assert_allclose(_check_proba(fast, X), proba, atol=0.05)


@pytest.fixture
def deterministic(monkeypatch):
    """cuDNN's deterministic algorithms: two equal fits give equal weights."""
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)


def test_pinned_memory_and_workers(data, deterministic):
    X, y = data
    clf = _make("image", max_epochs=2, num_workers=2).fit(X, y)
    assert clf.net_.iterator_train__pin_memory is True
    assert clf.net_.iterator_train__num_workers == 2
    again = _make("image", max_epochs=2, num_workers=2).fit(X, y)
    np.testing.assert_allclose(_check_proba(again, X), _check_proba(clf, X), atol=1e-4)
    auto = _make("image", max_epochs=2, num_workers="auto").fit(X, y)
    assert auto.net_.iterator_train__num_workers >= 1
    assert auto.net_.iterator_train__pin_memory is True
    _check_proba(auto, X)


def test_image_cache_with_workers(data, deterministic):
    X, y = data
    plain = _make("image", max_epochs=2, num_workers=2).fit(X, y)
    cached = _make("image", max_epochs=2, cache_images=True, num_workers=2).fit(X, y)
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_model_from_cuda_predicts_on_the_cpu(data, name, tmp_path):
    """A model fitted on the GPU, saved, predicts on the CPU as on the GPU."""
    X, y = data
    clf = _make(name).fit(X, y)
    p = clf.predict_proba(X)
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_allclose(loaded.predict_proba(X), p, atol=1e-4)
    loaded.set_params(device="cpu")
    loaded.net_.set_params(device="cpu")
    loaded.net_.module_.to("cpu")
    # cuDNN convolutions run in TF32 by default: a few 1e-3 from the CPU's float32.
    np.testing.assert_allclose(loaded.predict_proba(X), p, atol=1e-2)


def test_skops_round_trip_on_cuda(data, tmp_path):
    from skmultimodal.io import dump, load

    X, y = data
    clf = _make("intermediate").fit(X, y)
    dump(clf, tmp_path / "model.skops")
    loaded = load(tmp_path / "model.skops")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-4)


def test_clone_and_refit_on_cuda_is_reproducible(data):
    X, y = data
    clf = _make("tabular").fit(X, y)
    again = clone(clf).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-4)


def test_embedding_cache_on_cuda(data, tmp_path):
    X, y = data
    kw = dict(column="image", backbone="resnet18", image_size=32, device="cuda",
              random_state=0)
    first = ImageEmbedder(**kw, memory=str(tmp_path)).fit(X).transform(X)
    second = ImageEmbedder(**kw, memory=str(tmp_path)).fit(X).transform(X)
    plain = ImageEmbedder(**kw).fit(X).transform(X)
    assert np.isfinite(first).all()
    np.testing.assert_allclose(second, first)
    np.testing.assert_allclose(plain, first, atol=1e-4)


def test_grad_cam_and_shap_on_cuda(data):
    from skmultimodal.inspection import grad_cam, shap_values

    X, y = data
    clf = _make("intermediate").fit(X, y)
    cams = grad_cam(clf, X.iloc[:4], modality="img")
    assert np.isfinite(np.asarray(cams.heatmaps, dtype=float)).all()
    result = shap_values(clf, X.iloc[:4], modality="tab", n_background=8, n_samples=32)
    assert np.isfinite(np.asarray(result.values, dtype=float)).all()


def test_accelerator_on_cuda(data):
    accelerate = pytest.importorskip("accelerate")
    X, y = data
    clf = _make("image", device="auto", accelerator=accelerate.Accelerator()).fit(X, y)
    assert clf.device_.startswith("cuda")
    _check_proba(clf, X)


def test_accelerate_launch(tmp_path):
    """A fit run by ``accelerate launch`` on the GPU (one process)."""
    pytest.importorskip("accelerate")
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import accelerate, numpy as np
        from skmultimodal import TabularMLPClassifier
        from skmultimodal.datasets import make_multimodal_classification
        X, y = make_multimodal_classification(64, image_size=16, random_state=0)
        acc = accelerate.Accelerator(mixed_precision="bf16")
        clf = TabularMLPClassifier([c for c in X.columns if c.startswith("tab_")],
                                   max_epochs=3, device="auto", accelerator=acc)
        clf.fit(X, y)
        assert clf.device_.startswith("cuda"), clf.device_
        assert np.isfinite(clf.predict_proba(X)).all()
        print("launched-ok", clf.device_)
    """))
    out = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1",
         "--mixed_precision", "bf16", str(script)],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "launched-ok cuda" in out.stdout


# -- paths added after the first GPU run ------------------------------------
# Survival networks, bags of images, the training recipe of ImageClassifier
# (augmented batches served from the prepared tensor, warm-up + cosine
# schedule, label smoothing, test-time augmentation), bilinear fusion with
# modality dropout, and ResNet output strides.

SURVIVAL = list(survival_instances())


@pytest.mark.parametrize("loss", ["cox", "discrete_time"])
@pytest.mark.parametrize("estimator", SURVIVAL, ids=lambda e: type(e).__name__)
def test_survival_on_cuda(estimator, loss, survival_table, tmp_path):
    X, y, _ = survival_table
    model = clone(estimator).set_params(device=DEVICE, loss=loss).fit(X, y)
    assert next(model.net_.module_.parameters()).device.type == DEVICE
    risk = model.predict(X)
    assert risk.shape == (len(X),) and np.isfinite(risk).all()
    surv = model.predict_survival_function(X.iloc[:5], return_array=True)
    assert np.isfinite(surv).all() and (np.diff(surv, axis=1) <= 1e-6).all()
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    loaded.set_params(device="cpu")
    loaded.net_.set_params(device="cpu")
    loaded.net_.module_.to("cpu")
    np.testing.assert_allclose(loaded.predict(X), risk, rtol=1e-2, atol=1e-2)


BAG_PARAMS = MULTIMODAL_PARAMS["ImageBagClassifier"]


def test_bags_on_cuda_with_workers(multimodal_table):
    from skmultimodal import ImageBagClassifier

    X, y, _ = multimodal_table
    clf = ImageBagClassifier(**dict(BAG_PARAMS, max_instances=1, device=DEVICE,
                                    num_workers=2)).fit(X, y)
    assert next(clf.net_.module_.parameters()).device.type == DEVICE
    proba = _check_proba(clf, X)
    reversed_bags = X.assign(bag=[list(reversed(b)) for b in X["bag"]])
    np.testing.assert_allclose(clf.predict_proba(reversed_bags), proba, atol=1e-4)


@pytest.mark.parametrize("cls", [IntermediateFusionClassifier, CrossAttentionFusionClassifier])
def test_bags_in_fusion_on_cuda(cls, multimodal_table):
    from skmultimodal import ImageBagModality

    X, y, _ = multimodal_table
    X = X.copy()
    X.at[0, "bag"] = None  # a missing bag: a missing modality
    bag = {k: BAG_PARAMS[k] for k in ("backbone", "image_size", "channels")}
    kw = dict(n_heads=2, n_layers=1, n_tokens=2) if cls is CrossAttentionFusionClassifier else {}
    clf = cls([("bag", ImageBagModality("bag", **bag)),
               ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))],
              embed_dim=16, max_epochs=2, random_state=0, device=DEVICE, **kw).fit(X, y)
    _check_proba(clf, X)


def test_image_training_recipe_on_cuda(data, deterministic):
    """ImageClassifier's defaults (light augmentation of the prepared tensor, warm-up +
    cosine, label smoothing), the other presets, workers and test-time augmentation."""
    X, y = data
    for augment in ["light", "ultrasound", "generic"]:
        clf = _make("image", max_epochs=2, augment=augment).fit(X, y)
        lrs = [b["event_lr"] for epoch in clf.net_.history[:, "batches"] for b in epoch]
        assert max(lrs) > lrs[-1]  # warm-up then cosine decay
        _check_proba(clf, X)
    workers = _make("image", max_epochs=2, num_workers=2).fit(X, y)
    _check_proba(workers, X)
    tta = clone(workers).set_params(tta=True).fit(X, y)
    _check_proba(tta, X)


def test_bilinear_fusion_and_missing_modalities_on_cuda(data):
    X, y = data
    clf = _make("intermediate", fusion="bilinear", lr_schedule="warmup_cosine").fit(X, y)
    _check_proba(clf, X)
    missing = X.copy()
    missing.loc[missing.index[::2], "image"] = None
    missing.loc[missing.index[1::2], TAB] = np.nan
    _check_proba(clf, missing)


def test_output_stride_and_grad_cam_on_cuda(data):
    from skmultimodal.inspection import grad_cam

    X, y = data
    clf = _make("image", max_epochs=2, backbone_params={"output_stride": 4}).fit(X, y)
    cams = grad_cam(clf, X.iloc[:4])
    assert np.isfinite(np.asarray(cams.heatmaps, dtype=float)).all()
