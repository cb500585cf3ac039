"""Channel and spatial attention modules: ECA and CBAM."""
import math

import torch
from torch import nn

from ._checks import check_positive_int

__all__ = ["ECA", "CBAM", "ATTENTIONS", "create_attention"]

#: Valid values of the ``attention`` argument of the backbones.
ATTENTIONS = (None, "eca", "cbam")


def check_attention(attention):
    """Validate an ``attention`` option.

    Parameters
    ----------
    attention : {None, "eca", "cbam"}
        The option to check.

    Returns
    -------
    attention : {None, "eca", "cbam"}
        The same value.

    Raises
    ------
    ValueError
        If ``attention`` is not one of :data:`ATTENTIONS`.
    """
    if not (attention is None or (isinstance(attention, str) and attention in ATTENTIONS)):
        raise ValueError(
            f"unknown attention {attention!r}; valid options are {list(ATTENTIONS)}"
        )
    return attention


def create_attention(attention, channels):
    """Build an attention module for a feature map with ``channels`` channels.

    Parameters
    ----------
    attention : {None, "eca", "cbam"}
        Kind of attention. ``None`` gives :class:`torch.nn.Identity`.
    channels : int
        Number of channels of the feature map the module is applied to.

    Returns
    -------
    module : torch.nn.Module
        A module that maps ``(N, channels, H, W)`` to the same shape.

    Raises
    ------
    ValueError
        If ``attention`` is not one of :data:`ATTENTIONS`.
    """
    check_attention(attention)
    if attention is None:
        return nn.Identity()
    if attention == "eca":
        return ECA(channels)
    return CBAM(channels)


def eca_kernel_size(channels, gamma=2, b=1):
    """Adaptive kernel size of ECA: ``|log2(C) / gamma + b / gamma|`` made odd.

    Parameters
    ----------
    channels : int
        Number of channels ``C``.
    gamma, b : int, default=2, 1
        Parameters of the mapping from channels to kernel size.

    Returns
    -------
    k : int
        An odd kernel size >= 1.
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


class ECA(nn.Module):
    """Efficient Channel Attention (Wang et al., CVPR 2020).

    Global average pooling, a 1-D convolution across channels with an
    adaptive kernel size, a sigmoid, and a rescaling of the input channels.

    Parameters
    ----------
    channels : int
        Number of input (and output) channels.
    gamma : int, default=2
        Parameter of the channels-to-kernel-size mapping.
    b : int, default=1
        Parameter of the channels-to-kernel-size mapping.
    kernel_size : int, optional
        Odd kernel size of the 1-D convolution; overrides the adaptive one.

    Attributes
    ----------
    kernel_size : int
        Kernel size in use.
    conv : torch.nn.Conv1d
        The convolution across channels (one weight vector, no bias).

    References
    ----------
    Q. Wang et al., "ECA-Net: Efficient Channel Attention for Deep
    Convolutional Neural Networks", CVPR 2020.

    Examples
    --------
    >>> import torch
    >>> eca = ECA(64)
    >>> eca(torch.randn(2, 64, 8, 8)).shape
    torch.Size([2, 64, 8, 8])
    """

    def __init__(self, channels, gamma=2, b=1, kernel_size=None):
        super().__init__()
        check_positive_int(channels, "channels")
        if kernel_size is None:
            kernel_size = eca_kernel_size(channels, gamma, b)
        check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)

    def forward(self, x):
        """Rescale the channels of ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (N, C, H, W)

        Returns
        -------
        torch.Tensor of shape (N, C, H, W)
        """
        y = x.mean(dim=(2, 3))  # (N, C)
        y = self.conv(y.unsqueeze(1)).squeeze(1)  # (N, C)
        return x * torch.sigmoid(y)[:, :, None, None]

    def extra_repr(self):
        """Return the settings shown in the module's repr."""
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


class _ChannelGate(nn.Module):
    """CBAM channel attention: shared MLP on avg- and max-pooled features."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def _mlp(self, x):
        return self.fc2(self.relu(self.fc1(x)))

    def forward(self, x):
        avg = self._mlp(x.mean(dim=(2, 3), keepdim=True))
        mx = self._mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + mx)


class _SpatialGate(nn.Module):
    """CBAM spatial attention: conv over channel-wise mean and max maps."""

    def __init__(self, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x):
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    """Convolutional Block Attention Module (Woo et al., ECCV 2018).

    Channel attention (average- and max-pooled descriptors through a shared
    two-layer MLP, summed, sigmoid) followed by spatial attention (channel-wise
    mean and max maps, a ``spatial_kernel`` x ``spatial_kernel`` convolution,
    sigmoid).

    Parameters
    ----------
    channels : int
        Number of input (and output) channels.
    reduction : int, default=16
        Reduction ratio of the channel MLP. The hidden size is
        ``max(1, channels // reduction)``, so small channel counts work.
    spatial_kernel : int, default=7
        Odd kernel size of the spatial-attention convolution (zero padded, so
        any spatial size, including 1x1, works).

    Attributes
    ----------
    hidden : int
        Hidden size of the channel MLP.
    channel_gate : torch.nn.Module
        Channel-attention submodule.
    spatial_gate : torch.nn.Module
        Spatial-attention submodule.

    Notes
    -----
    The original spatial gate has a BatchNorm after its convolution; as in the
    paper's equations, this one has none.

    References
    ----------
    S. Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018.

    Examples
    --------
    >>> import torch
    >>> cbam = CBAM(64)
    >>> cbam(torch.randn(2, 64, 8, 8)).shape
    torch.Size([2, 64, 8, 8])
    """

    def __init__(self, channels, reduction=16, spatial_kernel=7):
        super().__init__()
        check_positive_int(channels, "channels")
        check_positive_int(reduction, "reduction")
        check_positive_int(spatial_kernel, "spatial_kernel")
        if spatial_kernel % 2 == 0:
            raise ValueError(f"spatial_kernel must be odd, got {spatial_kernel}")
        self.channels = channels
        self.hidden = max(1, channels // reduction)
        self.channel_gate = _ChannelGate(channels, self.hidden)
        self.spatial_gate = _SpatialGate(spatial_kernel)

    def forward(self, x):
        """Apply channel then spatial attention to ``x``.

        Parameters
        ----------
        x : torch.Tensor of shape (N, C, H, W)

        Returns
        -------
        torch.Tensor of shape (N, C, H, W)
        """
        return self.spatial_gate(self.channel_gate(x))

    def extra_repr(self):
        """Return the settings shown in the module's repr."""
        return f"channels={self.channels}, hidden={self.hidden}"
