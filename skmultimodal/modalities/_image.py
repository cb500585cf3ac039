"""ImageModality: which column holds images and how to prepare and encode them."""

import numbers
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..data import ImageSource, ImageTransform
from ..data._io import IMAGE_SUFFIXES, describe_row, is_missing, is_path
from ..data._roi import check_roi_cells, crop_cells
from ..data._transforms import check_image_size, resolve_augmentation
from ..utils._constraints import IMAGE
from ..utils._docstrings import substitute_shared_params


def check_column_present(X, columns, what="X"):
    """Raise a KeyError naming missing columns and listing the available ones."""
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise KeyError(
            f"Column(s) {missing} not found in {what}; available columns: "
            f"{list(X.columns)}"
        )


def check_image_cells(cells, row_labels=None, allow_missing=False, column=None):
    """Validate image cells cheaply before training or prediction.

    Paths must exist, arrays must have an image shape, numbers and other
    objects are rejected, and missing cells are rejected unless
    ``allow_missing``. Files are decoded later, batch by batch.
    """
    col = "" if column is None else f" in column '{column}'"
    missing_rows, absent_files = [], []
    for i, cell in enumerate(cells):
        row = i if row_labels is None else row_labels[i]
        if is_path(cell):
            if not Path(cell).is_file():
                absent_files.append(f"'{cell}'{describe_row(row)}")
        elif is_missing(cell):
            missing_rows.append(row)
        elif isinstance(cell, (numbers.Number, np.number)):
            raise TypeError(
                f"Image cell{col}{describe_row(row)} holds the number {cell!r}; an "
                "image column must hold file paths or image arrays."
            )
        elif isinstance(cell, np.ndarray):
            if cell.dtype.kind not in "biuf" or cell.ndim not in (2, 3) or (
                cell.ndim == 3 and cell.shape[-1] not in (1, 3, 4)
            ):
                raise ValueError(
                    f"Image array{col}{describe_row(row)} has shape {cell.shape} and "
                    f"dtype {cell.dtype}; expected a numeric (H, W) or channels-last "
                    "(H, W, C) array with C in 1, 3 or 4."
                )
        else:
            raise TypeError(
                f"Image cell{col}{describe_row(row)} is a {type(cell).__name__}; an "
                "image column must hold file paths (str or pathlib.Path) or numpy "
                "image arrays."
            )
    if absent_files:
        shown = ", ".join(absent_files[:5])
        more = f" and {len(absent_files) - 5} more" if len(absent_files) > 5 else ""
        raise FileNotFoundError(f"Image file(s){col} not found: {shown}{more}")
    if missing_rows and not allow_missing:
        shown = missing_rows[:10]
        raise ValueError(
            f"{len(missing_rows)} image(s){col} are missing (None/NaN) at rows "
            f"{shown}; this estimator needs an image in every row."
        )
    return missing_rows


def _is_box_cell(cell):
    """A region-of-interest box: four numbers in a tuple, list or 1-D array."""
    if isinstance(cell, np.ndarray):
        return cell.ndim == 1 and cell.shape[0] == 4 and cell.dtype.kind in "iuf"
    return isinstance(cell, (tuple, list)) and len(cell) == 4 and all(
        isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool) for v in cell)


def _is_image_cell(cell):
    if _is_box_cell(cell):  # the lesion box of an image: no tabular feature either
        return True
    if isinstance(cell, np.ndarray):
        return cell.ndim >= 2
    if isinstance(cell, str):
        return cell.lower().endswith(IMAGE_SUFFIXES)
    return is_path(cell)


def image_columns(frame, n_probe=20):
    """Columns of ``frame`` holding images: arrays or image file paths.

    Columns of lesion boxes ``(x0, y0, x1, y1)`` (the ``roi`` of an
    :class:`ImageModality`) count too: like the masks, which are images,
    they are not tabular features. Only object and string columns are
    probed, on their first ``n_probe`` non-missing cells.
    """
    found = []
    for i, col in enumerate(frame.columns):
        s = frame.iloc[:, i]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        probe = s.dropna().head(n_probe) if s.dtype != object else pd.Series(
            [c for c in s.head(10 * n_probe) if not is_missing(c)][:n_probe], dtype=object)
        if len(probe) and any(_is_image_cell(c) for c in probe):
            found.append(col)
    return found


#: Backbones that take a ``stem``.
RESNETS = ("resnet18", "resnet50")
#: Largest image side (px) that gets the small-image ResNet stem by default.
SMALL_STEM_MAX_SIZE = 64


