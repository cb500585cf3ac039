"""Batch-norm recalibration after training: all rows, a bounded subset, or none."""

import numpy as np
import pytest
import torch

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.datasets import make_multimodal_classification

FAST = dict(backbone="simple_cnn", image_size=16, channels=1, max_epochs=2, batch_size=16,
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


@pytest.mark.parametrize("setting, expected_rows", [(True, 96), (2, 32), (False, 0)])
def test_rows_used_by_the_recalibration(images, setting, expected_rows, monkeypatch):
    X, y = images
    counter = _CountRows()
    original = ImageClassifier._build_net

    def build(self, *args, **kwargs):
        net = original(self, *args, **kwargs)
        net.initialize()
        net.module_.head.register_forward_hook(counter)
        net.initialize = lambda: net  # keep the hooked module
        return net

    monkeypatch.setattr(ImageClassifier, "_build_net", build)
    clf = ImageClassifier(recalibrate_bn=setting, **FAST).fit(X, y)
    # training runs with gradients; only the recalibration runs without
    assert counter.rows == expected_rows
    names = [name for name, _ in clf.net_.callbacks]
    assert ("recalibrate_bn" in names) == (setting is not False)


def test_recalibration_gives_the_training_set_statistics(images):
    X, y = images
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
    # the mean over all training images of that convolution's output
    conv = next(m for m in exact.net_.module_.modules() if isinstance(m, torch.nn.Conv2d))
    batch = torch.stack([torch.as_tensor(exact.modality_.make_transform(False)(im))
                         for im in X])
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
