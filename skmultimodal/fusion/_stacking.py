"""Study 3's two-stage model: attention CNN features, then a stacking ensemble."""

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from torch.utils.data import DataLoader

from ..estimators import ImageClassifier
from ..utils._constraints import ATTENTIONS, BACKBONES, IMAGE, TRAINING, pick
from ..utils._docstrings import substitute_shared_params


def _image_columns(image_columns):
    """Normalise ``image_columns`` to a list of (name, column) pairs."""
    if image_columns is None:
        return [("image", None)]
    if isinstance(image_columns, str):
        return [(image_columns, image_columns)]
    if isinstance(image_columns, dict):
        pairs = list(image_columns.items())
    elif isinstance(image_columns, (list, tuple)):
        pairs = [(c, c) if isinstance(c, str) else tuple(c) for c in image_columns]
    else:
        raise TypeError(
            f"image_columns must be a dict {{name: column}}, a list of columns, a column "
            f"name or None, got {image_columns!r}."
        )
    if not pairs:
        raise ValueError("image_columns must name at least one image column.")
    names = [p[0] for p in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"image_columns has duplicate names: {names}")
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Names in image_columns must be non-empty strings, got {name!r}.")
    return pairs


def _per_name(value, names, what):
    """A single value for every name, or a dict name -> value."""
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(
                f"{what} names unknown image columns {sorted(unknown)}; known: {names}."
            )
        default = ImageClassifier().get_params()[what]
        return {n: value.get(n, default) for n in names}
    return {n: value for n in names}


