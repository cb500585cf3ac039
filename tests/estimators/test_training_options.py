"""Training-speed options: precision, channels_last, compile, workers, image cache,
Accelerate."""

import multiprocessing
import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.data import ImageSource, ImageTransform
from skmultimodal.data._dataset import ImageCache
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators._net import AcceleratedNetClassifier, NetClassifier
from skmultimodal.fusion import CrossAttentionFusionClassifier, IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality, TabularModality
from skmultimodal.utils._torch import resolve_num_workers

N = 48
TAB = [f"tab_{i}" for i in range(4)]
IMAGE = dict(column="image", backbone="simple_cnn", image_size=16, max_epochs=3,
             batch_size=16, backbone_params={"channels": (8, 16)}, random_state=0,
             device="cpu")
# Largest |p_bf16 - p_fp32| measured on these configurations: 0.003 (image),
# 0.012 (intermediate fusion), 0.015 (cross-attention fusion).
BF16_ATOL = 0.05


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(N, image_size=16, n_informative=2,
                                          random_state=0)


def _modalities():
    return [("img", ImageModality("image", backbone="simple_cnn", image_size=16,
                                  channels=1, backbone_params={"channels": (8,)})),
            ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))]


def _fusion(cls, **params):
    kw = dict(embed_dim=8, max_epochs=3, batch_size=16, random_state=0, device="cpu")
    if cls is CrossAttentionFusionClassifier:
        kw.update(n_heads=2, n_layers=1, n_tokens=2)
    else:
        kw.update(head_hidden_sizes=(8,))
    return cls(_modalities(), **dict(kw, **params))


def _make(name, **params):
    if name == "image":
        return ImageClassifier(**dict(IMAGE, **params))
    if name == "tabular":
        return TabularMLPClassifier(TAB, **dict(dict(
            hidden_layer_sizes=(8,), max_epochs=3, random_state=0, device="cpu"), **params))
    cls = {"intermediate": IntermediateFusionClassifier,
           "cross": CrossAttentionFusionClassifier}[name]
    return _fusion(cls, **params)


# -- mixed precision ----------------------------------------------------------
@pytest.mark.parametrize("name", ["image", "intermediate", "cross"])
def test_bf16_on_cpu_is_close_to_fp32(data, name):
    X, y = data
    p32 = _make(name).fit(X, y).predict_proba(X)
    clf = _make(name, precision="bf16").fit(X, y)
    p16 = clf.predict_proba(X)
    assert p16.dtype == np.float64
    np.testing.assert_allclose(p16.sum(axis=1), 1.0)
    np.testing.assert_allclose(p16, p32, atol=BF16_ATOL)
    # autocast really ran: bf16 rounding changes the probabilities a little
    assert not np.array_equal(p16, p32)
    assert isinstance(clf.net_, NetClassifier) and clf.net_.precision == "bf16"
    assert clf.net_.predict_proba(clf.make_dataset(X)).dtype == np.float32


def test_bf16_forward_runs_in_bfloat16(data):
    X, y = data
    clf = _make("image", precision="bf16", max_epochs=1).fit(X, y)
    seen = []
    clf.net_.module_.head.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    clf.predict_proba(X.iloc[:4])
    assert seen == [torch.bfloat16]


def test_fp16_needs_cuda(data):
    X, y = data
    for name in ("image", "tabular", "intermediate"):
        with pytest.raises(ValueError, match="precision='fp16' needs a CUDA device"):
            _make(name, precision="fp16").fit(X, y)


# -- channels_last and compile --------------------------------------------------
def test_channels_last_gives_the_same_predictions(data):
    X, y = data
    p = _make("image").fit(X, y).predict_proba(X)
    clf = _make("image", channels_last=True).fit(X, y)
    convs = [m.weight for m in clf.net_.module_.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    # measured: 1.3e-5
    np.testing.assert_allclose(clf.predict_proba(X), p, atol=1e-4)


def test_channels_last_on_fusion(data):
    X, y = data
    p = _make("intermediate").fit(X, y).predict_proba(X)
    clf = _make("intermediate", channels_last=True).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), p, atol=1e-3)


