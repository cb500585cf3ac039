"""Modality specifications: which columns form a modality and how to encode it."""

from ._bag import ImageBagModality
from ._image import ImageModality
from ._multimodal import MultimodalMixin
from ._tabular import TabularModality

__all__ = ["ImageBagModality", "ImageModality", "MultimodalMixin", "TabularModality"]
