import pytest
import torch
from torch import nn

from skmultimodal.nn import MLP


def test_layers_and_shapes():
    mlp = MLP(10, hidden_layer_sizes=(32, 16), dropout=0.2)
    assert mlp.num_features == 16
    assert [type(m) for m in mlp] == [
        nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
        nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
    ]
    assert mlp[0].bias is None  # the BatchNorm shift replaces it
    assert (mlp[0].in_features, mlp[0].out_features, mlp[4].out_features) == (10, 32, 16)
    assert mlp(torch.randn(4, 10)).shape == (4, 16)


def test_default_and_int_sizes():
    assert MLP(5).num_features == 64
    assert MLP(5, hidden_layer_sizes=8).num_features == 8


def test_without_batch_norm_and_dropout():
    mlp = MLP(3, hidden_layer_sizes=(4,), batch_norm=False, activation="tanh")
    assert [type(m) for m in mlp] == [nn.Linear, nn.Tanh]
    x = torch.randn(5, 3)
    torch.testing.assert_close(mlp(x), torch.tanh(mlp[0](x)))


@pytest.mark.parametrize("activation, cls",
                         [("relu", nn.ReLU), ("gelu", nn.GELU), ("tanh", nn.Tanh)])
def test_activations(activation, cls):
    assert isinstance(MLP(3, (4,), activation=activation)[2], cls)


def test_empty_hidden_layers_is_identity():
    mlp = MLP(7, hidden_layer_sizes=())
    assert mlp.num_features == 7
    x = torch.randn(3, 7)
    assert torch.equal(mlp(x), x)


def test_batch_of_one():
    mlp = MLP(4, hidden_layer_sizes=(8,))
    mlp.eval()
    with torch.no_grad():
        assert mlp(torch.randn(1, 4)).shape == (1, 8)
    mlp.train()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        mlp(torch.randn(1, 4))


def test_dropout_train_versus_eval():
    torch.manual_seed(0)
    mlp = MLP(4, hidden_layer_sizes=(256,), dropout=0.5, batch_norm=False)
    x = torch.randn(8, 4)
    mlp.eval()
    expected = torch.relu(mlp[0](x))
    torch.testing.assert_close(mlp(x), expected)
    mlp.train()
    out = mlp(x)
    dropped = (out == 0) & (expected != 0)
    assert dropped.any()
    kept = ~dropped & (expected != 0)
    torch.testing.assert_close(out[kept], 2 * expected[kept])


def test_gradients_flow():
    mlp = MLP(6, hidden_layer_sizes=(8, 4), dropout=0.1)
    x = torch.randn(5, 6, requires_grad=True)
    mlp(x).sum().backward()
    assert x.grad.abs().sum() > 0
    for name, p in mlp.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("kwargs, match", [
    ({"in_features": 0}, "in_features"),
    ({"in_features": 3, "hidden_layer_sizes": (8, 0)}, "hidden layer size"),
    ({"in_features": 3, "hidden_layer_sizes": (8.5,)}, "hidden layer size"),
    ({"in_features": 3, "dropout": 1.0}, "dropout"),
    ({"in_features": 3, "dropout": -0.1}, "dropout"),
    ({"in_features": 3, "activation": "sigmoid"},
     r"unknown activation 'sigmoid'.*'relu', 'gelu', 'tanh'"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)
