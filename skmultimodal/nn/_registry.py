"""Build an image backbone by name."""
from ._attention import ATTENTIONS, check_attention
from ._resnet import ResNetBackbone
from ._simple_cnn import SimpleCNN
from ._weights import load_weights

__all__ = ["BACKBONES", "ATTENTIONS", "get_backbone"]

#: Valid backbone names for :func:`get_backbone`.
BACKBONES = ("simple_cnn", "resnet18", "resnet50")


def get_backbone(name, *, attention=None, weights=None, in_channels=3, **kwargs):
    """Build an image backbone without classification head.

    Parameters
    ----------
    name : {"simple_cnn", "resnet18", "resnet50"}
        Backbone name, one of :data:`BACKBONES`.
    attention : {None, "eca", "cbam"}, default=None
        Attention module in every block, one of :data:`ATTENTIONS`.
    weights : None, str, os.PathLike, torchvision WeightsEnum or dict, default=None
        Weights to load; see :func:`~skmultimodal.nn._weights.resolve_weights`.
        ``None`` keeps the random initialisation. torchvision names
        (``"DEFAULT"``, ``"IMAGENET1K_V1"``, ...) exist for the ResNets only.
    in_channels : int, default=3
        Number of input channels.
    **kwargs
        Further arguments of the backbone class (e.g. ``channels`` or
        ``dropout`` of :class:`~skmultimodal.nn.SimpleCNN`).

    Returns
    -------
    backbone : torch.nn.Module
        Has ``num_features``, ``forward_features(x)`` returning the last
        spatial feature map ``(N, num_features, h, w)``, ``forward(x)``
        returning its global average ``(N, num_features)``, and
        ``feature_layer``, the module producing that map.

    Raises
    ------
    ValueError
        If ``name`` or ``attention`` is unknown (the message lists the valid
        values), or the weights do not fit (see
        :func:`~skmultimodal.nn.load_weights`).

    Examples
    --------
    >>> import torch
    >>> bb = get_backbone("resnet18", attention="cbam", in_channels=1)
    >>> bb(torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 512])
    """
    if not isinstance(name, str) or name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; valid names are {list(BACKBONES)}")
    check_attention(attention)
    if name == "simple_cnn":
        model = SimpleCNN(in_channels=in_channels, attention=attention, **kwargs)
    else:
        model = ResNetBackbone(name, attention=attention, in_channels=in_channels, **kwargs)
    return load_weights(model, weights)
