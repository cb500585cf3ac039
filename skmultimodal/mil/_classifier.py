"""ImageBagClassifier: multiple-instance learning on one column of bags of images."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..fusion._base import BaseFusionClassifier
from ..modalities import ImageBagModality
from ..nn import ImageBagClassifierModule
from ..utils._constraints import BAG, IMAGE, MEMORY, RATE, TRAINING
from ..utils._docstrings import substitute_shared_params

#: Column name of the bags when X is not a DataFrame.
BAG_COLUMN = "bag"


@substitute_shared_params
class ImageBagClassifier(BaseFusionClassifier):
    """Multiple-instance classifier of bags of images (attention-based MIL).

    Each row of X holds a bag: a sequence of images (tiles of a slide, the
    images of an exam), of any length. Every instance is encoded by the same
    image backbone, the instance embeddings are pooled (gated attention by
    default; Ilse, Tomczak and Welling, 2018) and a linear head classifies
    the bag. The prediction does not depend on the order of the instances.
    The same bag modality joins other modalities in the fusion classifiers as
    :class:`~skmultimodal.modalities.ImageBagModality`.

    Parameters
    ----------
    column : str, default=None
        Column of X holding the bags (lists or tuples of image paths or
        arrays, or arrays (k, H, W[, C])). None takes the only column of a
        one-column DataFrame; X may also be a Series or a list of bags.
    pooling : {"gated_attention", "attention", "mean", "max"}, default="gated_attention"
        How the instance embeddings are pooled into the bag embedding.
    max_instances : int, default=None
        In training, a bag of more instances gives a random subset of this
        many at each epoch (seeded by ``random_state``); prediction uses every
        instance.
    attention_dim : int, default=128
        Hidden width of the attention pooling.
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
        Instance encoder.
    attention : {None, "eca", "cbam"}, default=None
    weights : None, str, path or fitted pretrainer, default=None
        Pretrained weights of the instance encoder: a torchvision weights
        name, the path to a local state dict, or a fitted
        :class:`~skmultimodal.pretraining.ContrastivePretrainer`.
    freeze_backbone : bool, default=False
        Train the pooling and the head only. With ``memory`` each instance is
        then encoded once, across epochs, folds and grid-search candidates.
    image_size : int or (int, int), default=224
    channels : {1, 3}, default=3
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    augment : bool, str or callable, default=False
        Training-time augmentation of each instance: False, True (the
        "generic" preset), a preset ("generic", "light", "ultrasound", "mammography",
        "histology"; see :func:`skmultimodal.data.default_augmentation`) or a
        callable.
    backbone_params : dict, default=None
    dropout : float, default=0.0
        Dropout before the linear head.
    max_epochs : int, default=20
    batch_size : int, default=16
        Bags per batch (each padded to the longest bag of its batch).
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1e-2
    %(lr_schedule)s
        Default: None.
    %(label_smoothing)s
        Default: 0.
    class_weight : None, "balanced" or dict, default=None
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    callbacks : list of skorch callbacks, default=None
    %(recalibrate_bn)s
    %(num_workers)s
    %(precision)s
    %(channels_last)s
    %(compile)s
    cache_images : bool, default=False
        Ignored for bags (accepted for a uniform interface).
    %(accelerator)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling, augmentation and the
        ``max_instances`` subsets.
    memory : None, str or joblib.Memory, default=None
        Cache of the frozen instance encoder's embeddings (with
        ``freeze_backbone=True``), keyed by each image's content.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray
    net_ : skorch.NeuralNetClassifier
        The trained network (``net_.module_`` is an
        :class:`~skmultimodal.nn.ImageBagClassifierModule`).
    modalities_ : dict
        ``{"bag": ImageBagModality}`` as used in fit.
    n_iter_ : int
    device_ : str

    See Also
    --------
    skmultimodal.modalities.ImageBagModality : The bag modality of the fusion classifiers.
    skmultimodal.inspection.bag_attention : The weight of every instance.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skmultimodal.mil import ImageBagClassifier
    >>> rng = np.random.default_rng(0)
    >>> bags = [list(rng.random((int(k), 16, 16), dtype=np.float32))
    ...         for k in rng.integers(2, 6, 20)]
    >>> y = np.arange(20) %% 2
    >>> clf = ImageBagClassifier(backbone="simple_cnn", image_size=16, channels=1,
    ...                          max_epochs=2, random_state=0).fit(bags, y)
    >>> clf.predict_proba(bags).shape
    (20, 2)
    """

    _parameter_constraints = {**IMAGE, **BAG, "dropout": [RATE], **TRAINING,
                              "memory": MEMORY}
    _with_presence = False
    _supports_missing_modalities = False

    def __init__(self, column=None, *, pooling="gated_attention", max_instances=None,
                 attention_dim=128, backbone="resnet18", attention=None, weights=None,
                 freeze_backbone=False, image_size=224, channels=3, normalize="imagenet",
                 intensity_range="auto", augment=False, backbone_params=None, dropout=0.0,
                 max_epochs=20, batch_size=16, lr=1e-3, optimizer="adamw",
                 weight_decay=1e-2, lr_schedule=None, label_smoothing=0.0,
                 class_weight=None, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, callbacks=None,
                 recalibrate_bn=True, num_workers="auto", precision=None,
                 channels_last=False, compile=False, cache_images=False, accelerator=None,
                 device="auto", random_state=None, memory=None, verbose=0):
        self.column = column
        self.pooling = pooling
        self.max_instances = max_instances
        self.attention_dim = attention_dim
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
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.recalibrate_bn = recalibrate_bn
        self.num_workers = num_workers
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile
        self.cache_images = cache_images
        self.accelerator = accelerator
        self.device = device
        self.random_state = random_state
        self.memory = memory
        self.verbose = verbose

    # One bag modality built from the parameters: no nested parameters.
    def get_params(self, deep=True):
        """Get the parameters of this estimator (no nested modality parameters)."""
        return BaseEstimator.get_params(self, deep=deep)

    def set_params(self, **params):
        """Set the parameters of this estimator."""
        return BaseEstimator.set_params(self, **params)

    @property
    def modalities(self):
        """``[("bag", ImageBagModality)]`` described by the parameters."""
        column = self.column if self.column is not None else getattr(
            self, "_bag_column", BAG_COLUMN)
        return [("bag", ImageBagModality(
            column, pooling=self.pooling, max_instances=self.max_instances,
            attention_dim=self.attention_dim, backbone=self.backbone,
            attention=self.attention, weights=self.weights,
            freeze_backbone=self.freeze_backbone, image_size=self.image_size,
            channels=self.channels, normalize=self.normalize,
            intensity_range=self.intensity_range, augment=self.augment,
            backbone_params=self.backbone_params))]

    def _as_frame(self, X, reset):
        """X as a DataFrame holding the bag column."""
        if isinstance(X, pd.DataFrame):
            if self.column is None:
                if X.shape[1] != 1:
                    raise ValueError(
                        f"X has columns {list(X.columns)}; set column= to the one "
                        "holding the bags.")
                if reset:
                    self._bag_column = X.columns[0]
                elif X.columns[0] != self._bag_column:
                    raise ValueError(f"X has column {X.columns[0]!r}, but fit saw "
                                     f"{self._bag_column!r}.")
            return X
        if isinstance(X, pd.Series):
            cells, index = X.to_numpy(dtype=object), X.index
        elif isinstance(X, (list, tuple, np.ndarray)):
            cells, index = np.empty(len(X), dtype=object), None
            cells[:] = list(X)
        else:
            raise TypeError(f"{type(self).__name__} expects X to be a DataFrame, a Series "
                            f"or a list of bags, got {type(X).__name__}.")
        if self.column is not None:
            raise ValueError(f"column={self.column!r} needs X as a DataFrame; got a "
                             f"{type(X).__name__}.")
        if reset:
            self._bag_column = BAG_COLUMN
        return pd.DataFrame({self._bag_column: cells}, index=index)

    def _prepare_X(self, X, reset):
        frame = self._as_frame(X, reset)
        modality = self.modalities[0][1]
        if modality.column in frame.columns:
            missing = modality.missing_mask(frame[modality.column].to_numpy(dtype=object))
            if missing.any():
                rows = [frame.index[i] for i in np.flatnonzero(missing)]
                raise ValueError(
                    f"{len(rows)} bag(s) in column {modality.column!r} are missing or "
                    f"empty at rows {rows[:10]}; ImageBagClassifier needs at least one "
                    "image in every bag (a fusion classifier with an ImageBagModality "
                    "accepts missing bags)."
                )
        return super()._prepare_X(frame, reset)

    def _check_fusion_params(self):
        pass

    def _module_spec(self, n_classes):
        return ImageBagClassifierModule, dict(
            n_classes=n_classes, encoder=self.modalities_["bag"].encoder_spec(),
            dropout=self.dropout)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        return tags
