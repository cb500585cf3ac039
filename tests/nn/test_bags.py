"""MIL pooling modules: masks, weights and empty bags."""

import pytest
import torch

from skmultimodal.nn import BAG_POOLINGS, AttentionPooling, BagPooling, ModalityEncoder
from skmultimodal.nn._bags import encode_instances


def _bags():
    torch.manual_seed(0)
    h = torch.randn(3, 4, 5)
    mask = torch.tensor([[True, True, True, False],
                         [True, False, False, False],
                         [False, False, False, False]])
    return h, mask


@pytest.mark.parametrize("gated", [True, False])
def test_attention_weights_sum_to_one_over_real_instances(gated):
    h, mask = _bags()
    pooled, weights = AttentionPooling(5, 8, gated=gated)(h, mask)
    assert pooled.shape == (3, 5) and weights.shape == (3, 4)
    torch.testing.assert_close(weights[:2].sum(dim=1), torch.ones(2))
    assert (weights[~mask] == 0).all()
    # a bag with no instance: zero embedding and weights, no NaN
    assert (pooled[2] == 0).all() and (weights[2] == 0).all()
    torch.testing.assert_close(pooled[1], h[1, 0])  # one instance: itself


def test_padding_values_do_not_matter():
    h, mask = _bags()
    noisy = h.clone()
    noisy[~mask] = 1e6
    for pooling in BAG_POOLINGS:
        torch.manual_seed(0)
        pool = BagPooling(5, pooling, 8)
        a, wa = pool(h, mask)
        b, wb = pool(noisy, mask)
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(wa, wb)


def test_mean_and_max_pooling():
    h, mask = _bags()
    mean, w = BagPooling(5, "mean")(h, mask)
    torch.testing.assert_close(mean[0], h[0, :3].mean(dim=0))
    torch.testing.assert_close(w[0], torch.tensor([1 / 3, 1 / 3, 1 / 3, 0]))
    top, share = BagPooling(5, "max")(h, mask)
    torch.testing.assert_close(top[0], h[0, :3].max(dim=0).values)
    torch.testing.assert_close(share[0].sum(), torch.tensor(1.0))
    assert (top[2] == 0).all() and (share[2] == 0).all()


def test_pooling_is_invariant_to_instance_order():
    h, mask = _bags()
    perm = torch.tensor([2, 0, 1, 3])
    for pooling in BAG_POOLINGS:
        pool = BagPooling(5, pooling, 8)
        a, wa = pool(h, mask)
        b, wb = pool(h[:, perm], mask[:, perm])
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(wa[:, perm], wb)


def test_unknown_pooling_is_a_clear_error():
    with pytest.raises(ValueError, match="pooling='sum' is not supported"):
        BagPooling(5, "sum")


def test_bag_encoder_runs_the_backbone_on_real_instances_only():
    enc = ModalityEncoder({"kind": "image_bag", "backbone": "simple_cnn", "in_channels": 1,
                           "backbone_params": {"channels": (4,)}, "attention_dim": 8}).eval()
    x = torch.randn(2, 3, 1, 8, 8)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    seen = []
    enc.net.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    h = enc.instance_embeddings(x, mask)
    assert seen == [3] and (h[~mask] == 0).all()
    pooled, weights, _ = enc.forward_bag(x, mask)
    assert pooled.shape == (2, enc.num_features)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))
    # nothing to encode: zeros, and the backbone is not called on an empty batch
    empty = encode_instances(enc.net, x, torch.zeros(2, 3, dtype=torch.bool))
    assert empty.shape == (2, 3, enc.num_features) and (empty == 0).all()
