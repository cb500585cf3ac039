import pickle

import pytest
import torch
import torchvision
from torch import nn

from skmultimodal.nn import (
    ATTENTIONS,
    BACKBONES,
    CBAM,
    ECA,
    ResNetBackbone,
    SimpleCNN,
    get_backbone,
)

NUM_FEATURES = {"simple_cnn": 128, "resnet18": 512, "resnet50": 2048}


@pytest.fixture(scope="module")
def backbones():
    """One backbone per (name, attention), built once: construction dominates the time."""
    torch.manual_seed(0)
    return {(n, a): get_backbone(n, attention=a) for n in BACKBONES for a in ATTENTIONS}


def test_names():
    assert BACKBONES == ("simple_cnn", "resnet18", "resnet50")


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_shapes_and_pooling(backbones, name, attention):
    bb = backbones[name, attention].eval()
    assert bb.num_features == NUM_FEATURES[name]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        feats = bb.forward_features(x)
        emb = bb(x)
    assert feats.dim() == 4 and feats.shape[:2] == (2, bb.num_features)
    assert emb.shape == (2, bb.num_features)
    torch.testing.assert_close(emb, feats.mean(dim=(2, 3)))
    assert not hasattr(bb, "fc")
    assert not any(k.startswith("fc.") for k in bb.state_dict())


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("size", [(1, 1), (1, 5), (8, 8)])
def test_tiny_inputs_train_mode(backbones, name, attention, size):
    bb = backbones[name, attention].train()
    out = bb(torch.randn(2, 3, *size))
    assert out.shape == (2, NUM_FEATURES[name])
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", BACKBONES)
def test_batch_of_one_in_eval_mode(backbones, name):
    bb = backbones[name, None].eval()
    with torch.no_grad():
        assert bb(torch.randn(1, 3, 1, 1)).shape == (1, NUM_FEATURES[name])


def test_simple_cnn_feature_map_resolution(backbones):
    feats = backbones["simple_cnn", None].forward_features(torch.randn(2, 3, 32, 32))
    assert feats.shape == (2, 128, 8, 8)  # two poolings between three blocks
    feats = backbones["simple_cnn", None].forward_features(torch.randn(2, 3, 1, 5))
    assert feats.shape == (2, 128, 1, 2)  # ceil_mode never drops below one pixel


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_feature_layer_outputs_last_feature_map(backbones, name, attention):
    bb = backbones[name, attention].eval()
    expected = bb.layer4 if name.startswith("resnet") else bb.blocks[-1]
    assert bb.feature_layer is expected
    seen = []
    handle = bb.feature_layer.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        with torch.no_grad():
            feats = bb.forward_features(torch.randn(2, 3, 16, 16))
    finally:
        handle.remove()
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], feats)


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_gradients_reach_every_parameter(backbones, name, attention):
    bb = backbones[name, attention].train()
    bb.zero_grad(set_to_none=True)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    bb(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in bb.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("in_channels", [1, 4])
def test_in_channels(name, in_channels):
    bb = get_backbone(name, in_channels=in_channels)
    assert bb(torch.randn(2, in_channels, 8, 8)).shape == (2, NUM_FEATURES[name])
    with pytest.raises(RuntimeError, match="channels"):
        bb(torch.randn(2, 3, 8, 8))


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_resnet_keeps_torchvision_keys(backbones, attention):
    tv_keys = {k for k in torchvision.models.resnet18(weights=None).state_dict()
               if not k.startswith("fc.")}
    keys = set(backbones["resnet18", attention].state_dict())
    assert tv_keys <= keys
    extra = keys - tv_keys
    if attention is None:
        assert not extra
    else:
        assert extra and all(".attn." in k for k in extra)
        # one attention module per residual block: 2 blocks in each of 4 stages
        attn = [m for m in backbones["resnet18", attention].modules() if isinstance(m, (ECA, CBAM))]
        assert len(attn) == 8


def test_resnet_equals_torchvision_without_fc():
    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None).eval()
    bb = ResNetBackbone("resnet18")
    state = {k: v for k, v in tv.state_dict().items() if not k.startswith("fc.")}
    bb.load_state_dict(state)
    bb.eval()
    tv.fc = nn.Identity()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(bb(x), tv(x))


@pytest.mark.parametrize("arch, bn", [("resnet18", "bn2"), ("resnet50", "bn3")])
@pytest.mark.parametrize("attention", ["eca", "cbam"])
def test_attention_between_last_bn_and_residual_addition(backbones, arch, bn, attention):
    block = backbones[arch, attention].layer2[0]  # has a downsample branch
    block.eval()
    record = {}
    hooks = [
        getattr(block, bn).register_forward_hook(lambda m, i, o: record.__setitem__("bn", o)),
        block.attn.register_forward_hook(lambda m, i, o: record.__setitem__("attn", (i[0], o))),
        block.downsample.register_forward_hook(lambda m, i, o: record.__setitem__("identity", o)),
    ]
    try:
        with torch.no_grad():
            out = block(torch.randn(2, block.conv1.in_channels, 8, 8))
    finally:
        for h in hooks:
            h.remove()
    attn_in, attn_out = record["attn"]
    torch.testing.assert_close(attn_in, record["bn"])
    torch.testing.assert_close(out, torch.relu(attn_out + record["identity"]))