def test_compile_with_eager_backend(data):
    X, y = data
    p = _make("image").fit(X, y).predict_proba(X)
    clf = _make("image", compile={"backend": "eager"}).fit(X, y)
    assert clf.net_.compile is True and clf.net_.compile__backend == "eager"
    assert isinstance(clf.net_.module_, torch._dynamo.eval_frame.OptimizedModule)
    np.testing.assert_allclose(clf.predict_proba(X), p, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X), p, atol=1e-5)


# -- DataLoader -------------------------------------------------------------------
def test_num_workers_auto():
    assert resolve_num_workers("auto", "cpu") == 0
    assert resolve_num_workers("auto", "cuda") == min(8, os.cpu_count())
    assert resolve_num_workers("auto", "cuda:1") == min(8, os.cpu_count())
    assert resolve_num_workers(3, "cpu") == 3
    for bad in (-1, 1.5, "many", True, None):
        with pytest.raises(ValueError, match="num_workers=.*'auto' or an int >= 0"):
            resolve_num_workers(bad, "cpu")


def test_auto_workers_on_cpu_build_a_single_process_loader(data):
    X, y = data
    clf = _make("image", max_epochs=1).fit(X, y)
    assert clf.num_workers == "auto"
    assert clf.net_.iterator_train__num_workers == 0
    assert not hasattr(clf.net_, "iterator_train__persistent_workers")
    assert clf.net_.iterator_train__pin_memory is False


# -- image cache ---------------------------------------------------------------------
def test_image_source_cache_gives_the_transform_output():
    rng = np.random.default_rng(0)
    cells = [rng.integers(0, 255, (20, 24, 3), dtype=np.uint8) for _ in range(4)]
    cells.append(rng.random((12, 12)).astype(np.float32))
    augment = lambda t: t.flip(-1).mul_(0.5)  # noqa: E731 - alters its input in place
    for transform in (ImageTransform((16, 16), 1, "imagenet"),
                      ImageTransform((8, 8), 3, ((0.1, 0.2, 0.3), (0.5, 0.5, 0.5)), augment),
                      ImageTransform(None, 3, None),
                      lambda a: torch.as_tensor(np.asarray(a, np.float32)).sum()):
        plain = ImageSource(cells, transform)
        cached = plain.with_cache(ImageCache())
        for _ in range(2):  # the second pass comes from the cache
            for i in range(len(cells)):
                torch.testing.assert_close(cached[i], plain[i], rtol=0, atol=0)
        assert len(cached.cache) == len(cells)


def test_image_source_subsets_share_the_cache(count_reads):
    cells = [np.full((4, 4), v, np.uint8) for v in range(6)]
    src = ImageSource(cells, ImageTransform(None, 1, None)).with_cache(ImageCache())
    sub = src.subset([4, 1]).with_transform(ImageTransform(None, 1, None))
    assert float(sub[0][0, 0, 0]) == pytest.approx(4 / 255)
    assert float(src[4][0, 0, 0]) == pytest.approx(4 / 255)  # cached by the subset
    assert float(sub.subset([1])[0][0, 0, 0]) == pytest.approx(1 / 255)
    assert count_reads.value == 2
    assert len(pickle.loads(pickle.dumps(src)).cache) == 0  # never pickled


