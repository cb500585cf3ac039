"""Image reading, transforms and torch datasets over DataFrame rows."""

from ._dataset import ArraySource, ImageSource, MultimodalDataset
from ._io import IMAGE_SUFFIXES, check_image_array, is_missing, read_image, read_image_file
from ._transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageTransform,
    IntensityError,
    check_image_size,
    default_augmentation,
    normalisation_stats,
    resolve_augmentation,
)

__all__ = [
    "ArraySource",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "ImageTransform",
    "IntensityError",
    "MultimodalDataset",
    "check_image_array",
    "check_image_size",
    "default_augmentation",
    "is_missing",
    "normalisation_stats",
    "read_image",
    "read_image_file",
    "resolve_augmentation",
]
