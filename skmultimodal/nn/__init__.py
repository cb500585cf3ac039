"""Torch modules: image backbones, attention modules, MLP encoder, weights loading."""
from ._attention import ATTENTIONS, CBAM, ECA
from ._fusion import (
    FUSIONS,
    CrossAttentionBlock,
    CrossAttentionFusionNet,
    IntermediateFusionNet,
    ModalityEncoder,
)
from ._heads import ImageClassifierModule, TabularClassifierModule
from ._mlp import MLP
from ._registry import BACKBONES, get_backbone
from ._resnet import ResNetBackbone
from ._simple_cnn import SimpleCNN
from ._weights import load_weights

__all__ = [
    "ATTENTIONS",
    "BACKBONES",
    "CBAM",
    "CrossAttentionBlock",
    "CrossAttentionFusionNet",
    "ECA",
    "FUSIONS",
    "ImageClassifierModule",
    "IntermediateFusionNet",
    "MLP",
    "ModalityEncoder",
    "ResNetBackbone",
    "SimpleCNN",
    "TabularClassifierModule",
    "get_backbone",
    "load_weights",
]
