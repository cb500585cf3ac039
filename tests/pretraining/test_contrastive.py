"""ContrastivePretrainer: self-supervised pretraining and the hand-over of its encoder."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skmultimodal import (
    ImageClassifier,
    ImageEmbedder,
    ImageModality,
    IntermediateFusionClassifier,
    LateFusionClassifier,
)
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.nn._registry import build_backbone
from skmultimodal.pretraining import ContrastivePretrainer, contrastive_views, nt_xent_loss

SIZE = 16
CNN = dict(backbone="simple_cnn", image_size=SIZE)


@pytest.fixture(scope="module")
def table():
    X, y = make_multimodal_classification(40, image_size=SIZE, random_state=0)
    return X, y


def _pretrainer(**params):
    return ContrastivePretrainer(**{"column": "image", **CNN, "max_epochs": 1,
                                    "batch_size": 16, "random_state": 0, "device": "cpu",
                                    **params})


@pytest.fixture(scope="module")
def fitted(table):
    return _pretrainer().fit(table[0])


@pytest.fixture(scope="module")
def fitted_resnet(table):
    # 16 px: the ResNet gets the small-image stem (3x3 conv1)
    return _pretrainer(backbone="resnet18").fit(table[0])


def _assert_state_equal(module, state):
    own = module.state_dict()
    assert own.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(own[key], value, rtol=0, atol=0, msg=key)


# -- the loss --------------------------------------------------------------
def _nt_xent_by_hand(z1, z2, t):
    z = np.concatenate([z1, z2]).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z1)
    losses = []
    for a in range(2 * n):
        positive = (a + n) % (2 * n)
        logits = {b: z[a] @ z[b] / t for b in range(2 * n) if b != a}
        denominator = sum(np.exp(v) for v in logits.values())
        losses.append(-np.log(np.exp(logits[positive]) / denominator))
    return np.mean(losses)


def test_nt_xent_matches_the_loss_computed_by_hand():
    z1 = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [0.0, 0.3, -2.0]])
    z2 = np.array([[1.5, 1.0, 0.2], [0.0, -1.0, 2.0], [-0.4, 0.1, -1.0]])
    for t in (0.1, 0.5, 1.0):
        got = nt_xent_loss(torch.tensor(z1), torch.tensor(z2), temperature=t)
        assert float(got) == pytest.approx(_nt_xent_by_hand(z1, z2, t), rel=1e-5)
    # the two views of the doctest: log(2 + e) - 1
    z = torch.eye(2)
    assert float(nt_xent_loss(z, z, 1.0)) == pytest.approx(np.log(2 + np.e) - 1, rel=1e-6)


def test_nt_xent_is_lower_for_matching_views():
    torch.manual_seed(0)
    z = torch.randn(8, 16)
    assert nt_xent_loss(z, z + 0.01 * torch.randn(8, 16)) < nt_xent_loss(z, torch.randn(8, 16))


def test_nt_xent_refuses_bad_inputs():
    with pytest.raises(ValueError, match="at least 2 images"):
        nt_xent_loss(torch.ones(1, 4), torch.ones(1, 4))
    with pytest.raises(ValueError, match=r"must both be \(N, D\)"):
        nt_xent_loss(torch.ones(3, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        nt_xent_loss(torch.ones(3, 4), torch.ones(3, 4), temperature=0.0)


# -- training --------------------------------------------------------------
def test_loss_decreases_on_a_toy_set(table):
    pre = _pretrainer(max_epochs=6, batch_size=20, lr=3e-3).fit(table[0])
    assert len(pre.loss_curve_) == pre.n_iter_ == 6
    assert all(np.isfinite(pre.loss_curve_))
    assert pre.loss_curve_[-1] < pre.loss_curve_[0]
    assert [h["epoch"] for h in pre.history_] == list(range(1, 7))
    assert pre.history_[-1]["lr"] == pytest.approx(0.0)  # the cosine decay ends at 0


@pytest.mark.parametrize("schedule", ["constant", None, "onecycle"])
def test_lr_schedule_is_the_networks_grammar(table, schedule):
    pre = _pretrainer(max_epochs=3, batch_size=20, lr=3e-3, lr_schedule=schedule).fit(
        table[0])
    lrs = [h["lr"] for h in pre.history_]
    if schedule == "onecycle":  # rises to the peak, then falls far below it
        assert lrs[0] > lrs[-1] and lrs[-1] < 1e-4
    else:
        assert lrs == [3e-3] * 3
    with pytest.raises(InvalidParameterError, match="lr_schedule"):
        _pretrainer(lr_schedule="cosine").fit(table[0])


def test_same_random_state_same_encoder(table, fitted):
    again = _pretrainer().fit(table[0])
    assert again.encoder_state_.keys() == fitted.encoder_state_.keys()
    for key, value in fitted.encoder_state_.items():
        np.testing.assert_array_equal(again.encoder_state_[key], value)
    assert again.loss_curve_ == fitted.loss_curve_
    other = _pretrainer(random_state=1).fit(table[0])
    assert not all(np.array_equal(other.encoder_state_[k], v)
                   for k, v in fitted.encoder_state_.items())


def test_labels_are_ignored(table, fitted):
    X, y = table
    for labels in (y, y[::-1].copy(), np.zeros_like(y)):
        with_y = _pretrainer().fit(X, labels)
        for key, value in fitted.encoder_state_.items():
            np.testing.assert_array_equal(with_y.encoder_state_[key], value)


def test_transform_gives_the_encoder_embeddings(table, fitted):
    X, _ = table
    emb = fitted.transform(X)
    assert emb.shape == (len(X), fitted.n_features_out_) and emb.dtype == np.float32
    with torch.no_grad():
        images = torch.stack([fitted.modality_.make_transform(False)(im) for im in X["image"]])
        expected = fitted.build_encoder()(images).numpy()
    np.testing.assert_allclose(emb, expected, rtol=1e-5, atol=1e-6)
    names = fitted.get_feature_names_out()
    assert len(names) == emb.shape[1] and names[0] == "simple_cnn_0"
    # a pipeline: embeddings then a linear model
    pipe = make_pipeline(clone(fitted), LogisticRegression()).fit(*table)
    assert pipe.predict_proba(X).shape == (len(X), 2)


def test_accepts_arrays_and_lists_of_images(table, fitted):
    X, _ = table
    stack = np.stack(list(X["image"]))
    from_stack = _pretrainer(column=None).fit(stack)
    from_list = _pretrainer(column=None).fit(list(X["image"]))
    for key, value in fitted.encoder_state_.items():
        np.testing.assert_array_equal(from_stack.encoder_state_[key], value)
        np.testing.assert_array_equal(from_list.encoder_state_[key], value)
    np.testing.assert_allclose(from_stack.transform(stack), fitted.transform(X), atol=1e-6)


def test_files_are_read_once_with_cache_images(table, tmp_path, fitted):
    from PIL import Image

    X, _ = table
    paths = []
    for i, image in enumerate(X["image"]):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    files = pd.DataFrame({"image": pd.Series(paths, dtype=object)})
    for cache in (False, True):
        pre = _pretrainer(cache_images=cache).fit(files)
        for key, value in fitted.encoder_state_.items():
            np.testing.assert_array_equal(pre.encoder_state_[key], value)


def test_verbose_shows_a_progress_bar(table, capsys):
    _pretrainer(verbose=1).fit(table[0])
    assert "contrastive pretraining" in capsys.readouterr().err


def test_non_finite_loss_is_an_error(table):
    pre = _pretrainer(augment=lambda t: t * float("nan"))
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1, batch 1"):
        pre.fit(table[0])


# -- the views ---------------------------------------------------------------
@pytest.mark.parametrize("preset", ["ultrasound", "generic"])
@pytest.mark.parametrize("channels", [1, 3])
def test_views_keep_the_size_and_differ(preset, channels):
    views = contrastive_views(preset, (24, 20))
    torch.manual_seed(0)
    image = torch.rand(channels, 24, 20)
    a, b = views(image.clone()), views(image.clone())
    assert a.shape == b.shape == image.shape
    assert not torch.equal(a, b)


def test_views_refuse_unknown_presets_and_pass_callables():
    with pytest.raises(ValueError, match="not a view preset"):
        contrastive_views("histology", (16, 16))

    def same(t):
        return t

    assert contrastive_views(same, (16, 16)) is same


# -- bad inputs --------------------------------------------------------------
def test_missing_column_is_an_error_naming_it(table):
    with pytest.raises(KeyError, match=r"'picture'.*not found"):
        _pretrainer(column="picture").fit(table[0])


def test_missing_and_non_finite_images_are_errors(table):
    X = table[0].copy()
    X.at[X.index[3], "image"] = None
    with pytest.raises(ValueError, match=r"missing \(None/NaN\) at rows \[3\]"):
        _pretrainer().fit(X)
    X = table[0].copy()
    bad = X["image"].iloc[5].astype(float) / 255
    bad[2, 2] = np.nan
    X.at[X.index[5], "image"] = bad
    with pytest.raises(ValueError, match=r"row 5.*NaN"):
        _pretrainer().fit(X)
    stack = np.stack(list(table[0]["image"])).astype(float)
    stack[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _pretrainer(column=None).fit(stack)


def test_too_few_images_are_errors(table):
    X = table[0]
    with pytest.raises(ValueError, match=r"batch_size=16 is larger than the 10 images"):
        _pretrainer().fit(X.iloc[:10])
    with pytest.raises(ValueError, match=r"1 sample.*at least 2 images"):
        _pretrainer(batch_size=2).fit(X.iloc[:1])
    with pytest.raises(ValueError, match="0 rows"):
        _pretrainer().fit(X.iloc[:0])
    # a last batch of one image joins the one before: 5 images in batches of 4
    assert _pretrainer(batch_size=4).fit(X.iloc[:5]).n_iter_ == 1


@pytest.mark.parametrize("param, value", [
    ("batch_size", 1), ("temperature", 0.0), ("augment", "histology"),
    ("projection_dim", 0), ("image_size", None), ("backbone", "vgg"),
])
def test_bad_parameters_are_refused_at_fit_naming_them(table, param, value):
    pre = _pretrainer(**{param: value})  # the constructor only stores them
    assert pre.get_params()[param] == value
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        pre.fit(table[0])


def test_unfitted_pretrainer_has_no_encoder():
    pre = _pretrainer()
    for call in (pre.pretrained_state_dict, pre.build_encoder,
                 lambda: pre.save("never.pt"), lambda: pre.transform(np.zeros((2, 8, 8)))):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


# -- scikit-learn conventions -------------------------------------------------
def test_get_set_params_and_clone(fitted):
    pre = _pretrainer(temperature=0.5)
    assert pre.get_params()["temperature"] == 0.5
    assert pre.set_params(temperature=0.1).temperature == 0.1
    fresh = clone(pre)
    assert fresh.get_params() == pre.get_params() and fresh is not pre
    assert not hasattr(fresh, "encoder_state_")
    # a fitted pretrainer clones to a fitted copy (its encoder is weights)
    copy = clone(fitted)
    assert copy is not fitted and copy.get_params() == fitted.get_params()
    assert copy.encoder_state_ is not fitted.encoder_state_
    assert copy.history_ == fitted.history_ and copy.history_ is not fitted.history_
    for key, value in fitted.encoder_state_.items():
        # shared, and read-only: neither copy can change the other's encoder
        assert copy.encoder_state_[key] is value and not value.flags.writeable
    state = copy.pretrained_state_dict()
    next(iter(state.values())).add_(1.0)
    np.testing.assert_array_equal(next(iter(copy.encoder_state_.values())),
                                  next(iter(fitted.encoder_state_.values())))
    assert not np.array_equal(next(iter(state.values())).numpy(),
                              next(iter(fitted.encoder_state_.values())))


def test_pickle_and_joblib_round_trip(table, fitted, tmp_path):
    X, _ = table
    expected = fitted.transform(X)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(X), expected)
    joblib.dump(fitted, tmp_path / "pre.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "pre.joblib").transform(X), expected)


# -- the hand-over -------------------------------------------------------------
@pytest.mark.parametrize("backbone", ["simple_cnn", "resnet18"])
def test_save_and_weights_load_the_same_encoder(backbone, fitted, fitted_resnet, tmp_path):
    pre = fitted if backbone == "simple_cnn" else fitted_resnet
    state = pre.pretrained_state_dict()
    path = pre.save(tmp_path / "encoder.pt")
    assert path.is_file()
    for weights in (pre, path, str(path)):
        modality = ImageModality("image", backbone=backbone, image_size=SIZE, weights=weights)
        _assert_state_equal(build_backbone(modality.encoder_spec()), state)
    if backbone == "resnet18":
        assert pre.modality_.encoder_spec()["backbone_params"]["stem"] == "small"
        assert state["conv1.weight"].shape[-2:] == (3, 3)
        # the stem comes from the weights, whatever the modality's image size
        for weights in (pre, path):
            spec = ImageModality("image", backbone=backbone, image_size=224,
                                 weights=weights).encoder_spec()
            assert spec["backbone_params"]["stem"] == "small"


@pytest.mark.parametrize("backbone", ["simple_cnn", "resnet18"])
def test_image_classifier_loads_the_pretrained_encoder(backbone, table, fitted,
                                                       fitted_resnet, tmp_path):
    pre = fitted if backbone == "simple_cnn" else fitted_resnet
    state = pre.pretrained_state_dict()
    for weights in (pre, pre.save(tmp_path / "encoder.pt")):
        # a frozen encoder keeps the weights it was given (batch norms too)
        clf = ImageClassifier("image", backbone=backbone, image_size=SIZE, weights=weights,
                              freeze_backbone=True, recalibrate_bn=False, max_epochs=1,
                              random_state=0, device="cpu")
        clone(clf).fit(*table)
        fitted_clf = clf.fit(*table)
        _assert_state_equal(fitted_clf.net_.module_.image_backbone("image"), state)


def test_embedder_loads_the_pretrained_encoder(table, fitted):
    emb = ImageEmbedder("image", **CNN, weights=fitted, device="cpu").fit(table[0])
    np.testing.assert_allclose(emb.transform(table[0]), fitted.transform(table[0]),
                               rtol=1e-5, atol=1e-6)


def test_weights_pretrainer_survives_clone(table, fitted):
    state = fitted.pretrained_state_dict()
    modality = ImageModality("image", **CNN, weights=fitted)
    models = [
        modality,
        ImageClassifier("image", **CNN, weights=fitted),
        IntermediateFusionClassifier([("img", modality)]),
        LateFusionClassifier([("img", ImageClassifier("image", **CNN, weights=fitted),
                               ["image"])]),
    ]
    for model in models:
        cloned = clone(model)
        pre = cloned.get_params(deep=True)[next(
            k for k, v in cloned.get_params(deep=True).items()
            if isinstance(v, ContrastivePretrainer))]
        assert pre is not fitted
        for key, value in state.items():
            torch.testing.assert_close(pre.pretrained_state_dict()[key], value, rtol=0, atol=0)


def test_weights_pretrainer_survives_cross_validate(table, fitted):
    state = fitted.pretrained_state_dict()
    clf = ImageClassifier("image", **CNN, weights=fitted, freeze_backbone=True,
                          recalibrate_bn=False, max_epochs=1, random_state=0, device="cpu")
    fusion = IntermediateFusionClassifier(
        [("img", ImageModality("image", **CNN, weights=fitted, freeze_backbone=True))],
        embed_dim=8, max_epochs=1, recalibrate_bn=False, random_state=0, device="cpu")
    for model, name in ((clf, "image"), (fusion, "img")):
        result = cross_validate(model, *table, cv=2, return_estimator=True,
                                error_score="raise")
        for est in result["estimator"]:
            _assert_state_equal(est.net_.module_.image_backbone(name), state)


def test_model_with_weights_pretrainer_pickles(table, fitted, tmp_path):
    X, y = table
    clf = ImageClassifier("image", **CNN, weights=fitted, max_epochs=1, random_state=0,
                          device="cpu").fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert isinstance(loaded.weights, ContrastivePretrainer)
    # an unfitted model too: it fits from the pretrainer it carries
    unfitted = pickle.loads(pickle.dumps(clone(clf)))
    np.testing.assert_array_equal(unfitted.fit(X, y).predict_proba(X), expected)


@pytest.mark.parametrize("backbone", ["simple_cnn", "resnet18"])
def test_unfitted_pretrainer_as_weights_is_an_error(table, backbone):
    pre = _pretrainer(backbone=backbone)
    clf = ImageClassifier("image", backbone=backbone, image_size=SIZE, weights=pre,
                          max_epochs=1, device="cpu")
    with pytest.raises(NotFittedError, match=r"ContrastivePretrainer is not fitted yet.*"
                                             r"fit it on unlabelled images"):
        clf.fit(*table)


def test_pretrainer_of_another_encoder_is_an_error(table, fitted):
    resnet = ImageModality("image", backbone="resnet18", image_size=SIZE, weights=fitted)
    with pytest.raises(ValueError, match=r"the fitted ContrastivePretrainer do not fit "
                                         r"ResNetBackbone.*backbone, attention, channels"):
        build_backbone(resnet.encoder_spec())
    # weights of 3 channels adapt to 1 (summed, as timm does); not the reverse
    grey = _pretrainer(channels=1).fit(table[0])
    rgb = ImageModality("image", **CNN, channels=3, weights=grey)
    with pytest.raises(ValueError, match=r"take 1 input channel\(s\) but SimpleCNN takes 3; "
                                         r"build it with channels=1"):
        build_backbone(rgb.encoder_spec())
    smaller = ImageModality("image", **CNN, weights=fitted,
                            backbone_params={"channels": (8, 16)})
    with pytest.raises(ValueError, match="do not fit SimpleCNN"):
        build_backbone(smaller.encoder_spec())


def test_object_without_state_dict_is_refused():
    from skmultimodal.nn._weights import resolve_weights

    class Odd:
        def pretrained_state_dict(self):
            return [1, 2]

    with pytest.raises(TypeError, match="returned a list"):
        resolve_weights(Odd(), arch="simple_cnn")
    with pytest.raises(TypeError, match="fitted pretrainer"):
        resolve_weights(3.5, arch="simple_cnn")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_pretrains_on_cuda_and_hands_over(table):
    X, y = table
    pre = _pretrainer(backbone="resnet18", device="cuda", num_workers=1).fit(X)
    assert pre.device_ == "cuda" and all(np.isfinite(pre.loss_curve_))
    assert pre.transform(X).shape == (len(X), 512)
    # the encoder is kept on the CPU, as numpy arrays: it loads anywhere
    cpu = ImageModality("image", backbone="resnet18", image_size=SIZE, weights=pre)
    _assert_state_equal(build_backbone(cpu.encoder_spec()), pre.pretrained_state_dict())
    clf = ImageClassifier("image", backbone="resnet18", image_size=SIZE, weights=pre,
                          max_epochs=1, random_state=0, device="cuda").fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 2)


# -- lesion crops ----------------------------------------------------------
def _boxed_images(n=12, seed=0):
    """32 px grey images, each with a textured 16 px box at a random place."""
    rng = np.random.default_rng(seed)
    images, boxes = [], []
    for _ in range(n):
        image = rng.integers(0, 60, (32, 32)).astype(np.uint8)
        x0, y0 = (int(v) for v in rng.integers(0, 16, 2))
        image[y0:y0 + 16, x0:x0 + 16] = rng.integers(100, 256, (16, 16))
        images.append(image)
        boxes.append((x0, y0, x0 + 16, y0 + 16))
    return pd.DataFrame({"image": pd.Series(images, dtype=object),
                         "box": pd.Series(boxes, dtype=object)})


def test_roi_pretrains_on_the_crops():
    """Cropping through ``roi`` is pretraining on the cropped images."""
    X = _boxed_images()
    crops = pd.DataFrame({"image": pd.Series(
        [im[y0:y1, x0:x1] for im, (x0, y0, x1, y1) in zip(X["image"], X["box"])],
        dtype=object)})
    params = dict(max_epochs=2, batch_size=6, channels=1, normalize=None)
    with_roi = _pretrainer(roi="box", roi_margin=0.0, **params).fit(X)
    on_crops = _pretrainer(**params).fit(crops)
    whole = _pretrainer(**params).fit(X[["image"]])
    for key, value in on_crops.encoder_state_.items():
        np.testing.assert_allclose(with_roi.encoder_state_[key], value, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(whole.encoder_state_[k], v)
                   for k, v in on_crops.encoder_state_.items())
    np.testing.assert_allclose(with_roi.transform(X), on_crops.transform(crops),
                               rtol=1e-5, atol=1e-6)


def test_roi_errors_name_the_column_and_row():
    X = _boxed_images(6)
    with pytest.raises(KeyError, match=r"\['mask'\] not found"):
        _pretrainer(roi="mask", batch_size=6).fit(X)
    with pytest.raises(TypeError, match="needs X as a pandas DataFrame"):
        _pretrainer(roi="box", batch_size=6).fit(np.stack(X["image"]))
    bad = X.copy()
    bad.at[3, "box"] = (5, 5, 5, 9)
    with pytest.raises(ValueError, match="x1 > x0"):
        _pretrainer(roi="box", batch_size=6).fit(bad)
    fitted = _pretrainer(roi="box", batch_size=6).fit(X)
    with pytest.raises(KeyError, match=r"\['box'\] not found"):
        fitted.transform(X[["image"]])


def test_missing_roi_pretrains_on_the_whole_image():
    X = _boxed_images(6)
    X["box"] = None
    params = dict(batch_size=6, channels=1, normalize=None)
    with_roi = _pretrainer(roi="box", **params).fit(X)
    whole = _pretrainer(**params).fit(X[["image"]])
    np.testing.assert_allclose(with_roi.transform(X), whole.transform(X[["image"]]),
                               rtol=1e-5, atol=1e-6)