@pytest.mark.parametrize("name", ["simple_cnn", "resnet18"])
def test_pickle_round_trip(backbones, name):
    bb = backbones[name, "cbam"].eval()
    clone = pickle.loads(pickle.dumps(bb))
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(clone(x), bb(x))


def test_simple_cnn_options():
    cnn = SimpleCNN(in_channels=2, channels=(4, 8), convs_per_block=1)
    assert cnn.num_features == 8
    assert sum(isinstance(m, nn.Conv2d) for m in cnn.modules()) == 2
    assert cnn.forward_features(torch.randn(2, 2, 10, 10)).shape == (2, 8, 5, 5)
    cnn = SimpleCNN(channels=(4,), dropout=0.5).train()
    torch.manual_seed(0)
    out = cnn(torch.randn(64, 3, 4, 4))
    assert (out == 0).any()
    cnn.eval()
    with torch.no_grad():
        x = torch.randn(2, 3, 4, 4)
        torch.testing.assert_close(cnn(x), cnn.forward_features(x).mean(dim=(2, 3)))
    assert get_backbone("simple_cnn", channels=(4, 6)).num_features == 6


@pytest.mark.parametrize("kwargs, match", [
    ({"channels": ()}, "channels"),
    ({"channels": (8, 0)}, "channels"),
    ({"dropout": 1.0}, "dropout"),
    ({"in_channels": 0}, "in_channels"),
    ({"attention": "se"}, "unknown attention"),
])
def test_simple_cnn_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimpleCNN(**kwargs)


def test_get_backbone_errors():
    with pytest.raises(ValueError,
                       match=r"unknown backbone 'vgg16'.*'simple_cnn', 'resnet18', 'resnet50'"):
        get_backbone("vgg16")
    with pytest.raises(ValueError, match=r"unknown attention 'se'.*None, 'eca', 'cbam'"):
        get_backbone("resnet18", attention="se")
    with pytest.raises(ValueError, match="unknown arch"):
        ResNetBackbone("resnet34")
    with pytest.raises(ValueError, match="in_channels"):
        ResNetBackbone(in_channels=0)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_small_stem_keeps_resolution(in_channels):
    net = ResNetBackbone("resnet18", in_channels=in_channels, stem="small")
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert isinstance(net.maxpool, torch.nn.Identity)
    assert net.forward_features(torch.randn(2, in_channels, 28, 28)).shape == (2, 512, 4, 4)
    # torchvision's stem leaves one position at 28 px
    assert ResNetBackbone("resnet18").forward_features(torch.randn(2, 3, 28, 28)).shape[2:] \
        == (1, 1)
    with pytest.raises(ValueError, match="unknown stem 'tiny'"):
        ResNetBackbone(stem="tiny")


def test_weights_of_the_other_stem_are_refused_by_name():
    from skmultimodal.nn import load_weights

    small = ResNetBackbone(stem="small").state_dict()
    with pytest.raises(ValueError, match=r"3x3 first convolution \(stem 'small'\).*stem='small'"):
        load_weights(ResNetBackbone(stem="imagenet"), small)
    load_weights(ResNetBackbone(stem="small"), small)


@pytest.mark.parametrize("stem, output_stride, grid", [
    ("imagenet", None, 2), ("imagenet", 16, 4), ("imagenet", 8, 8),
    ("small", None, 8), ("small", 4, 16), ("small", 2, 32)])
def test_output_stride_sets_the_token_grid(stem, output_stride, grid):
    net = ResNetBackbone("resnet18", stem=stem, output_stride=output_stride)
    assert net.forward_features(torch.randn(1, 3, 64, 64)).shape[2:] == (grid, grid)


def test_output_stride_matches_torchvision_dilation():
    net = ResNetBackbone("resnet50", output_stride=8).eval()
    tv = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True]).eval()
    net.load_state_dict({k: v for k, v in tv.state_dict().items() if not k.startswith("fc.")})
    x = torch.randn(1, 3, 48, 48)
    expected = nn.Sequential(*list(tv.children())[:-2])(x)
    torch.testing.assert_close(net.forward_features(x), expected)


def test_output_stride_errors():
    with pytest.raises(ValueError, match=r"output_stride=4 is not available with stem "
                                         r"'imagenet'; valid values are \[32, 16, 8\]"):
        ResNetBackbone(output_stride=4)
