"""ResNet backbones from torchvision, without classifier, with optional attention."""
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from ._attention import check_attention, create_attention
from ._checks import check_positive_int

__all__ = ["ResNetBackbone", "STEMS"]

#: Valid ``stem`` values of :class:`ResNetBackbone`.
STEMS = ("imagenet", "small")

#: Supported architectures: block type and number of blocks per stage.
_ARCHS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}


class _AttnBasicBlock(BasicBlock):
    """torchvision ``BasicBlock`` with attention after ``bn2`` (timm's place).

    The attention module is the extra child ``attn``, so all torchvision
    state-dict keys keep their names.
    """

    def __init__(self, *args, attention, **kwargs):
        super().__init__(*args, **kwargs)
        self.attn = create_attention(attention, self.bn2.num_features)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.attn(self.bn2(self.conv2(out)))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class _AttnBottleneck(Bottleneck):
    """torchvision ``Bottleneck`` with attention after ``bn3`` (timm's place)."""

    def __init__(self, *args, attention, **kwargs):
        super().__init__(*args, **kwargs)
        self.attn = create_attention(attention, self.bn3.num_features)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.attn(self.bn3(self.conv3(out)))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class _AttnBlockFactory:
    """Callable with ``expansion`` that torchvision's ``ResNet`` accepts as block.

    Only used while building: the built network holds plain module classes,
    so it pickles.
    """

    def __init__(self, block, attention):
        self.block = _AttnBasicBlock if block is BasicBlock else _AttnBottleneck
        self.expansion = block.expansion
        self.attention = attention

    def __call__(self, *args, **kwargs):
        return self.block(*args, attention=self.attention, **kwargs)


def _dilate(layer, previous, dilation):
    """Turn the stride of a ResNet stage into dilation (``replace_stride_with_dilation``).

    The stage keeps its weights; its strided convolutions get stride 1, the
    3x3 convolutions of its first block dilation ``previous`` and those of the
    other blocks ``dilation``.
    """
    for i, block in enumerate(layer):
        rate = previous if i == 0 else dilation
        for conv in block.modules():
            if isinstance(conv, nn.Conv2d):
                if conv.stride != (1, 1):
                    conv.stride = (1, 1)
                if conv.kernel_size == (3, 3):
                    conv.dilation = (rate, rate)
                    conv.padding = (rate, rate)


def _build_resnet(arch, attention):
    if attention is None:
        return getattr(torchvision.models, arch)(weights=None)
    block, layers = _ARCHS[arch]
    return ResNet(_AttnBlockFactory(block, attention), layers)


