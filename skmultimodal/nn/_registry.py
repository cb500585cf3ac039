"""Build an image backbone by name or from an encoder specification."""

from torch import nn

from ._attention import ATTENTIONS, check_attention
from ._resnet import ResNetBackbone
from ._simple_cnn import SimpleCNN
from ._weights import load_weights

__all__ = ["BACKBONES", "ATTENTIONS", "build_backbone", "get_backbone"]

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
        Weights to load, in any form :func:`load_weights` takes.
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


def build_backbone(spec):
    """The image backbone an encoder specification describes.

    Parameters
    ----------
    spec : dict
        ``backbone`` (default ``"resnet18"``), ``attention``, ``weights``,
        ``in_channels`` (default 3), ``freeze_backbone`` (default False) and
        ``backbone_params`` (further keyword arguments of
        :func:`get_backbone`), as
        :meth:`skmultimodal.modalities.ImageModality.encoder_spec` gives them.

    Returns
    -------
    backbone : torch.nn.Module
        With its parameters frozen (``requires_grad=False``) when
        ``freeze_backbone``.
    """
    net = get_backbone(
        spec.get("backbone", "resnet18"), attention=spec.get("attention"),
        weights=spec.get("weights"), in_channels=spec.get("in_channels", 3),
        **dict(spec.get("backbone_params") or {}),
    )
    if spec.get("freeze_backbone", False):
        net.requires_grad_(False)
    return net


def train_keeping_frozen(module, mode, frozen):
    """``module.train(mode)``, leaving the frozen sub-module ``frozen`` in eval mode.

    A frozen backbone keeps its batch-norm statistics and dropout off while
    the rest of the network trains. ``frozen`` may be None.

    Returns
    -------
    module : torch.nn.Module
    """
    nn.Module.train(module, mode)
    if frozen is not None:
        frozen.eval()
    return module
