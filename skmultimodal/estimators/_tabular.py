"""TabularMLPClassifier: an MLP on tabular columns (gene expression, EHR)."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from ..data import ArraySource
from ..modalities import TabularModality
from ..modalities._tabular import as_frame
from ..nn import TabularClassifierModule
from ..utils._constraints import TABULAR, TRAINING, pick
from ..utils._docstrings import substitute_shared_params
from ._base import BaseNetClassifier, PreparedInput


@substitute_shared_params
class TabularMLPClassifier(BaseNetClassifier):
    """Multilayer perceptron for tables such as gene expression or EHR.

    Numeric columns are standardised and categorical columns one-hot encoded
    inside ``fit`` (so inside every cross-validation fold).

    Parameters
    ----------
    columns : list, default=None
        Columns of a DataFrame X to use; None uses all.
    hidden_layer_sizes : tuple of int, default=(256,)
        The defaults (one wide layer, strong dropout and weight decay) suit
        tables with many correlated columns and few rows, such as expression
        profiles of a few hundred genes in a thousand patients.
    dropout : float, default=0.5
    batch_norm : bool, default=True
    activation : {"relu", "gelu", "tanh"}, default="relu"
    scale : bool, default=True
        Standardise numeric columns.
    impute : {None, "mean", "median", "most_frequent"}, default=None
        Fill missing numeric values; with None they are an error naming the
        columns and rows.
    categorical : "auto" or list, default="auto"
        Columns to one-hot encode ("auto": string and category columns).
    max_epochs : int, default=30
    batch_size : int, default=64
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=0.05
    %(lr_schedule)s
        Default: None.
    %(label_smoothing)s
        Default: 0.
    class_weight : None, "balanced" or dict, default=None
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    callbacks : list of skorch callbacks, default=None
    %(recalibrate_bn)s
    %(precision)s
    %(compile)s
    %(accelerator)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray
    net_ : skorch.NeuralNetClassifier
    modality_ : TabularModality
        The fitted preprocessing.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when X is a DataFrame with string column names.
    n_iter_ : int

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skmultimodal import TabularMLPClassifier
    >>> X, y = make_classification(100, n_features=8, random_state=0)
    >>> clf = TabularMLPClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **TABULAR,
        **pick(TRAINING, [name for name in TRAINING
                          if name not in ("num_workers", "channels_last", "cache_images")]),
    }

    def __init__(self, columns=None, *, hidden_layer_sizes=(256,), dropout=0.5,
                 batch_norm=True, activation="relu", scale=True, impute=None,
                 categorical="auto", max_epochs=30, batch_size=64, lr=1e-3,
                 optimizer="adamw", weight_decay=0.05, lr_schedule=None,
                 label_smoothing=0.0, class_weight=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 callbacks=None, recalibrate_bn=True, precision=None, compile=False,
                 accelerator=None, device="auto", random_state=None, verbose=0):
        self.columns = columns
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.activation = activation
        self.scale = scale
        self.impute = impute
        self.categorical = categorical
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
        self.precision = precision
        self.compile = compile
        self.accelerator = accelerator
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _prepare_X(self, X, reset):
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
        else:
            X = as_frame(validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan" if self.impute else True,
            ))
        return PreparedInput({"tabular": X}, len(X), list(X.index), fitting=reset)

    def _fit_preprocessing(self, prepared):
        self.modality_ = TabularModality(
            self.columns, scale=self.scale, impute=self.impute,
            categorical=self.categorical, hidden_layer_sizes=self.hidden_layer_sizes,
            dropout=self.dropout, batch_norm=self.batch_norm, activation=self.activation,
        ).fit(prepared.data["tabular"])

    def _input_modalities(self):
        return {"tabular": self.modality_}

    def _make_sources(self, prepared, train, raw_images=False):
        return {"tabular": ArraySource(self.modality_.transform(prepared.data["tabular"]))}

    def _module_spec(self, n_classes):
        spec = self.modality_.encoder_spec()
        spec.pop("kind")
        return TabularClassifierModule, dict(n_classes=n_classes, **spec)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.impute is not None
        return tags
