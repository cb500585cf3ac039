"""DeepFeatureExtractor: supervised deep features of one CNN per image modality."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..modalities import ImageBagModality, ImageModality
from ..modalities._multimodal import MultimodalMixin
from ..utils._constraints import RATE, TRAINING, pick
from ..utils._docstrings import substitute_shared_params
from ._cache import encode_source
from ._image import ImageClassifier

#: DeepFeatureExtractor's training parameters, passed to every CNN.
_TRAINING_PARAMS = ("dropout", "max_epochs", "batch_size", "lr", "optimizer",
                    "weight_decay", "lr_schedule", "label_smoothing", "class_weight",
                    "early_stopping", "validation_fraction", "n_iter_no_change",
                    "num_workers", "precision", "device", "verbose")


@substitute_shared_params
class DeepFeatureExtractor(MultimodalMixin, TransformerMixin, BaseEstimator):
    """Deep features of attention CNNs trained on each image modality (stage 1).

    In ``fit``, one :class:`~skmultimodal.ImageClassifier` per image modality
    (e.g. an ECA-ResNet on ultrasound, a CBAM-ResNet on mammography, as in
    study 3) is trained on the labels. ``transform`` returns, for every row,
    the concatenated globally pooled features of the trained backbones: a
    supervised feature extractor to put before a scikit-learn model.

    Note that ``fit_transform`` on the training rows returns features of
    networks trained on those same rows, which are optimistic. A model
    stacked on top should therefore use out-of-fold predictions of its own
    (as :func:`~skmultimodal.fusion.make_stacking_ensemble` does), and the
    whole pipeline must be evaluated by an outer cross-validation.

    Parameters
    ----------
    modalities : list of (str, ImageModality) tuples
        One CNN per entry, built from the modality (column, backbone,
        attention, pretrained ``weights``, image size, channels,
        normalisation, augmentation, ...). Nested parameters are
        ``<name>__<param>`` (e.g. ``us__attention``), as for every
        multimodal estimator. ``ImageModality(column=None)`` reads X itself
        as the images (one modality).
    dropout : float, default=0.0
        Dropout before each CNN's linear head (training only).
    max_epochs : int, default=10
    batch_size : int, default=32
        Training batch size of the CNNs, also used by ``transform``.
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    weight_decay : float, default=0.0
    %(lr_schedule)s
        Default: "warmup_cosine", as for :class:`~skmultimodal.ImageClassifier`.
    %(label_smoothing)s
        Default: 0.1, as for :class:`~skmultimodal.ImageClassifier`.
    class_weight : None, "balanced" or dict, default=None
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    %(num_workers)s
    %(precision)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
        Seeds each CNN (one seed drawn per modality).
    verbose : int, default=0

    Attributes
    ----------
    encoders_ : dict of str to ImageClassifier
        The trained CNNs, by modality name.
    n_features_out_ : int
        Width of the output.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names of X (when they are strings).

    Examples
    --------
    >>> from skmultimodal import DeepFeatureExtractor, ImageModality
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(40, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> X["image2"] = X["image"]
    >>> cnn = dict(backbone="simple_cnn", image_size=16, channels=1)
    >>> ext = DeepFeatureExtractor([("a", ImageModality("image", **cnn)),
    ...                             ("b", ImageModality("image2", **cnn))],
    ...                            max_epochs=1, random_state=0)
    >>> ext.fit_transform(X, y).shape
    (40, 256)
    >>> ext.get_feature_names_out()[[0, -1]].tolist()
    ['a_0', 'b_127']
    >>> ext.set_params(a__attention="eca").get_params()["a__attention"]
    'eca'
    """

    #: The values of extractors pickled before these parameters existed (their
    #: CNNs trained with ImageClassifier's defaults).
    lr_schedule = "warmup_cosine"
    label_smoothing = 0.1

    _parameter_constraints = {
        "modalities": [list, tuple],
        "dropout": [RATE],
        **pick(TRAINING, [p for p in _TRAINING_PARAMS if p != "dropout"]),
        "random_state": ["random_state"],
    }

    def __init__(self, modalities, *, dropout=0.0, max_epochs=10, batch_size=32, lr=1e-3,
                 optimizer="adam", weight_decay=0.0, lr_schedule="warmup_cosine",
                 label_smoothing=0.1, class_weight=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 num_workers="auto", precision=None, device="auto", random_state=None,
                 verbose=0):
        self.modalities = modalities
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
        self.num_workers = num_workers
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- validation -----------------------------------------------------
    def _check_modalities(self):
        names = self._check_modality_names()
        for name, modality in self.modalities:
            if not isinstance(modality, ImageModality) or isinstance(modality,
                                                                    ImageBagModality):
                raise TypeError(
                    f"Modality {name!r} is a {type(modality).__name__}; "
                    "DeepFeatureExtractor trains one CNN per ImageModality (for bags "
                    "of images, use skmultimodal.ImageBagClassifier)."
                )
            modality.check_params()
        if len(names) > 1 and any(m.column is None for _, m in self.modalities):
            raise ValueError(
                "ImageModality(column=None) reads X itself as the images and can be "
                "the only modality; name the image column of every modality."
            )
        return names

    def _make_encoders(self):
        training = {p: getattr(self, p) for p in _TRAINING_PARAMS}
        rng = check_random_state(self.random_state)
        return {
            name: ImageClassifier(**modality.get_params(deep=False), **training,
                                  random_state=int(rng.randint(0, 2**31 - 1)))
            for name, modality in self.modalities
        }

    def _reads_frame(self):
        return any(m.column is not None for _, m in self.modalities)

    def _check_input(self, X, reset):
        if not self._reads_frame():
            return
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "DeepFeatureExtractor with named image columns expects a pandas "
                f"DataFrame, got {type(X).__name__}."
            )
        validate_data(self, X, reset=reset, skip_check_array=True)

    # -- the multimodal protocol ----------------------------------------
    def _fitted_modality_columns(self):
        check_is_fitted(self, "encoders_")
        return {name: [] if m.column is None else [m.column] for name, m in self.modalities}

    # -- fit / transform ------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train one CNN per image modality on the labels.

        Parameters
        ----------
        X : DataFrame holding the image columns (paths or arrays)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the training loss of every CNN (see
            :meth:`skmultimodal.ImageClassifier.fit`).

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._check_modalities()
        if y is None:
            raise ValueError(
                "DeepFeatureExtractor requires y to be passed, but the target y is None."
            )
        for attr in ("feature_names_in_", "n_features_in_"):
            self.__dict__.pop(attr, None)
        self._check_input(X, reset=True)
        self.encoders_ = {name: enc.fit(X, y, sample_weight=sample_weight)
                          for name, enc in self._make_encoders().items()}
        if not self._reads_frame():
            first = next(iter(self.encoders_.values()))
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(first, attr):
                    setattr(self, attr, getattr(first, attr))
        self.n_features_out_ = sum(self._widths().values())
        return self

    def _widths(self):
        return {name: enc.net_.module_.encoder.num_features
                for name, enc in self.encoders_.items()}

    def transform(self, X):
        """Concatenated pooled features of the trained backbones.

        Parameters
        ----------
        X : DataFrame holding the image columns

        Returns
        -------
        features : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        check_is_fitted(self, "encoders_")
        self._check_input(X, reset=False)
        blocks = []
        for name, enc in self.encoders_.items():
            source = enc.make_dataset(X).sources["image"]
            features, _ = encode_source(
                enc.net_.module_.encoder, source, output="pooled", store=None,
                batch_size=self.batch_size,
                num_workers=getattr(enc.net_, "iterator_valid__num_workers", 0),
                precision=self.precision,
            )
            blocks.append(features.reshape(len(source), self._widths()[name]))
        return np.hstack(blocks).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Output feature names ``<name>_<i>`` (e.g. ``us_0`` ... ``mammo_511``).

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self, "encoders_")
        return np.array([f"{name}_{i}" for name, width in self._widths().items()
                         for i in range(width)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