@substitute_shared_params
class DeepFeatureExtractor(TransformerMixin, BaseEstimator):
    """Deep features of attention CNNs trained on each image column (stage 1).

    In ``fit``, one :class:`~skmultimodal.ImageClassifier` per image column
    (e.g. an ECA-ResNet on ultrasound, a CBAM-ResNet on mammography, as in
    study 3) is trained on the labels. ``transform`` returns, for every row,
    the concatenated globally pooled features of the trained backbones: a
    supervised feature extractor to put before a scikit-learn model.

    Note that ``fit_transform`` on the training rows returns features of
    networks trained on those same rows, which are optimistic. A model
    stacked on top should therefore use out-of-fold predictions of its own
    (as :func:`make_stacking_ensemble` does), and the whole pipeline must be
    evaluated by an outer cross-validation.

    Parameters
    ----------
    image_columns : dict, list, str or None
        ``{name: column}`` (e.g. ``{"us": "us_path", "mammo": "mammo_path"}``),
        a list of columns (names = columns), one column name, or None when X
        is the image input itself (names it ``"image"``).
    attention : None, str or dict, default=None
        Attention of each CNN (``None``, ``"eca"`` or ``"cbam"``); a dict
        gives it per name.
    backbone : str or dict, default="resnet18"
        Backbone of each CNN; a dict gives it per name.
    weights : None, str or path, default=None
        Initial weights of the backbones (e.g. "IMAGENET1K_V1").
    image_size : int or (int, int), default=224
    channels : {1, 3}, default=3
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    augment : bool, "default" or callable, default=False
    encoder_params : dict, default=None
        Further parameters of every :class:`~skmultimodal.ImageClassifier`
        (``max_epochs``, ``batch_size``, ``lr``, ``early_stopping``, ...).
    batch_size : int, default=64
        Batch size of ``transform``.
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
        Seeds each CNN (one seed drawn per image column).

    Attributes
    ----------
    encoders_ : dict of str to ImageClassifier
        The trained CNNs.
    n_features_out_ : int
        Width of the output.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names of X (when they are strings).

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.fusion import DeepFeatureExtractor
    >>> X, y = make_multimodal_classification(40, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> X["image2"] = X["image"]
    >>> ext = DeepFeatureExtractor({"a": "image", "b": "image2"},
    ...                            backbone="simple_cnn", image_size=16, channels=1,
    ...                            encoder_params={"max_epochs": 1}, random_state=0)
    >>> ext.fit_transform(X, y).shape
    (40, 256)
    >>> ext.get_feature_names_out()[[0, -1]].tolist()
    ['a_0', 'b_127']
    """

    _parameter_constraints = {
        "image_columns": "no_validation",  # None, a column, a list or a dict of them
        "attention": [ATTENTIONS, None, dict],
        "backbone": [BACKBONES, dict],
        **pick(IMAGE, ["weights", "image_size", "channels", "normalize", "intensity_range",
                       "augment"]),
        "encoder_params": [dict, None],
        **pick(TRAINING, ["batch_size", "device", "random_state"]),
    }

    def __init__(self, image_columns, *, attention=None, backbone="resnet18", weights=None,
                 image_size=224, channels=3, normalize="imagenet",
                 intensity_range="auto", augment=False,
                 encoder_params=None, batch_size=64, device="auto", random_state=None):
        self.image_columns = image_columns
        self.attention = attention
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.channels = channels
        self.normalize = normalize
        self.intensity_range = intensity_range
        self.augment = augment
        self.encoder_params = encoder_params
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _encoders(self):
        pairs = _image_columns(self.image_columns)
        names = [n for n, _ in pairs]
        attention = _per_name(self.attention, names, "attention")
        backbone = _per_name(self.backbone, names, "backbone")
        params = dict(self.encoder_params or {})
        fixed = {"column", "backbone", "attention", "weights", "image_size",
                 "channels", "normalize", "intensity_range", "augment",
                 "random_state"}
        clash = fixed.intersection(params)
        if clash:
            raise ValueError(
                f"encoder_params must not set {sorted(clash)}; use the parameters of "
                "DeepFeatureExtractor instead."
            )
        params.setdefault("device", self.device)
        rng = check_random_state(self.random_state)
        encoders = {}
        for name, column in pairs:
            encoders[name] = ImageClassifier(
                column, backbone=backbone[name], attention=attention[name],
                weights=self.weights, image_size=self.image_size, channels=self.channels,
                normalize=self.normalize, intensity_range=self.intensity_range,
                augment=self.augment,
                random_state=int(rng.randint(0, 2**31 - 1)), **params,
            )
        return encoders

    def _check_input(self, X, reset):
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
        elif reset:
            for attr in ("feature_names_in_", "n_features_in_"):
                self.__dict__.pop(attr, None)
        if self.image_columns is not None and not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"DeepFeatureExtractor with image_columns expects a pandas DataFrame, "
                f"got {type(X).__name__}."
            )

    def fit(self, X, y, sample_weight=None):
        """Train one CNN per image column on the labels.

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
        if y is None:
            raise ValueError(
                "DeepFeatureExtractor requires y to be passed, but the target y is None."
            )
        encoders = self._encoders()
        if self.image_columns is not None:
            self._check_input(X, reset=True)
        self.encoders_ = {name: enc.fit(X, y, sample_weight=sample_weight)
                          for name, enc in encoders.items()}
        if self.image_columns is None:
            first = next(iter(self.encoders_.values()))
            for attr in ("n_features_in_", "feature_names_in_"):
                self.__dict__.pop(attr, None)
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
        features : ndarray of shape (n_samples, n_features_out_), float32
        """
        check_is_fitted(self, "encoders_")
        if self.image_columns is not None:
            self._check_input(X, reset=False)
        blocks = []
        for enc in self.encoders_.values():
            dataset = enc._dataset(X)
            backbone = enc.net_.module_.encoder
            was_training = backbone.training
            backbone.eval()
            out = []
            try:
                with torch.inference_mode():
                    for batch, _ in DataLoader(dataset, batch_size=int(self.batch_size),
                                               generator=torch.Generator()):
                        image = batch["image"].to(enc.device_)
                        out.append(backbone(image).float().cpu().numpy())
            finally:
                backbone.train(was_training)
            width = backbone.num_features
            blocks.append(np.concatenate(out) if out else np.zeros((0, width), np.float32))
        return np.hstack(blocks).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Output feature names ``<name>_<i>`` (e.g. ``us_0`` ... ``mammo_511``).

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


