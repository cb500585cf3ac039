import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skmultimodal.nn import ATTENTIONS, CBAM, ECA
from skmultimodal.nn._attention import create_attention, eca_kernel_size


@pytest.mark.parametrize("channels, k", [(1, 1), (4, 1), (16, 3), (64, 3), (256, 5), (512, 5),
                                         (2048, 7)])
def test_eca_adaptive_kernel_size(channels, k):
    # k = |(log2(C) + b) / gamma| made odd, gamma=2, b=1 (Wang et al. 2020)
    assert eca_kernel_size(channels) == k
    eca = ECA(channels)
    assert eca.kernel_size == k
    assert eca.conv.weight.shape == (1, 1, k)


def test_eca_matches_reference_computation():
    torch.manual_seed(0)
    eca = ECA(16)  # k = 3
    x = torch.randn(2, 16, 5, 4)
    w = eca.conv.weight.detach().view(-1)
    pooled = x.mean(dim=(2, 3))
    padded = F.pad(pooled, (1, 1))
    logits = torch.stack([padded[:, c:c + 3] @ w for c in range(16)], dim=1)
    expected = x * torch.sigmoid(logits)[:, :, None, None]
    torch.testing.assert_close(eca(x), expected)


def test_eca_zero_weight_halves_input():
    eca = ECA(8)
    nn.init.zeros_(eca.conv.weight)
    x = torch.randn(2, 8, 3, 3)
    torch.testing.assert_close(eca(x), 0.5 * x)


def test_eca_explicit_kernel_and_errors():
    assert ECA(64, kernel_size=5).kernel_size == 5
    with pytest.raises(ValueError, match="odd"):
        ECA(64, kernel_size=4)
    with pytest.raises(ValueError, match="channels"):
        ECA(0)


def _cbam_reference(cbam, x):
    g = cbam.channel_gate

    def mlp(v):
        return F.conv2d(F.relu(F.conv2d(v, g.fc1.weight, g.fc1.bias)), g.fc2.weight, g.fc2.bias)

    avg = x.mean(dim=(2, 3), keepdim=True)
    mx = x.amax(dim=(2, 3), keepdim=True)
    x = x * torch.sigmoid(mlp(avg) + mlp(mx))
    maps = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
    k = cbam.spatial_gate.conv.weight.shape[-1]
    return x * torch.sigmoid(F.conv2d(maps, cbam.spatial_gate.conv.weight, padding=k // 2))


def test_cbam_matches_reference_computation():
    torch.manual_seed(0)
    cbam = CBAM(32, reduction=8)
    x = torch.randn(2, 32, 6, 5)
    torch.testing.assert_close(cbam(x), _cbam_reference(cbam, x))


def test_cbam_zero_parameters_quarter_input():
    cbam = CBAM(8, reduction=2)
    for p in cbam.parameters():
        nn.init.zeros_(p)
    x = torch.randn(2, 8, 4, 4)
    # channel gate sigmoid(0 + 0) = 0.5, then spatial gate sigmoid(0) = 0.5
    torch.testing.assert_close(cbam(x), 0.25 * x)


@pytest.mark.parametrize("channels, reduction, hidden",
                         [(64, 16, 4), (8, 16, 1), (1, 16, 1), (32, 4, 8)])
def test_cbam_hidden_size_guarded(channels, reduction, hidden):
    cbam = CBAM(channels, reduction=reduction)
    assert cbam.hidden == hidden
    assert cbam.channel_gate.fc1.out_channels == hidden
    assert cbam(torch.randn(2, channels, 3, 3)).shape == (2, channels, 3, 3)


def test_cbam_errors():
    with pytest.raises(ValueError, match="spatial_kernel must be odd"):
        CBAM(16, spatial_kernel=6)
    with pytest.raises(ValueError, match="reduction"):
        CBAM(16, reduction=0)


@pytest.mark.parametrize("module_cls", [ECA, CBAM])
@pytest.mark.parametrize("size", [(1, 1), (1, 5), (7, 7)])
def test_shape_kept_and_gradients_flow(module_cls, size):
    torch.manual_seed(0)
    module = module_cls(16)
    x = torch.randn(2, 16, *size, requires_grad=True)
    out = module(x)
    assert out.shape == x.shape
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for name, p in module.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    assert any(p.grad.abs().sum() > 0 for p in module.parameters())


def test_create_attention():
    assert ATTENTIONS == (None, "eca", "cbam")
    assert isinstance(create_attention(None, 8), nn.Identity)
    assert isinstance(create_attention("eca", 8), ECA)
    assert isinstance(create_attention("cbam", 8), CBAM)
    with pytest.raises(ValueError, match=r"unknown attention 'se'.*'eca', 'cbam'"):
        create_attention("se", 8)
