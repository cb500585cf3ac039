"""Batch-norm recalibration: a pass over a share of the training rows, a bounded
subset or all of them, statistics of the last epoch, or none."""

import functools

import numpy as np
import pytest
import torch

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators import _base
from skmultimodal.estimators._callbacks import RecalibrateBatchNorm

FAST = dict(backbone="simple_cnn", image_size=16, channels=1, max_epochs=2, batch_size=16,
            augment=False,
            random_state=0, device="cpu", backbone_params={"channels": (8, 16)})


@pytest.fixture(scope="module")
def images():
    X, y = make_multimodal_classification(96, image_size=16, image_share=1.0, random_state=0)
    return np.stack(X["image"].to_list()), y


def _first_bn(clf):
    return next(m for m in clf.net_.module_.modules()
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


class _CountRows(torch.nn.Module):
    """Forward hook counting the rows a module sees in evaluation mode."""

    def __init__(self):
        super().__init__()
        self.rows = 0

    def __call__(self, module, inputs, output):
        if not torch.is_grad_enabled():
            self.rows += len(inputs[0])


def _hook_module(monkeypatch, hook, estimator=ImageClassifier, where="head"):
    """Register ``hook`` on the module's ``where`` submodule at every fit."""
    original = estimator._build_net

    def build(self, *args, **kwargs):
        net = original(self, *args, **kwargs)
        net.initialize()
        net.module_.get_submodule(where).register_forward_hook(hook)
        net.initialize = lambda: net  # keep the hooked module
        return net

    monkeypatch.setattr(estimator, "_build_net", build)


def _callback(monkeypatch, **kwargs):
    """Estimators build their RecalibrateBatchNorm with these keyword arguments."""
    monkeypatch.setattr(_base, "RecalibrateBatchNorm",
                        functools.partial(RecalibrateBatchNorm, **kwargs))


# Rows of the no-grad pass, by recalibrate_bn, max_epochs and the callback's
# keyword arguments. By default a quarter of the 96 training rows, at least two
# batches (of 16): 32 rows; an int bounds the batches; share=1 uses every row.
# With during_last_epoch=True the statistics of two epochs or more come from
# the last epoch (no pass); one epoch still runs the pass.
@pytest.mark.parametrize("setting, epochs, kwargs, expected_rows", [
    (True, 2, {}, 32), (2, 2, {}, 32), (4, 2, {}, 64), (False, 2, {}, 0),
    (True, 2, {"share": 1.0}, 96), (True, 2, {"share": 0.5}, 48),
    (True, 2, {"during_last_epoch": True}, 0), (2, 3, {"during_last_epoch": True}, 0),
    (True, 1, {"during_last_epoch": True}, 32), (True, 1, {"during_last_epoch": True,
                                                          "share": 1.0}, 96)])
def test_rows_used_by_the_recalibration(images, setting, epochs, kwargs, expected_rows,
                                        monkeypatch):
    X, y = images
    counter = _CountRows()
    _hook_module(monkeypatch, counter)
    _callback(monkeypatch, **kwargs)
    clf = ImageClassifier(recalibrate_bn=setting, **dict(FAST, max_epochs=epochs)).fit(X, y)
    # training runs with gradients; only the recalibration runs without
    assert counter.rows == expected_rows
    names = [name for name, _ in clf.net_.callbacks]
    assert ("recalibrate_bn" in names) == (setting is not False)
    assert all(bn.momentum == 0.1 for bn in _bns(clf))  # restored


def _bns(clf):
    return [m for m in clf.net_.module_.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def test_last_epoch_statistics_average_its_batches(images, monkeypatch):
    X, y = images
    seen = []

    def record(module, inputs, output):
        if module.training:
            seen.append((len(inputs[0]), inputs[0].detach().mean(dim=(0, 2, 3))))

    _hook_module(monkeypatch, record, where="encoder.blocks.0.bn1")
    _callback(monkeypatch, during_last_epoch=True)
    clf = ImageClassifier(**dict(FAST, max_epochs=3)).fit(X, y)
    per_epoch = len(seen) // 3
    last = seen[-per_epoch:]
    assert sum(n for n, _ in last) == len(X)  # every training row, once
    # the first batch norm follows the first convolution: its running mean is
    # the average of that convolution's batch means over the last epoch
    bn = _first_bn(clf)
    expected = torch.stack([m for _, m in last]).mean(dim=0)
    torch.testing.assert_close(bn.running_mean, expected, atol=1e-5, rtol=1e-5)
    assert int(bn.num_batches_tracked) == per_epoch


def test_last_epoch_statistics_fit_the_final_weights(images, monkeypatch):
    """The statistics of the last epoch are close to those of a pass with the
    final weights, far closer than the exponential averages, and predictions
    agree with the pass's."""
    X, y = images
    params = dict(FAST, max_epochs=4)
    none = ImageClassifier(recalibrate_bn=False, **params).fit(X, y)
    exact = ImageClassifier(**params).fit(X, y)
    RecalibrateBatchNorm(share=1.0).recalibrate(exact.net_, exact.make_dataset(X))
    _callback(monkeypatch, during_last_epoch=True)
    fast = ImageClassifier(**params).fit(X, y)
    for a, b in zip(fast.net_.module_.parameters(), exact.net_.module_.parameters()):
        torch.testing.assert_close(a, b)  # statistics only differ

    def gap(clf):
        return max(float((bn.running_mean - ref.running_mean).abs().max())
                   for bn, ref in zip(_bns(clf), _bns(exact)))

    assert gap(fast) < 0.5 * gap(none)
    agree = np.mean(fast.predict(X) == exact.predict(X))
    assert agree >= 0.9


def test_restored_weights_get_an_extra_pass(images, monkeypatch):
    """load_best restoring an earlier epoch: its statistics are recomputed."""
    X, y = images
    counter = _CountRows()
    _hook_module(monkeypatch, counter)
    _callback(monkeypatch, during_last_epoch=True)
    params = dict(FAST, max_epochs=6, early_stopping=True, n_iter_no_change=1,
                  validation_fraction=0.25, lr=0.05)
    clf = ImageClassifier(**params).fit(X, y)
    history = clf.net_.history
    # the setting makes the validation loss rise: training stops early
    assert len(history) < 6
    assert history[-1, "valid_loss"] > min(history[:, "valid_loss"])
    n_valid = 24
    # the validation rows at every epoch, then the pass over two batches of
    # the training rows (more than a quarter of them)
    assert counter.rows == len(history) * n_valid + 32
    assert all(bn.momentum == 0.1 for bn in _bns(clf))


def test_batch_norm_after_dropout_gets_an_extra_pass(monkeypatch):
    X, y = make_multimodal_classification(64, image_size=8, random_state=0)
    X = X[[c for c in X.columns if c.startswith("tab_")]]
    calls = []
    _callback(monkeypatch, during_last_epoch=True)
    original = RecalibrateBatchNorm.recalibrate
    monkeypatch.setattr(RecalibrateBatchNorm, "recalibrate",
                        lambda self, net, X: calls.append(1) or original(self, net, X))
    params = dict(max_epochs=2, random_state=0, device="cpu")
    TabularMLPClassifier(hidden_layer_sizes=(8, 8), dropout=0.3, **params).fit(X, y)
    assert calls == [1]
    TabularMLPClassifier(hidden_layer_sizes=(8, 8), dropout=0.0, **params).fit(X, y)
    TabularMLPClassifier(hidden_layer_sizes=(8,), dropout=0.3, **params).fit(X, y)
    assert calls == [1]


@pytest.mark.parametrize("share", [1.0, None])
def test_recalibration_gives_the_training_set_statistics(images, share, monkeypatch):
    X, y = images
    if share is not None:
        _callback(monkeypatch, share=share)
    exact = ImageClassifier(**FAST).fit(X, y)
    ema = ImageClassifier(recalibrate_bn=False, **FAST).fit(X, y)
    bn_exact, bn_ema = _first_bn(exact), _first_bn(ema)
    # same weights (recalibration changes statistics only), other statistics
    for (k, a), b in zip(exact.net_.module_.state_dict().items(),
                         ema.net_.module_.state_dict().values()):
        if "running" not in k and "num_batches" not in k:
            torch.testing.assert_close(a, b)
    assert not torch.allclose(bn_exact.running_mean, bn_ema.running_mean)
    # the first batch norm follows the first convolution: its running mean is
    # the mean over the training images of the pass of that convolution's output:
    # every image, or by default a seeded random quarter of them (at least two
    # batches: 32 of the 96)
    rows = np.arange(len(X)) if share else np.sort(
        np.random.RandomState(0).choice(len(X), 32, replace=False))
    conv = next(m for m in exact.net_.module_.modules() if isinstance(m, torch.nn.Conv2d))
    batch = torch.stack([torch.as_tensor(exact.modality_.make_transform(False)(im))
                         for im in X[rows]])
    with torch.no_grad():
        expected = conv(batch).mean(dim=(0, 2, 3))
    torch.testing.assert_close(bn_exact.running_mean, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "yes", None])
def test_bad_recalibrate_bn(images, bad):
    X, y = images
    with pytest.raises(ValueError, match="recalibrate_bn"):
        ImageClassifier(recalibrate_bn=bad, **FAST).fit(X, y)


def test_tabular_classifier_takes_the_parameter():
    X, y = make_multimodal_classification(64, image_size=8, random_state=0)
    X = X[[c for c in X.columns if c.startswith("tab_")]]
    clf = TabularMLPClassifier(recalibrate_bn=False, max_epochs=2, random_state=0,
                               device="cpu").fit(X, y)
    assert "recalibrate_bn" not in [name for name, _ in clf.net_.callbacks]
