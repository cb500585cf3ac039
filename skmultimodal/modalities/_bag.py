"""ImageBagModality: a column whose cells hold bags (sequences) of images."""

import numpy as np

from ..data._bags import ImageBagSource, bag_instances, bag_is_missing
from ..data._io import describe_row
from ..data._transforms import check_image_size
from ..utils._constraints import BAG, IMAGE
from ..utils._docstrings import substitute_shared_params
from ._image import ImageModality, check_column_present, check_image_cells


def check_bag_cells(cells, row_labels=None, allow_missing=False, column=None):
    """Validate bag cells (every instance, as an image cell); return the missing rows.

    An empty bag, None or NaN is a missing bag. Instances must be image paths
    that exist or image arrays; the error names the row and the instance.
    """
    col = "" if column is None else f" in column '{column}'"
    missing = []
    for i, cell in enumerate(cells):
        row = i if row_labels is None else row_labels[i]
        if isinstance(cell, np.ndarray) and cell.dtype != object and cell.ndim not in (3, 4):
            raise ValueError(
                f"Bag{col}{describe_row(row)} is an array of shape {cell.shape}; a bag "
                "array must be (k, H, W) or (k, H, W, C). Put a single image in a list."
            )
        if bag_is_missing(cell):
            missing.append(row)
            continue
        if isinstance(cell, (str, bytes)) or not isinstance(cell, (list, tuple, np.ndarray)):
            raise TypeError(
                f"Bag cell{col}{describe_row(row)} is a {type(cell).__name__}; a bag "
                "column holds sequences (list, tuple or array) of image paths or arrays."
            )
        instances = bag_instances(cell)
        where = f"{col}{describe_row(row)}"
        try:
            check_image_cells(instances, column=None)
        except (TypeError, ValueError, FileNotFoundError) as exc:
            raise type(exc)(f"Bag{where}: {exc}") from None
    if missing and not allow_missing:
        raise ValueError(
            f"{len(missing)} bag(s){col} are missing or empty at rows {missing[:10]}; "
            "this estimator needs at least one image in every bag."
        )
    return missing


@substitute_shared_params
class ImageBagModality(ImageModality):
    """A bag-of-images modality: each cell holds a sequence of images, pooled into one.

    Multiple-instance learning (Ilse et al., 2018): every instance (a tile
    of a slide, an image of an exam) is encoded by the same image backbone,
    and the instance embeddings are pooled into one embedding of the bag,
    by learned gated attention (the default), attention, mean or max. Bags
    may have any length, different per row; a missing or empty bag is a
    missing modality. The prediction does not depend on the order of the
    instances in a bag.

    Parameters
    ----------
    column : str, default=None
        Name of the DataFrame column whose cells hold bags: lists or tuples
        of image file paths or arrays, or arrays of shape (k, H, W) or
        (k, H, W, C).
    pooling : {"gated_attention", "attention", "mean", "max"}, default="gated_attention"
        How the instance embeddings are pooled into the bag embedding.
    max_instances : int, default=None
        In training, a bag of more instances gives a random subset of this
        many at each epoch (seeded by the estimator's ``random_state``);
        prediction always uses every instance. None uses every instance.
    attention_dim : int, default=128
        Hidden width of the attention pooling.
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
        Instance encoder.
    attention : {None, "eca", "cbam"}, default=None
        Attention module inside the backbone's blocks.
    weights : None, str, path or fitted pretrainer, default=None
        None for random initialisation, a torchvision weights name, the
        path to a local state dict, or a fitted
        :class:`~skmultimodal.pretraining.ContrastivePretrainer`.
    freeze_backbone : bool, default=False
        If True the instance encoder is not trained; with the estimator's
        ``memory=`` each instance is then encoded once, across epochs, folds
        and grid-search candidates.
    image_size : int or (int, int), default=224
        Instances are resized to this size.
    channels : {1, 3}, default=3
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    augment : bool, str or callable, default=False
        Training-time augmentation of each instance: False, True (the
        "generic" preset), a preset ("generic", "light", "ultrasound", "mammography",
        "histology"; see :func:`skmultimodal.data.default_augmentation`) or a
        callable.
    backbone_params : dict, default=None
        Further keyword arguments of the backbone.

    Notes
    -----
    Instances are not cropped to lesions: unlike
    :class:`~skmultimodal.modalities.ImageModality`, a bag modality takes
    no ``roi`` (nor ``roi_margin``); crop the instances before building the
    bags.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.modalities import ImageBagModality
    >>> bags = ImageBagModality("tiles", backbone="simple_cnn", image_size=16)
    >>> bags.encoder_spec()["pooling"]
    'gated_attention'
    """

    _parameter_constraints = {**{k: v for k, v in IMAGE.items()
                                 if k not in ("roi", "roi_margin")}, **BAG}
    #: Bags are never cropped (not parameters: ``roi=`` is refused).
    roi = None
    roi_margin = 0.1

    def __init__(self, column=None, *, pooling="gated_attention", max_instances=None,
                 attention_dim=128, backbone="resnet18", attention=None, weights=None,
                 freeze_backbone=False, image_size=224, channels=3, normalize="imagenet",
                 intensity_range="auto", augment=False, backbone_params=None):
        super().__init__(
            column, backbone=backbone, attention=attention, weights=weights,
            freeze_backbone=freeze_backbone, image_size=image_size, channels=channels,
            normalize=normalize, intensity_range=intensity_range, augment=augment,
            backbone_params=backbone_params)
        self.pooling = pooling
        self.max_instances = max_instances
        self.attention_dim = attention_dim

    def check_params(self):
        """Validate the parameters, raising ValueError on the first bad one.

        Returns
        -------
        self : ImageBagModality
        """
        super().check_params()
        if check_image_size(self.image_size) is None:
            raise ValueError("A bag of images needs a fixed image_size (int or (H, W)).")
        return self

    def encoder_spec(self):
        """Specification of this modality's encoder: the image backbone and the pooling.

        Returns
        -------
        spec : dict
            :meth:`ImageModality.encoder_spec` with ``kind="image_bag"``,
            ``pooling`` and ``attention_dim``.
        """
        return dict(super().encoder_spec(), kind="image_bag", pooling=self.pooling,
                    attention_dim=int(self.attention_dim))

    def missing_mask(self, cells):
        """Bool array: the rows whose bag is missing or empty."""
        return np.fromiter((bag_is_missing(c) for c in cells), bool, len(cells))

    def cells_from_frame(self, X, allow_missing=False):
        """Return (cells, row_labels) of this modality's column in DataFrame X."""
        if self.column is None:
            raise ValueError("ImageBagModality needs a column name.")
        check_column_present(X, [self.column])
        cells = X[self.column].to_numpy(dtype=object)
        labels = list(X.index)
        check_bag_cells(cells, labels, allow_missing, column=self.column)
        return cells, labels

    def make_source(self, cells, row_labels=None, *, train=False, allow_missing=False):
        """Return an ``ImageBagSource`` over ``cells`` (the images of each bag)."""
        size = check_image_size(self.image_size)
        return ImageBagSource(cells, self.make_transform(train), row_labels,
                              placeholder_shape=(self.channels, *size),
                              max_instances=self.max_instances, train=train)
