"""A small baseline convolutional backbone."""
from collections import OrderedDict

from torch import nn

from ._attention import check_attention, create_attention
from ._checks import check_positive_int

__all__ = ["SimpleCNN"]


def _conv_block(in_channels, out_channels, convs, attention, pool):
    layers = OrderedDict()
    if pool:
        # ceil_mode keeps at least one pixel: a 1x1 map stays 1x1.
        layers["pool"] = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
    channels = in_channels
    for i in range(1, convs + 1):
        conv = nn.Conv2d(channels, out_channels, 3, padding=1, bias=False)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        layers[f"conv{i}"] = conv
        layers[f"bn{i}"] = nn.BatchNorm2d(out_channels)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)
        channels = out_channels
    if attention is not None:
        layers["attn"] = create_attention(attention, out_channels)
    return nn.Sequential(layers)


class SimpleCNN(nn.Module):
    """Small VGG-style convolutional backbone without classification head.

    One block per entry of ``channels``; a block is ``convs_per_block`` times
    conv3x3-BatchNorm-ReLU, optionally followed by an attention module.
    Blocks after the first start with a 2x2 max pooling (``ceil_mode=True``,
    so tiny inputs never shrink below one pixel); the output of the last block
    is the spatial feature map, and :meth:`forward` global-average-pools it.

    Parameters
    ----------
    in_channels : int, default=3
        Number of input channels.
    channels : sequence of int, default=(32, 64, 128)
        Output channels of each block.
    dropout : float, default=0.0
        Dropout probability applied to the pooled embedding in :meth:`forward`.
    convs_per_block : int, default=2
        Number of conv3x3-BatchNorm-ReLU layers in each block.
    attention : {None, "eca", "cbam"}, default=None
        Attention module appended to every block.

    Attributes
    ----------
    num_features : int
        Channels of the last feature map, i.e. size of the pooled embedding.
    blocks : torch.nn.Sequential
        The convolutional blocks.
    feature_layer : torch.nn.Module
        The last block, whose output is the last spatial feature map (the
        Grad-CAM target layer).

    Notes
    -----
    In training mode BatchNorm needs more than one value per channel, so a
    batch of one 1x1 image fails there (torch's behaviour); evaluation mode
    has no such limit.

    Examples
    --------
    >>> import torch
    >>> cnn = SimpleCNN(in_channels=1, channels=(8, 16))
    >>> cnn(torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 16])
    >>> cnn.forward_features(torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 16, 16, 16])
    """

    arch = "simple_cnn"
    #: Name of the first convolution, adapted when loading weights with
    #: another number of input channels.
    first_conv = "blocks.0.conv1"
    #: Prefixes of state-dict keys ignored when loading weights.
    ignored_prefixes = ()

    def __init__(self, in_channels=3, channels=(32, 64, 128), dropout=0.0,
                 convs_per_block=2, attention=None):
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(convs_per_block, "convs_per_block")
        channels = tuple(channels)
        if not channels:
            raise ValueError("channels must hold at least one block width, got ()")
        for c in channels:
            check_positive_int(c, "every entry of channels")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        check_attention(attention)
        self.in_channels = in_channels
        self.attention = attention
        self.num_features = channels[-1]
        blocks = []
        prev = in_channels
        for i, c in enumerate(channels):
            blocks.append(_conv_block(prev, c, convs_per_block, attention, pool=i > 0))
            prev = c
        self.blocks = nn.Sequential(*blocks)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(dropout)

    @property
    def feature_layer(self):
        """The module whose output is the last spatial feature map."""
        return self.blocks[-1]

    def forward_features(self, x):
        """Spatial feature map of the last block.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels, H, W)

        Returns
        -------
        torch.Tensor of shape (N, num_features, h, w)
        """
        return self.blocks(x)

    def forward(self, x):
        """Global-average-pooled embedding.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels, H, W)

        Returns
        -------
        torch.Tensor of shape (N, num_features)
        """
        return self.dropout(self.flatten(self.global_pool(self.forward_features(x))))
