"""Cropping images to a lesion: region-of-interest cells (masks or boxes).

A region of interest (ROI) is given per row, beside the image: a lesion
mask (a file path to a mask image, or a 2-D array; nonzero pixels are the
lesion) or a box ``(x0, y0, x1, y1)`` in pixel coordinates of the original
image. The image is cropped to the lesion's bounding box, enlarged by a
margin and clipped to the image, before any resizing. The crop is
deterministic: the same at fit and at predict time, and augmentation comes
after it.
"""

import math
import numbers
from pathlib import Path

import numpy as np

from ._io import describe_cell, describe_row, is_missing, is_path, read_image, read_image_file

#: Largest relative difference between the aspect ratios (height / width) of a
#: mask and of its image for the mask to be rescaled to the image: masks
#: stored at another resolution keep the image's shape.
ASPECT_RTOL = 0.02


def _is_box(roi):
    if isinstance(roi, (tuple, list)):
        return True
    return isinstance(roi, np.ndarray) and roi.ndim == 1


def _where(row, image=None, roi=None):
    where = describe_row(row)
    if image is not None and is_path(image):
        where += f" (image file '{image}')"
    if roi is not None and is_path(roi):
        where += f" (mask file '{roi}')"
    return where


def check_box(box, row=None, image=None):
    """Validate a box ``(x0, y0, x1, y1)``; return it as a tuple of floats.

    Raises
    ------
    ValueError
        If the box does not hold four finite numbers with ``x1 > x0`` and
        ``y1 > y0``.
    """
    where = _where(row, image)
    values = list(box)
    if len(values) != 4 or not all(
            isinstance(v, (numbers.Real, np.number)) and not isinstance(v, (bool, np.bool_))
            for v in values):
        raise ValueError(
            f"Region of interest{where} is {box!r}; a box must be four numbers "
            "(x0, y0, x1, y1) in pixel coordinates of the image."
        )
    x0, y0, x1, y1 = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(
            f"Region of interest{where} is the box {box!r}, which holds NaN or infinite "
            "coordinates. Leave the cell empty (None) to use the whole image."
        )
    if x1 <= x0 or y1 <= y0:
        raise ValueError(
            f"Region of interest{where} is the box {box!r}: it needs x1 > x0 and "
            "y1 > y0 (the box is (x0, y0, x1, y1), x1 and y1 excluded)."
        )
    return x0, y0, x1, y1


def _mask_array(mask, row=None, image=None, roi=None):
    where = _where(row, image, roi)
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] in (1, 3, 4):
        mask = mask[..., :3] if mask.shape[-1] == 4 else mask
        if mask.dtype.kind in "biuf":
            mask = np.abs(mask).max(axis=-1) if mask.dtype.kind != "b" else mask.any(axis=-1)
    if mask.dtype.kind not in "biuf" or mask.ndim != 2 or min(mask.shape) < 1:
        raise ValueError(
            f"Lesion mask{where} has shape {mask.shape} and dtype {mask.dtype}; "
            "expected a numeric 2-D (H, W) array (nonzero = lesion)."
        )
    if mask.dtype.kind == "f" and not np.isfinite(mask).all():
        raise ValueError(f"Lesion mask{where} contains NaN or infinity.")
    return mask != 0


def read_mask(roi, row=None, image=None):
    """Read a lesion mask (file path or array) into a bool (H, W) array.

    Colour masks count a pixel as lesion when any of its colour channels is
    nonzero (an alpha channel is ignored).

    Raises
    ------
    FileNotFoundError
        If a mask file does not exist.
    ValueError
        If the mask file cannot be decoded, or the mask is not 2-D.
    """
    if is_path(roi):
        where = _where(row, image)
        try:
            arr = read_image_file(roi)
        except FileNotFoundError:
            raise FileNotFoundError(f"Lesion mask file not found: '{roi}'{where}") from None
        except ValueError as exc:
            raise ValueError(
                f"Cannot read the lesion mask file '{roi}'{where}: {exc.__cause__ or exc}"
            ) from exc
        return _mask_array(arr, row, image, roi)
    return _mask_array(roi, row, image)


