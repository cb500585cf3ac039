"""Training recipe options: learning-rate schedules, label smoothing, AdamW, TTA."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.estimators._base import WarmupCosine, make_lr_scheduler

TINY = dict(backbone="simple_cnn", backbone_params={"channels": (4, 8)}, image_size=32,
            max_epochs=2, batch_size=8, augment=False, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (24, 32, 32)).astype(np.uint8)
    y = np.r_[[0] * 12, [1] * 12]
    X[y == 1, :, :16] //= 2  # a left-right asymmetric signal
    return X, y


def _batch_lrs(clf):
    return np.array([lr for epoch in clf.net_.history[:, "batches"]
                     for lr in (b["event_lr"] for b in epoch)], dtype=float)


def test_warmup_cosine_factor():
    f = WarmupCosine(total_steps=100, warmup_steps=10)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(55) == pytest.approx(0.5)
    assert f(100) == pytest.approx(0.0) and f(500) == pytest.approx(0.0)
    factors = [f(i) for i in range(10, 101)]
    assert all(a >= b for a, b in zip(factors, factors[1:]))


@pytest.mark.parametrize("schedule", ["warmup_cosine", "onecycle"])
def test_schedule_changes_the_lr_batch_by_batch(images, schedule):
    X, y = images
    clf = ImageClassifier(**TINY, lr=0.01, lr_schedule=schedule).fit(X, y)
    lrs = _batch_lrs(clf)
    assert len(lrs) == 6  # 3 batches x 2 epochs, one value per batch
    assert lrs.max() <= 0.01 + 1e-12 and lrs.max() > 0.005
    assert lrs[-1] < 0.3 * lrs.max()  # decayed by the end
    assert lrs[0] < lrs.max() or schedule == "warmup_cosine"
    # the optimiser ends at the scheduled value
    final = clf.net_.optimizer_.param_groups[0]["lr"]
    assert final < lrs.max()
    pickle.loads(pickle.dumps(clf)).predict_proba(X[:2])


def test_warm_up_rises_then_cosine_decays(images):
    X, y = images
    clf = ImageClassifier(**dict(TINY, batch_size=2, max_epochs=2),
                          lr=0.01, lr_schedule="warmup_cosine").fit(X, y)
    lrs = _batch_lrs(clf)  # 24 steps, one of warm-up
    assert len(lrs) == 24
    peak = int(np.argmax(lrs))
    assert lrs[peak] == pytest.approx(0.01)
    assert np.all(np.diff(lrs[peak:]) <= 1e-12)


@pytest.mark.parametrize("schedule", ["constant", None])
def test_constant_schedule_keeps_lr(images, schedule):
    X, y = images
    clf = ImageClassifier(**TINY, lr=0.01, lr_schedule=schedule).fit(X, y)
    assert "lr_scheduler" not in dict(clf.net_.callbacks_)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.01


def test_scheduler_spans_every_step_of_training():
    cb = make_lr_scheduler("warmup_cosine", 1e-3, max_epochs=4, batches_per_epoch=5)
    assert cb.step_every == "batch" and cb.kwargs["lr_lambda"].total_steps == 20
    assert make_lr_scheduler(None, 1e-3, 4, 5) is None


def test_other_estimators_keep_a_constant_lr_by_default():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 3)), np.r_[[0] * 15, [1] * 15]
    clf = TabularMLPClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert "lr_scheduler" not in dict(clf.net_.callbacks_)
    assert clf.net_.criterion_.label_smoothing == 0.0


def test_label_smoothing_reaches_the_criterion(images):
    X, y = images
    clf = ImageClassifier(**TINY, label_smoothing=0.2).fit(X, y)
    assert isinstance(clf.net_.criterion_, torch.nn.CrossEntropyLoss)
    assert clf.net_.criterion_.label_smoothing == pytest.approx(0.2)
    clf = ImageClassifier(**TINY, label_smoothing=0.0).fit(X, y)
    assert clf.net_.criterion_.label_smoothing == 0.0


def test_adamw_is_the_image_default(images):
    X, y = images
    clf = ImageClassifier(**TINY).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.AdamW)
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == clf.weight_decay


def test_light_augmentation_is_the_image_default(images):
    from skmultimodal.data import default_augmentation

    X, y = images
    clf = ImageClassifier(**{k: v for k, v in TINY.items() if k != "augment"})
    assert clf.augment == "light"
    clf.fit(X, y)
    train = clf.modality_.make_transform(train=True).augment
    assert [repr(t) for t in train.transforms] == [
        repr(t) for t in default_augmentation("light").transforms]
    assert clf.modality_.make_transform(train=False).augment is None  # never at predict
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_tta_averages_the_flipped_images(images):
    X, y = images
    plain = ImageClassifier(**TINY).fit(X, y)
    flipped = plain.predict_proba(X[:, :, ::-1])
    expected = (plain.predict_proba(X) + flipped) / 2
    for tta in (True, "flip"):
        plain.set_params(tta=tta)
        np.testing.assert_allclose(plain.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    # a symmetric image: TTA changes nothing
    sym = np.concatenate([X[:, :, :16], X[:, :, :16][:, :, ::-1]], axis=2)
    plain.set_params(tta=False)
    np.testing.assert_allclose(plain.set_params(tta=True).predict_proba(sym),
                               plain.set_params(tta=False).predict_proba(sym),
                               rtol=1e-5, atol=1e-6)
    assert plain.set_params(tta=True).predict(X).shape == y.shape


@pytest.mark.parametrize("params, name", [
    (dict(lr_schedule="cosine"), "lr_schedule"),
    (dict(lr_schedule=3), "lr_schedule"),
    (dict(label_smoothing=1.0), "label_smoothing"),
    (dict(label_smoothing=-0.1), "label_smoothing"),
    (dict(tta="rotate"), "tta"),
    (dict(augment="xray"), "augment"),
])
def test_bad_values_name_the_parameter(images, params, name):
    X, y = images
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of ImageClassifier"):
        ImageClassifier(**dict(TINY, **params)).fit(X, y)


@pytest.mark.parametrize("preset", ["generic", "light", "ultrasound", "mammography",
                                    "histology"])
def test_augmentation_presets_train(images, preset):
    X, y = images
    clf = ImageClassifier(**dict(TINY, augment=preset, max_epochs=1)).fit(X, y)
    assert clf.predict_proba(X).shape == (len(y), 2)