def resolve_stem(stem, image_size, weights=None, *, arch="resnet18"):
    """The ResNet stem a modality uses.

    Parameters
    ----------
    stem : {"auto", "imagenet", "small"}
        "auto" chooses as below; the other values are kept.
    image_size : None, int or (int, int)
        The modality's image size.
    weights : None, str, path, torchvision weights or dict, default=None
        The modality's weights.
    arch : str, default="resnet18"

    Returns
    -------
    stem : {"imagenet", "small"}
        With weights, the stem they were trained with (torchvision weights:
        "imagenet"; a state dict: "small" if its ``conv1`` is 3x3). Without,
        "small" when both sides of ``image_size`` are at most 64 px, else
        "imagenet".

    Examples
    --------
    >>> resolve_stem("auto", 28), resolve_stem("auto", 224)
    ('small', 'imagenet')
    """
    if stem != "auto":
        return stem
    from ..nn._weights import weights_stem

    trained = weights_stem(weights, arch=arch)
    if trained is not None:
        return trained
    size = check_image_size(image_size)
    return "small" if size is not None and max(size) <= SMALL_STEM_MAX_SIZE else "imagenet"


@substitute_shared_params
class ImageModality(BaseEstimator):
    """An image modality: a column of image paths or arrays and its encoder.

    Parameters
    ----------
    column : str, default=None
        Name of the DataFrame column holding file paths (PNG, JPEG, TIFF, BMP)
        or numpy arrays of shape (H, W) or (H, W, C).
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
        Image encoder.
    attention : {None, "eca", "cbam"}, default=None
        Attention module inside every residual block (ResNet) or after every
        convolution block (SimpleCNN).
    weights : None, str, path or fitted pretrainer, default=None
        None for random initialisation, a torchvision weights name
        ("IMAGENET1K_V1", "DEFAULT"), the path to a local state dict, or a
        fitted :class:`~skmultimodal.pretraining.ContrastivePretrainer`
        (its encoder; it survives ``clone``).
    freeze_backbone : bool, default=False
        If True the encoder is not trained (its batch-norm statistics stay too).
    image_size : int or (int, int), default=224
        Images are resized to this size.
    channels : {1, 3}, default=3
        Channels fed to the encoder; greyscale is repeated to RGB and RGB is
        turned into luminance as needed. RGBA loses its alpha channel.
    normalize : "imagenet", None or (mean, std), default="imagenet"
        Per-channel normalisation after the intensities are scaled to [0, 1].
    %(intensity_range)s
    augment : bool, str or callable, default=False
        Training-time augmentation; True (or "default", "generic") uses
        flips, rotations and brightness and contrast jitter; "light" keeps
        to a horizontal flip, a small affine and brightness and contrast
        jitter (plausible for every kind of image); "ultrasound",
        "mammography" and "histology" are presets for those kinds of image
        (see :func:`skmultimodal.data.default_augmentation` for the table of
        their transforms). A callable (e.g. ``torchvision.transforms.v2``)
        receives a float (C, H, W) tensor in [0, 1]. Never applied at
        predict time.
    backbone_params : dict, default=None
        Further keyword arguments of the backbone, e.g.
        ``{"channels": (16, 32)}`` for a smaller SimpleCNN. For a ResNet,
        ``"stem"`` ("imagenet" or "small") picks its first layers; without
        it, images of at most 64 px per side get the small-image stem (3x3
        convolution of stride 1, no max-pooling, as the ResNets of CIFAR and
        MedMNIST), larger ones torchvision's; weights always get the stem they
        were trained with. ``"output_stride"`` makes the token grid of a
        ResNet finer by dilating its last stages (see
        :class:`skmultimodal.nn.ResNetBackbone`).
    roi : str, default=None
        Name of the DataFrame column holding each row's region of interest:
        a lesion mask (path to a mask image, or a 2-D array; nonzero pixels
        are the lesion) or a box ``(x0, y0, x1, y1)`` in pixel coordinates
        of the original image (x1 and y1 excluded). Each image is cropped to
        the lesion's bounding box plus ``roi_margin`` (clipped to the image)
        before it is resized to ``image_size``, the same way at fit and
        predict time; augmentation comes after the crop. A missing cell
        (None/NaN) or an all-zero mask keeps the whole image. A mask stored
        at another resolution than its image (same aspect ratio within 2%%)
        is rescaled to it; a mask of another aspect ratio, or a box reaching
        outside its image, is an error naming the row and the files. The
        column is read by this modality only: it is no feature. Images with
        a region are decoded at full size before the crop. None uses whole
        images.
    roi_margin : float, default=0.1
        Margin added on every side of the lesion's box, as a fraction of
        its width (left and right) and height (top and bottom). The default
        keeps a rim of surrounding tissue: the lesion's boundary (margin,
        echogenic halo, posterior shadowing or enhancement) tells benign
        from malignant in ultrasound, while the rest of the field is
        removed. 0 crops to the box itself.

    Examples
    --------
    >>> from skmultimodal.modalities import ImageModality
    >>> ImageModality("image_path", roi="mask_path", image_size=64).roi_margin
    0.1
    """

    _parameter_constraints = dict(IMAGE)

    def __init__(self, column=None, *, backbone="resnet18", attention=None,
                 weights=None, freeze_backbone=False, image_size=224, channels=3,
                 normalize="imagenet", intensity_range="auto", augment=False,
                 backbone_params=None, roi=None, roi_margin=0.1):
        self.column = column
        self.backbone = backbone
        self.attention = attention
        self.weights = weights
        self.freeze_backbone = freeze_backbone
        self.image_size = image_size
        self.channels = channels
        self.normalize = normalize
        self.intensity_range = intensity_range
        self.augment = augment
        self.backbone_params = backbone_params
        self.roi = roi
        self.roi_margin = roi_margin

    def check_params(self):
        """Validate the parameters, raising ValueError on the first bad one.

        Returns
        -------
        self : ImageModality
        """
        self._validate_params()
        self.make_transform(train=False)  # image_size, normalize and intensity_range
        roi = getattr(self, "roi", None)
        if roi is not None:
            if roi == self.column:
                raise ValueError(
                    f"roi={roi!r} names the image column itself; it must name the "
                    "column holding each row's lesion mask or box."
                )
            if check_image_size(self.image_size) is None:
                raise ValueError(
                    f"roi={roi!r} needs a fixed image_size (int or (H, W)): lesion "
                    "crops have different sizes and are resized to it."
                )
        return self

    def make_transform(self, train):
        """Return the array-to-tensor transform, with augmentation if ``train``."""
        return ImageTransform(
            check_image_size(self.image_size),
            self.channels,
            self.normalize,
            resolve_augmentation(self.augment) if train else None,
            intensity_range=self.intensity_range,
        )

    def encoder_spec(self):
        """Specification of this modality's encoder (see :class:`skmultimodal.nn.ModalityEncoder`).

        The one description of an image encoder: the fusion networks, the
        image classifier and the embedder all build their backbone from it.

        Returns
        -------
        spec : dict
            ``kind="image"``, ``backbone``, ``attention``, ``weights``,
            ``in_channels``, ``freeze_backbone`` and ``backbone_params``
            (with the resolved ``"stem"`` for a ResNet).
        """
        params = dict(self.backbone_params or {})
        if self.backbone in RESNETS:
            params["stem"] = resolve_stem(params.get("stem", "auto"), self.image_size,
                                          self.weights, arch=self.backbone)
        return dict(
            kind="image",
            backbone=self.backbone,
            attention=self.attention,
            weights=self.weights,
            in_channels=self.channels,
            freeze_backbone=bool(self.freeze_backbone),
            backbone_params=params,
        )

    def missing_mask(self, cells):
        """Bool array: the rows whose image is missing (None or NaN)."""
        return np.fromiter((is_missing(c) for c in cells), bool, len(cells))

    def cells_from_frame(self, X, allow_missing=False):
        """Return (cells, row_labels) of this modality's column in DataFrame X.

        With ``roi`` set, the cells of the rows with a region of interest are
        :class:`~skmultimodal.data.CroppedImage` objects (see :meth:`crop`).
        """
        if self.column is None:
            raise ValueError("ImageModality needs a column name.")
        check_column_present(X, [self.column])
        cells = X[self.column].to_numpy(dtype=object)
        labels = list(X.index)
        check_image_cells(cells, labels, allow_missing, column=self.column)
        return self.crop(cells, X, labels), labels

    def crop(self, cells, X, row_labels=None):
        """Crop image cells to the regions of interest of the ``roi`` column of X.

        Parameters
        ----------
        cells : sequence
            Image cells (paths or arrays), one per row of X.
        X : DataFrame
            Holds the ``roi`` column.
        row_labels : list, default=None
            Row labels for error messages.

        Returns
        -------
        cells : sequence
            ``cells`` itself when ``roi`` is None; else an object array where
            each image with a region is a :class:`~skmultimodal.data.CroppedImage`
            (missing regions keep the whole image).

        Raises
        ------
        KeyError
            If X has no ``roi`` column.
        FileNotFoundError, TypeError, ValueError
            For mask files that do not exist or cells that are neither masks,
            boxes nor missing (the row is named).
        """
        roi = getattr(self, "roi", None)
        if roi is None:
            return cells
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"roi={roi!r} needs X as a pandas DataFrame holding the image column "
                f"and the region-of-interest column; got {type(X).__name__}."
            )
        check_column_present(X, [roi], what="X (the roi column of the image modality)")
        rois = X[roi].to_numpy(dtype=object)
        check_roi_cells(rois, row_labels, column=roi)
        return crop_cells(cells, rois, self.roi_margin, row_labels)

    def make_source(self, cells, row_labels=None, *, train=False, allow_missing=False):
        """Return an :class:`~skmultimodal.data.ImageSource` over ``cells``."""
        size = check_image_size(self.image_size)
        placeholder = None
        if allow_missing:
            if size is None:
                raise ValueError("Missing images need a fixed image_size.")
            placeholder = (self.channels, *size)
        return ImageSource(cells, self.make_transform(train), row_labels,
                           allow_missing=allow_missing, placeholder_shape=placeholder)