class ResNetBackbone(nn.Module):
    """ResNet-18 / ResNet-50 of torchvision without classifier.

    The stem and the four stages keep torchvision's names (``conv1``, ``bn1``,
    ``layer1`` ... ``layer4``), so a torchvision state dict loads into it
    (its ``fc.*`` keys are ignored by :func:`~skmultimodal.nn.load_weights`).
    With attention, an ECA or CBAM module is placed in every residual block
    after the block's last BatchNorm and before the residual addition (after
    ``bn2`` in a BasicBlock, after ``bn3`` in a Bottleneck), as the child
    ``attn`` of the block.

    Parameters
    ----------
    arch : {"resnet18", "resnet50"}, default="resnet18"
        Architecture.
    attention : {None, "eca", "cbam"}, default=None
        Attention module in every residual block.
    in_channels : int, default=3
        Number of input channels. Other than 3, ``conv1`` is replaced by a
        new convolution with that many input channels.
    stem : {"imagenet", "small"}, default="imagenet"
        "imagenet" keeps torchvision's stem (7x7 convolution of stride 2,
        then 3x3 max-pooling: the feature map is 1/32 of the input).
        "small" is the stem of the ResNets for small images (CIFAR, MedMNIST):
        one 3x3 convolution of stride 1 and no max-pooling, so the feature map
        is 1/8 of the input (4x4 at 28 px instead of 1x1) at about 16 times
        the compute. Its ``conv1`` is 3x3, so ImageNet weights do not fit it.
    output_stride : int, default=None
        Ratio of the input size to the last feature map's (the token grid of
        cross-attention, the resolution of Grad-CAM). None keeps the stem's
        (32 for "imagenet", 8 for "small"); half of it dilates ``layer4``
        instead of striding it, a quarter ``layer3`` and ``layer4`` (as
        DeepLab and torchvision's ``replace_stride_with_dilation``). The
        weights are the same, so pretrained weights still load; the compute of
        the dilated stages grows 4 or 16 times.

    Attributes
    ----------
    num_features : int
        Channels of the last feature map, i.e. size of the pooled embedding
        (512 for resnet18, 2048 for resnet50).
    feature_layer : torch.nn.Module
        ``layer4``, whose output is the last spatial feature map (the
        Grad-CAM target layer).

    Notes
    -----
    Every convolution is zero-padded, so any input of at least 1x1 pixel
    works; the feature map then is 1x1. In training mode BatchNorm needs more
    than one value per channel, so a batch of one 1x1-feature-map image fails
    there (torch's behaviour); evaluation mode has no such limit.

    Examples
    --------
    >>> import torch
    >>> net = ResNetBackbone("resnet18", attention="eca")
    >>> net(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 512])
    >>> net.forward_features(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 512, 1, 1])
    """

    first_conv = "conv1"
    ignored_prefixes = ("fc.",)

    def __init__(self, arch="resnet18", attention=None, in_channels=3, stem="imagenet",
                 output_stride=None):
        super().__init__()
        if arch not in _ARCHS:
            raise ValueError(f"unknown arch {arch!r}; valid archs are {list(_ARCHS)}")
        if stem not in STEMS:
            raise ValueError(f"unknown stem {stem!r}; valid stems are {list(STEMS)}")
        check_attention(attention)
        in_channels = check_positive_int(in_channels, "in_channels")
        self.arch = arch
        self.attention = attention
        self.in_channels = in_channels
        self.stem = stem
        natural = 32 if stem == "imagenet" else 8
        strides = {natural: 0, natural // 2: 1, natural // 4: 2}
        if output_stride is None:
            output_stride = natural
        if output_stride not in strides:
            raise ValueError(
                f"output_stride={output_stride!r} is not available with stem {stem!r}; "
                f"valid values are {sorted(strides, reverse=True)}")
        self.output_stride = output_stride
        net = _build_resnet(arch, attention)
        self.num_features = net.fc.in_features
        if stem == "small":
            net.conv1 = nn.Conv2d(in_channels, net.conv1.out_channels, kernel_size=3,
                                  stride=1, padding=1, bias=False)
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
            net.maxpool = nn.Identity()
        elif in_channels != 3:
            old = net.conv1
            net.conv1 = nn.Conv2d(in_channels, old.out_channels, kernel_size=old.kernel_size,
                                  stride=old.stride, padding=old.padding, bias=False)
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        self.conv1 = net.conv1
        self.bn1 = net.bn1
        self.relu = net.relu
        self.maxpool = net.maxpool
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        dilation = 1
        for layer in (self.layer3, self.layer4)[2 - strides[output_stride]:]:
            _dilate(layer, dilation, dilation * 2)
            dilation *= 2
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)

    @property
    def feature_layer(self):
        """The module whose output is the last spatial feature map (``layer4``)."""
        return self.layer4

    def forward_features(self, x):
        """Spatial feature map of the last stage.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels, H, W)

        Returns
        -------
        torch.Tensor of shape (N, num_features, h, w)
        """
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def forward(self, x):
        """Global-average-pooled embedding.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels, H, W)

        Returns
        -------
        torch.Tensor of shape (N, num_features)
        """
        return self.flatten(self.global_pool(self.forward_features(x)))