def mask_box(mask):
    """Bounding box ``(x0, y0, x1, y1)`` (x1, y1 excluded) of the nonzero pixels.

    Parameters
    ----------
    mask : ndarray of shape (H, W)

    Returns
    -------
    box : tuple of int, or None
        None for an all-zero mask.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((8, 10), dtype=bool)
    >>> mask[2:5, 3:7] = True
    >>> mask_box(mask)
    (3, 2, 7, 5)
    """
    mask = np.asarray(mask) != 0
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def scale_box(box, from_shape, to_shape, row=None, image=None, roi=None):
    """Map a box from an array of ``from_shape`` (a mask) to one of ``to_shape``.

    The shapes must have the same aspect ratio (within :data:`ASPECT_RTOL`):
    a mask stored at another resolution than its image is rescaled, a mask
    of another shape is an error.
    """
    fh, fw = from_shape[:2]
    th, tw = to_shape[:2]
    if (fh, fw) == (th, tw):
        return box
    if abs((fh / fw) / (th / tw) - 1.0) > ASPECT_RTOL:
        raise ValueError(
            f"Lesion mask{_where(row, image, roi)} is {fh}x{fw} pixels but its image "
            f"is {th}x{tw}: their aspect ratios differ, so the mask does not match "
            "the image. A mask must have the image's shape, or the same shape at "
            "another resolution (then it is rescaled)."
        )
    sx, sy = tw / fw, th / fh
    x0, y0, x1, y1 = box
    return x0 * sx, y0 * sy, x1 * sx, y1 * sy


def expand_box(box, margin, shape):
    """Enlarge a box by ``margin`` on every side and clip it to an image of ``shape``.

    Parameters
    ----------
    box : (x0, y0, x1, y1)
        Pixel coordinates, x1 and y1 excluded.
    margin : float
        Added on the left and right as a fraction of the box's width, on the
        top and bottom as a fraction of its height.
    shape : tuple
        (H, ...) shape of the image.

    Returns
    -------
    box : tuple of int
        Integer pixel box, rounded outwards, within the image.

    Examples
    --------
    >>> expand_box((10, 20, 30, 60), 0.1, (100, 100))
    (8, 16, 32, 64)
    >>> expand_box((0, 0, 50, 40), 0.5, (40, 60))
    (0, 0, 60, 40)
    """
    height, width = shape[:2]
    x0, y0, x1, y1 = box
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    # rounding outwards, with a tolerance so that whole numbers stay whole
    left = max(0, math.floor(x0 - dx + 1e-9))
    top = max(0, math.floor(y0 - dy + 1e-9))
    right = min(width, math.ceil(x1 + dx - 1e-9))
    bottom = min(height, math.ceil(y1 + dy - 1e-9))
    return int(left), int(top), int(right), int(bottom)


def check_roi_cells(rois, row_labels=None, column=None):
    """Validate region-of-interest cells cheaply, before reading any image.

    A cell is missing (None/NaN: the whole image), a mask file path that
    exists, a 2-D mask array, or a box of four finite numbers with
    ``x1 > x0`` and ``y1 > y0``. Mask files are decoded later, when their
    image is read.

    Raises
    ------
    FileNotFoundError
        If mask files do not exist (the first five are named).
    TypeError, ValueError
        For a cell of another kind, or a bad box or mask array.
    """
    col = "" if column is None else f" in column '{column}'"
    absent = []
    for i, roi in enumerate(rois):
        row = i if row_labels is None else row_labels[i]
        if is_path(roi):
            if not Path(roi).is_file():
                absent.append(f"'{roi}'{describe_row(row)}")
        elif is_missing(roi):
            continue
        elif isinstance(roi, np.ndarray) and roi.ndim >= 2:
            try:
                _mask_array(roi, row)
            except ValueError as exc:
                raise ValueError(f"{exc} (region-of-interest column '{column}')") from None
        elif _is_box(roi):
            try:
                check_box(roi, row)
            except ValueError as exc:
                raise ValueError(f"{exc} (region-of-interest column '{column}')") from None
        else:
            raise TypeError(
                f"Region-of-interest cell{col}{describe_row(row)} is a "
                f"{type(roi).__name__} ({roi!r}); it must be a mask (file path or 2-D "
                "array, nonzero = lesion), a box (x0, y0, x1, y1) in pixels of the "
                "image, or None/NaN for the whole image."
            )
    if absent:
        shown = ", ".join(absent[:5])
        more = f" and {len(absent) - 5} more" if len(absent) > 5 else ""
        raise FileNotFoundError(f"Lesion mask file(s){col} not found: {shown}{more}")


