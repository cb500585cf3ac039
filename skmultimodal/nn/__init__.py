"""Torch modules: image backbones, attention modules, MLP encoder, weights loading."""
from ._attention import ATTENTIONS, CBAM, ECA
from ._bags import BAG_POOLINGS, AttentionPooling, BagPooling
from ._fusion import (
    FUSIONS,
    PROJECTIONS,
    CrossAttentionBlock,
    CrossAttentionFusionNet,
    IntermediateFusionNet,
    ModalityEncoder,
)
from ._heads import ImageBagClassifierModule, ImageClassifierModule, TabularClassifierModule
from ._mlp import MLP
from ._registry import BACKBONES, get_backbone
from ._resnet import ResNetBackbone
from ._simple_cnn import SimpleCNN
from ._weights import load_weights

__all__ = [
    "ATTENTIONS",
    "AttentionPooling",
    "BAG_POOLINGS",
    "BagPooling",
    "BACKBONES",
    "CBAM",
    "CrossAttentionBlock",
    "CrossAttentionFusionNet",
    "ECA",
    "FUSIONS",
    "ImageBagClassifierModule",
    "ImageClassifierModule",
    "IntermediateFusionNet",
    "MLP",
    "ModalityEncoder",
    "PROJECTIONS",
    "ResNetBackbone",
    "SimpleCNN",
    "TabularClassifierModule",
    "get_backbone",
    "load_weights",
]
