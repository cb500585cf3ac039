"""Every network estimator speaks the same training recipe.

``lr_schedule`` is a parameter of every estimator that trains a network, and
``label_smoothing`` of every one trained with the cross-entropy loss; both
reach the network the same way everywhere (a per-batch schedule in the
history, the smoothing in the criterion).
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from instance_generator import TRANSFORMER_PARAMS, multimodal_instances, survival_instances
from skmultimodal.estimators import DeepFeatureExtractor
from skmultimodal.estimators._base import BaseNetClassifier
from skmultimodal.utils.discovery import all_estimators

NETS = [e for e in multimodal_instances() if isinstance(e, BaseNetClassifier)]
SURVIVAL = list(survival_instances())
EXTRACTOR = DeepFeatureExtractor(**TRANSFORMER_PARAMS["DeepFeatureExtractor"])


def _ids(estimators):
    return [type(e).__name__ for e in estimators]


def _trained_nets(fitted):
    """The skorch nets a fitted estimator trained."""
    if isinstance(fitted, DeepFeatureExtractor):
        return [enc.net_ for enc in fitted.encoders_.values()]
    return [fitted.net_]


def _batch_lrs(net):
    return np.array([b["event_lr"] for epoch in net.history[:, "batches"] for b in epoch])


def test_every_network_estimator_takes_the_schedule():
    trains = [name for name, Est in all_estimators()
              if "max_epochs" in Est._get_param_names()]
    assert len(trains) >= 9, trains
    for name, Est in all_estimators():
        params = Est._get_param_names()
        if "max_epochs" not in params:
            continue
        assert "lr_schedule" in params, name
        # not the survival models (no cross-entropy) nor the contrastive loss
        cross_entropy = "n_time_bins" not in params and name != "ContrastivePretrainer"
        if cross_entropy:
            assert "label_smoothing" in params, name


@pytest.mark.parametrize("estimator", NETS + SURVIVAL + [EXTRACTOR],
                         ids=_ids(NETS + SURVIVAL + [EXTRACTOR]))
def test_warmup_cosine_moves_the_lr_batch_by_batch(estimator, multimodal_table,
                                                   survival_table):
    X, y, _ = survival_table if estimator in SURVIVAL else multimodal_table
    fitted = clone(estimator).set_params(lr_schedule="warmup_cosine", lr=0.01,
                                         max_epochs=2, batch_size=16).fit(X, y)
    for net in _trained_nets(fitted):
        lrs = _batch_lrs(net)
        assert len(lrs) == 2 * int(np.ceil(len(X) / 16))
        assert lrs.max() == pytest.approx(0.01)
        assert lrs[-1] < 0.5 * lrs.max()
        assert net.optimizer_.param_groups[0]["lr"] < lrs.max()


@pytest.mark.parametrize("estimator", NETS, ids=_ids(NETS))
def test_no_schedule_and_no_smoothing_by_default_outside_images(estimator, multimodal_table):
    if type(estimator).__name__ == "ImageClassifier":
        assert estimator.lr_schedule == "warmup_cosine" and estimator.label_smoothing == 0.1
        return
    assert estimator.lr_schedule is None and estimator.label_smoothing == 0.0
    X, y, _ = multimodal_table
    fitted = clone(estimator).set_params(max_epochs=1).fit(X, y)
    assert "lr_scheduler" not in dict(fitted.net_.callbacks_)
    assert fitted.net_.criterion_.label_smoothing == 0.0


@pytest.mark.parametrize("estimator", NETS + [EXTRACTOR], ids=_ids(NETS + [EXTRACTOR]))
def test_label_smoothing_reaches_the_criterion(estimator, multimodal_table):
    X, y, _ = multimodal_table
    fitted = clone(estimator).set_params(label_smoothing=0.2, max_epochs=1).fit(X, y)
    for net in _trained_nets(fitted):
        assert isinstance(net.criterion_, torch.nn.CrossEntropyLoss)
        assert net.criterion_.label_smoothing == pytest.approx(0.2)


def test_the_extractor_keeps_the_image_recipe_by_default(multimodal_table):
    """Its CNNs trained with ImageClassifier's schedule and smoothing before
    the extractor named them; the defaults keep that."""
    assert EXTRACTOR.lr_schedule == "warmup_cosine" and EXTRACTOR.label_smoothing == 0.1
    X, y, _ = multimodal_table
    fitted = clone(EXTRACTOR).set_params(max_epochs=1).fit(X, y)
    (net,) = _trained_nets(fitted)
    assert "lr_scheduler" in dict(net.callbacks_)
    assert net.criterion_.label_smoothing == pytest.approx(0.1)
    fitted = clone(EXTRACTOR).set_params(max_epochs=1, lr_schedule=None,
                                         label_smoothing=0.0).fit(X, y)
    (net,) = _trained_nets(fitted)
    assert "lr_scheduler" not in dict(net.callbacks_)
    assert net.criterion_.label_smoothing == 0.0


@pytest.mark.parametrize("estimator", NETS + SURVIVAL + [EXTRACTOR],
                         ids=_ids(NETS + SURVIVAL + [EXTRACTOR]))
def test_an_unknown_schedule_names_the_parameter(estimator, multimodal_table, survival_table):
    X, y, _ = survival_table if estimator in SURVIVAL else multimodal_table
    with pytest.raises(InvalidParameterError, match="lr_schedule"):
        clone(estimator).set_params(lr_schedule="cosine").fit(X, y)


@pytest.mark.parametrize("estimator", NETS + [EXTRACTOR], ids=_ids(NETS + [EXTRACTOR]))
def test_label_smoothing_of_one_is_refused(estimator, multimodal_table):
    X, y, _ = multimodal_table
    with pytest.raises(InvalidParameterError, match="label_smoothing"):
        clone(estimator).set_params(label_smoothing=1.0).fit(X, y)
