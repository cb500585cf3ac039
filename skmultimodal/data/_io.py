"""Reading single image cells (file paths or arrays) into numpy arrays."""

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

#: File suffixes read as images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def is_missing(cell):
    """Return True when an image cell stands for a missing image (None or NaN)."""
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    try:
        import pandas as pd

        return cell is pd.NA or cell is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def is_path(cell):
    """Return True for str and os.PathLike cells."""
    return isinstance(cell, (str, os.PathLike))


def describe_row(row):
    """Format a row label for error messages."""
    return "" if row is None else f" (row {row!r})"


def _pil_to_array(img):
    mode = img.mode
    if mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "LA":
        img = img.convert("L")
    elif mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(img, dtype=np.uint16)
    elif mode == "I" and img.format == "PNG":
        # older Pillow versions open 16-bit greyscale PNGs as 32-bit "I"
        return np.asarray(img).astype(np.uint16)
    return np.asarray(img)


def _reduced(img, reduce_to):
    """Shrink ``img`` by an integer factor while it stays >= 2x ``reduce_to``.

    Decoding a large image at a fraction of its size (JPEG ``draft``) or
    box-reducing it before any conversion keeps memory near the output size;
    the final antialiased resize then works on at most twice the output size.
    """
    if reduce_to is None:
        return img
    height, width = reduce_to
    factor = min(img.width // (2 * width), img.height // (2 * height))
    if factor < 2:
        return img
    if img.format == "JPEG" and img.mode in ("L", "RGB"):
        img.draft(img.mode, (img.width // factor, img.height // factor))
        factor = min(img.width // (2 * width), img.height // (2 * height))
        if factor < 2:
            return img
    try:
        return img.reduce(factor)
    except (ValueError, NotImplementedError):  # modes reduce does not support
        return img


def read_image_file(path, row=None, *, reduce_to=None):
    """Read an image file into a numpy array of shape (H, W) or (H, W, C).

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG, TIFF or BMP file (any format Pillow reads).
    row : object, default=None
        Label of the row the path came from, used in error messages.
    reduce_to : (int, int), default=None
        The (H, W) size the image will be resized to: an image at least four
        times larger is shrunk by an integer factor while it is decoded (to
        no less than twice this size), so that a very large file never
        occupies its full size in memory as floats.

    Returns
    -------
    image : ndarray
        uint8 (or uint16 for 16-bit files, int32 or float32 for 32-bit
        TIFFs) array, greyscale (H, W), RGB or RGBA (H, W, C).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file cannot be decoded as an image (unknown format, truncated
        file, or more pixels than Pillow's decompression-bomb limit).
    """
    path = Path(path)
    where = describe_row(row)
    if not path.is_file():
        raise FileNotFoundError(f"Image file not found: '{path}'{where}")
    try:
        with Image.open(path) as img:
            img = _reduced(img, reduce_to)
            img.load()
            return _pil_to_array(img)
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"Image file '{path}'{where} has more pixels than Pillow reads by default "
            f"({exc}). If the file is trusted, raise the limit with "
            "PIL.Image.MAX_IMAGE_PIXELS = None before fitting, or store a "
            "downsampled copy."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValueError(
            f"Cannot read image file '{path}'{where}: {exc or type(exc).__name__}. "
            "The file is not an image Pillow can decode, or it is truncated or "
            "corrupt."
        ) from exc


def check_image_array(arr, row=None):
    """Validate an in-memory image and return it as an ndarray.

    Accepts (H, W) or channels-last (H, W, C) arrays with C in {1, 3, 4}, of a
    numeric dtype and with finite values.
    """
    arr = np.asarray(arr)
    where = describe_row(row)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"Image array{where} has dtype {arr.dtype}; expected a numeric dtype."
        )
    if arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"Image array{where} has shape {arr.shape}; expected (H, W) or "
            "channels-last (H, W, C) with C in 1, 3 or 4. For channels-first "
            "arrays use np.moveaxis(image, 0, -1)."
        )
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 1:
        raise ValueError(
            f"Image array{where} has shape {arr.shape}; expected (H, W) or "
            "(H, W, C) with C in 1, 3 or 4."
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"Image array{where} contains NaN or infinity.")
    return arr


def read_image(cell, row=None, *, reduce_to=None):
    """Read one image cell: a file path or an array.

    Parameters
    ----------
    cell : str, os.PathLike, array-like or CroppedImage
        File path or in-memory image; a
        :class:`~skmultimodal.data.CroppedImage` gives its crop (the image
        decoded at full size, then cropped to its region of interest).
    row : object, default=None
        Row label used in error messages.
    reduce_to : (int, int), default=None
        Output size the image is meant for: large files are shrunk while
        decoding (see :func:`read_image_file`). Arrays are returned as they are.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, C)
    """
    if is_path(cell):
        return read_image_file(cell, row=row, reduce_to=reduce_to)
    from ._roi import CroppedImage

    if isinstance(cell, CroppedImage):
        return cell.read()
    if is_missing(cell):
        raise ValueError(f"Image is missing{describe_row(row)}.")
    if isinstance(cell, (int, float, np.number, bool)):
        raise TypeError(
            f"Image cell{describe_row(row)} holds the number {cell!r}; an image "
            "column must hold file paths or image arrays."
        )
    return check_image_array(cell, row=row)


def describe_cell(cell, row=None):
    """Where an image came from, for error messages: its row and its file."""
    from ._roi import CroppedImage

    if isinstance(cell, CroppedImage):  # its image and mask files
        return cell.describe()
    where = describe_row(row)
    if is_path(cell):
        where = f"{where} (file '{cell}')" if where else f" (file '{cell}')"
    return where
