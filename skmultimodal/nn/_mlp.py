"""Multilayer-perceptron encoder for tabular (e.g. clinical or genomic) features."""
from numbers import Integral, Real

from torch import nn

from ._checks import check_positive_int

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class MLP(nn.Sequential):
    """Multilayer perceptron encoder: ``(N, in_features) -> (N, num_features)``.

    Each hidden layer is Linear, BatchNorm1d (optional), activation and
    Dropout (when ``dropout > 0``). There is no output layer: the last hidden
    layer's activations are the embedding.

    Parameters
    ----------
    in_features : int
        Number of input features.
    hidden_layer_sizes : int or sequence of int, default=(64,)
        Width of each hidden layer. Empty gives the identity.
    dropout : float, default=0.0
        Dropout probability after each activation.
    batch_norm : bool, default=True
        Whether to put a BatchNorm1d after each Linear (which then has no
        bias).
    activation : {"relu", "gelu", "tanh"}, default="relu"
        Activation function.

    Attributes
    ----------
    num_features : int
        Size of the embedding: the last hidden size, or ``in_features`` when
        ``hidden_layer_sizes`` is empty.

    Notes
    -----
    As in torch, BatchNorm1d in training mode needs more than one sample per
    batch and raises a ``ValueError`` for a batch of one; in evaluation mode
    (``model.eval()``) it uses its running statistics and any batch size works.

    Examples
    --------
    >>> import torch
    >>> mlp = MLP(10, hidden_layer_sizes=(32, 16), dropout=0.1)
    >>> mlp(torch.randn(4, 10)).shape
    torch.Size([4, 16])
    >>> mlp.num_features
    16
    """

    def __init__(self, in_features, hidden_layer_sizes=(64,), dropout=0.0,
                 batch_norm=True, activation="relu"):
        check_positive_int(in_features, "in_features")
        if isinstance(hidden_layer_sizes, Integral) and not isinstance(hidden_layer_sizes, bool):
            hidden_layer_sizes = (hidden_layer_sizes,)
        hidden_layer_sizes = tuple(hidden_layer_sizes)
        for size in hidden_layer_sizes:
            check_positive_int(size, "every hidden layer size")
        if isinstance(dropout, bool) or not isinstance(dropout, Real) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a float in [0, 1), got {dropout!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; valid options are {list(_ACTIVATIONS)}"
            )
        layers = []
        prev = int(in_features)
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(prev, int(size), bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(size)))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            prev = int(size)
        super().__init__(*layers)
        self.in_features = int(in_features)
        self.num_features = prev