@pytest.mark.parametrize("name", ["image", "intermediate"])
def test_cache_images_reads_each_image_once_and_changes_nothing(data, name, count_reads):
    X, y = data
    params = dict(max_epochs=4, early_stopping=True, validation_fraction=0.25)
    if name == "image":
        params["augment"] = True  # augmentation draws stay the same
    plain = _make(name, **params).fit(X, y)
    # in-memory images are prepared once per fit, augmented (training rows of
    # the image model) or not (its validation rows, the fusion model)
    assert count_reads.value == N
    p = plain.predict_proba(X)
    count_reads.value = 0
    clf = _make(name, cache_images=True, **params)
    clf.fit(X, y)
    assert count_reads.value == N
    clf.fit(X, y)  # a new fit starts with an empty cache
    assert count_reads.value == 2 * N
    np.testing.assert_array_equal(clf.predict_proba(X), p)
    assert count_reads.value == 3 * N  # prediction does not use the cache
    copy = pickle.loads(pickle.dumps(clf))
    valid_src = copy.net_.train_split.keywords["valid_ds"].sources
    assert all(len(s.cache) == 0 for s in valid_src.values() if hasattr(s, "cache"))


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="counts reads in forked workers")
def test_cache_images_with_dataloader_workers(data, count_reads):
    X, y = data
    params = dict(max_epochs=4, batch_size=8, num_workers=2)
    plain = _make("image", **params).fit(X, y)
    # 4 epochs, and the batch-norm recalibration's two batches of 8 rows
    assert count_reads.value == 4 * N + 16
    count_reads.value = 0
    clf = _make("image", cache_images=True, **params).fit(X, y)
    assert clf.net_.iterator_train__num_workers == 2
    assert clf.net_.iterator_train__persistent_workers is True
    # Each of the 2 persistent workers reads a row at most once; the
    # recalibration loader reads 16 rows once more.
    assert count_reads.value <= 3 * N
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))


# -- Accelerate ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def accelerator():
    accelerate = pytest.importorskip("accelerate")
    return accelerate.Accelerator(cpu=True)


@pytest.mark.parametrize("name", ["image", "tabular", "cross"])
def test_accelerator_on_cpu(data, accelerator, name, tmp_path, capsys):
    X, y = data
    p = _make(name).fit(X, y).predict_proba(X)
    clf = _make(name, device="auto", accelerator=accelerator).fit(X, y)
    assert capsys.readouterr().out == ""
    assert type(clf.net_) is AcceleratedNetClassifier
    assert clf.net_.device is None and clf.device_ == "cpu"
    np.testing.assert_allclose(clf.predict_proba(X), p, atol=1e-6)
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert loaded.net_.device == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), p, atol=1e-6)
    again = clone(clf).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), p, atol=1e-6)


def test_accelerator_rejects_precision_and_device(data, accelerator):
    X, y = data
    with pytest.raises(ValueError, match=r"Accelerator\(mixed_precision='bf16'\)"):
        _make("image", device="auto", accelerator=accelerator, precision="bf16").fit(X, y)
    with pytest.raises(ValueError, match="device='cpu' cannot be combined with an accel"):
        _make("image", accelerator=accelerator).fit(X, y)
    with pytest.raises(ValueError, match="'accelerator' parameter of ImageClassifier must be"):
        _make("image", device="auto", accelerator="cpu").fit(X, y)


# -- parameters ---------------------------------------------------------------------
OPTIONS = dict(precision="bf16", compile={"backend": "eager"}, accelerator=None)
IMAGE_OPTIONS = dict(OPTIONS, channels_last=True, cache_images=True, num_workers=1)


@pytest.mark.parametrize("name", ["image", "tabular", "intermediate", "cross"])
def test_options_are_plain_parameters(name):
    options = OPTIONS if name == "tabular" else IMAGE_OPTIONS
    est = _make(name, **options)
    params = est.get_params()
    for key, value in options.items():
        assert params[key] is value
    copy = clone(est)
    assert {k: copy.get_params()[k] for k in options} == options
    copy.set_params(precision=None, compile=True)
    assert (copy.precision, copy.compile) == (None, True)
    assert est.precision == "bf16"
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params()["compile"] == {"backend": "eager"}


@pytest.mark.parametrize("params, match", [
    (dict(precision="fp32"), "'precision' parameter of .* must be a str among .* Got 'fp32'"),
    (dict(precision=16), "'precision' parameter of .* must be .* Got 16"),
    (dict(channels_last="yes"), "'channels_last' parameter of .* must be an instance of "
                                "'bool'.* Got 'yes'"),
    (dict(cache_images=None), "'cache_images' parameter of .* must be .*bool.* Got None"),
    (dict(compile="eager"), "'compile' parameter of .* must be .* Got 'eager'"),
    (dict(compile={1: 2}), "bad keys: \\[1\\]"),
    (dict(num_workers=-2), "'num_workers' parameter of .* must be .* Got -2"),
])
@pytest.mark.parametrize("name", ["image", "cross"])
def test_bad_options_are_clear_errors(data, name, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        _make(name, **params).fit(X, y)