def make_stacking_ensemble(image_columns, *, attention=None, backbone="resnet18",
                           weights=None, image_size=224, channels=3, cv=5,
                           encoder_params=None, final_estimator=None, n_jobs=None,
                           device="auto", random_state=None):
    """Build study 3's two-stage model as a scikit-learn Pipeline.

    Stage 1 is a :class:`DeepFeatureExtractor`: one attention CNN per image
    column (e.g. ECA for ultrasound, CBAM for mammography) trained on the
    labels, whose pooled deep features are concatenated (fused). After
    standardisation, stage 2 is a
    :class:`~sklearn.ensemble.StackingClassifier` with logistic regression,
    SVM (with Platt-scaled probabilities, ``CalibratedClassifierCV(SVC(),
    ensemble=False)``), random forest and Extra-Trees as base learners and an MLP
    meta-learner, trained on out-of-fold base-learner probabilities
    (``cv`` folds).

    Stage-1 CNN training sees all training rows of the (outer) fold; the
    stacking is out-of-fold within those rows only, so the meta-learner is
    fitted on features the CNNs have seen in training (slightly optimistic
    base-learner inputs). Evaluate the whole pipeline with an outer
    cross-validation (``cross_validate(pipe, X, y, cv=StratifiedGroupKFold(5),
    groups=...)``) so the test rows never reach either stage in fit.

    Parameters
    ----------
    image_columns : dict, list or str
        ``{name: column}``, e.g. ``{"us": "us_path", "mammo": "mammo_path"}``.
    attention : None, str or dict, default=None
        Attention per name, e.g. ``{"us": "eca", "mammo": "cbam"}``.
    backbone : str or dict, default="resnet18"
    weights : None, str or path, default=None
        Initial CNN weights (e.g. "IMAGENET1K_V1").
    image_size : int or (int, int), default=224
    channels : {1, 3}, default=3
    cv : int or cross-validation generator, default=5
        Folds of the stacking's out-of-fold predictions.
    encoder_params : dict, default=None
        Further :class:`~skmultimodal.ImageClassifier` parameters (max_epochs,
        lr, batch_size, augment is a DeepFeatureExtractor parameter).
    final_estimator : classifier, default=None
        Meta-learner; None gives ``MLPClassifier(hidden_layer_sizes=(32,),
        max_iter=1000)``.
    n_jobs : int, default=None
        Jobs of the StackingClassifier.
    device : str, default="auto"
    random_state : int or None, default=None
        Seeds the CNNs, the SVM, the forests and the MLP.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"features"`` (DeepFeatureExtractor), ``"scale"``
        (StandardScaler) and ``"stacking"`` (StackingClassifier).

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.fusion import make_stacking_ensemble
    >>> X, y = make_multimodal_classification(60, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> X["image2"] = X["image"]
    >>> pipe = make_stacking_ensemble({"us": "image", "mammo": "image2"},
    ...                               backbone="simple_cnn", image_size=16, channels=1,
    ...                               cv=3, encoder_params={"max_epochs": 1},
    ...                               random_state=0)
    >>> pipe.fit(X, y).predict_proba(X).shape
    (60, 2)
    """
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    features = DeepFeatureExtractor(
        image_columns, attention=attention, backbone=backbone, weights=weights,
        image_size=image_size, channels=channels, encoder_params=encoder_params,
        device=device, random_state=random_state,
    )
    base = [
        ("lr", LogisticRegression(max_iter=1000)),
        # Platt-scaled SVM probabilities (what SVC(probability=True) gave before
        # its deprecation in scikit-learn 1.9).
        ("svm", CalibratedClassifierCV(SVC(random_state=random_state), ensemble=False,
                                       cv=cv)),
        ("rf", RandomForestClassifier(random_state=random_state)),
        ("et", ExtraTreesClassifier(random_state=random_state)),
    ]
    if final_estimator is None:
        final_estimator = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000,
                                        random_state=random_state)
    stacking = StackingClassifier(base, final_estimator=final_estimator, cv=cv,
                                  n_jobs=n_jobs)
    return Pipeline([("features", features), ("scale", StandardScaler()),
                     ("stacking", stacking)])