class CroppedImage:
    """An image cell cropped to its region of interest (a lesion mask or a box).

    Reading it (:meth:`read`, :func:`~skmultimodal.data.read_image` or
    ``numpy.asarray``) reads the image and returns the crop: the bounding
    box of the mask's nonzero pixels (or the box), enlarged by ``margin`` of
    its width and height on each side and clipped to the image. An all-zero
    mask gives the whole image.

    Parameters
    ----------
    image : str, os.PathLike or ndarray
        The image cell: a file path or an (H, W) or (H, W, C) array.
    roi : str, os.PathLike, ndarray or sequence of 4 numbers
        A lesion mask (file or 2-D array, nonzero = lesion) or a box
        ``(x0, y0, x1, y1)`` in pixel coordinates of the image (x1 and y1
        excluded, as in ``image[y0:y1, x0:x1]``). A mask of another
        resolution than its image (same aspect ratio) is rescaled to it.
    margin : float, default=0.1
    row : object, default=None
        Row label, for error messages.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    >>> CroppedImage(image, (2, 3, 6, 5), margin=0.0).read().shape
    (2, 4)
    """

    def __init__(self, image, roi, margin=0.1, row=None):
        self.image = image
        self.roi = roi
        self.margin = margin
        self.row = row
        self._lesion = None  # (box or None, reference shape or None), read once

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_lesion"] = None
        return state

    def __repr__(self):
        image = f"'{self.image}'" if is_path(self.image) else "array"
        roi = f"'{self.roi}'" if is_path(self.roi) else (
            "mask" if isinstance(self.roi, np.ndarray) and self.roi.ndim == 2
            else repr(tuple(self.roi)))
        return f"CroppedImage({image}, roi={roi}, margin={self.margin})"

    def describe(self):
        """Where the image and its region came from, for error messages."""
        where = describe_cell(self.image, self.row)
        if is_path(self.roi):
            where += f" (mask file '{self.roi}')"
        return where

    def _region(self):
        """(box, shape the box refers to) with shape None for a box in image pixels."""
        if self._lesion is None:
            roi = self.roi
            if _is_box(roi):
                self._lesion = (check_box(roi, self.row, self.image), None)
            else:
                mask = read_mask(roi, self.row, self.image)
                self._lesion = (mask_box(mask), mask.shape)
        return self._lesion

    def box(self, image_shape):
        """The crop ``(x0, y0, x1, y1)`` in integer pixels of an image of ``image_shape``.

        The whole image for an all-zero mask.

        Raises
        ------
        ValueError
            For a box reaching outside the image, or a mask whose aspect
            ratio differs from the image's.
        """
        height, width = image_shape[:2]
        box, ref = self._region()
        if box is None:  # an empty mask: the whole image
            return 0, 0, int(width), int(height)
        if ref is not None:
            box = scale_box(box, ref, image_shape, self.row, self.image, self.roi)
        else:
            x0, y0, x1, y1 = box
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                raise ValueError(
                    f"Region of interest{_where(self.row, self.image)} is the box "
                    f"{tuple(self.roi)!r}, which reaches outside the {height}x{width} "
                    f"image (x in [0, {width}], y in [0, {height}]). Boxes are "
                    "(x0, y0, x1, y1) in pixel coordinates of the original image."
                )
        return expand_box(box, self.margin, image_shape)

    def read(self):
        """Read the image and return its crop (an (h, w) or (h, w, C) array).

        The image is decoded at its full size (the box is in its pixels).
        """
        image = read_image(self.image, row=self.row)
        x0, y0, x1, y1 = self.box(image.shape)
        return image[y0:y1, x0:x1]

    def __array__(self, dtype=None, copy=None):
        crop = self.read()
        return np.array(crop, dtype=dtype) if dtype is not None else np.array(crop)


def is_cropped(cell):
    """Return True for a :class:`CroppedImage` cell."""
    return isinstance(cell, CroppedImage)


def reads_file(cell):
    """Return True when reading ``cell`` decodes an image file."""
    return is_path(cell.image) if isinstance(cell, CroppedImage) else is_path(cell)


def crop_cells(cells, rois, margin, row_labels=None):
    """Wrap the image cells that have a region of interest into :class:`CroppedImage`.

    Missing images and missing regions (None/NaN) are kept as they are: a
    missing region means the whole image.

    Returns
    -------
    cells : ndarray of object
    """
    out = np.empty(len(cells), dtype=object)
    for i, (cell, roi) in enumerate(zip(cells, rois)):
        row = i if row_labels is None else row_labels[i]
        if is_missing(cell) or is_missing(roi):
            out[i] = cell
        else:
            out[i] = CroppedImage(cell, roi, margin, row)
    return out


def crop_box(cell):
    """The crop of an image cell and the shape of its original image.

    Returns
    -------
    box : tuple of int or None
        ``(x0, y0, x1, y1)`` in pixels of the original image, or None for a
        cell that is not cropped.
    shape : tuple of int or None
        (H, W) of the original image, or None.
    """
    if not isinstance(cell, CroppedImage):
        return None, None
    shape = read_image(cell.image, row=cell.row).shape[:2]
    return cell.box(shape), tuple(int(v) for v in shape)
