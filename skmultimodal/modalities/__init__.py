"""Modality specifications: which columns form a modality and how to encode it."""

from ._image import ImageModality, check_column_present, check_image_cells
from ._tabular import TabularModality

__all__ = ["ImageModality", "TabularModality", "check_column_present", "check_image_cells"]
