"""Image reading, transforms and torch datasets over DataFrame rows."""

from ._dataset import ArraySource, ImageSource, MultimodalDataset
from ._io import IMAGE_SUFFIXES, read_image, read_image_file
from ._roi import CroppedImage, mask_box
from ._transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageTransform,
    IntensityError,
    default_augmentation,
)

__all__ = [
    "ArraySource",
    "CroppedImage",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "ImageTransform",
    "IntensityError",
    "MultimodalDataset",
    "default_augmentation",
    "mask_box",
    "read_image",
    "read_image_file",
]
