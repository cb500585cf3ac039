"""LateFusionClassifier: one classifier per modality, their predictions combined."""

import numbers
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from ..estimators._base import check_not_empty, drop_zero_weight_rows, encode_labels
from ..modalities._image import check_column_present
from ..modalities._multimodal import MultimodalMixin, as_column_list
from ..modalities._tabular import as_frame
from ._base import _rows_text

VOTINGS = ("soft", "weighted", "stacking")


def _block_missing(block):
    """Rows whose cells are all missing (NaN/None) in a Series or DataFrame block."""
    if isinstance(block, pd.Series):
        return block.isna().to_numpy()
    return block.isna().all(axis=1).to_numpy()


def _weight_param(estimator, name):
    """The fit parameter taking sample weights for ``estimator``, or a ValueError."""
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    if isinstance(estimator, Pipeline) and has_fit_parameter(estimator._final_estimator,
                                                             "sample_weight"):
        return f"{estimator.steps[-1][0]}__sample_weight"
    raise ValueError(
        f"sample_weight was given, but the estimator {name!r} "
        f"({type(estimator).__name__}) does not accept sample_weight in fit."
    )


class LateFusionClassifier(MultimodalMixin, ClassifierMixin, BaseEstimator):
    """Late (decision-level) fusion: one classifier per modality, predictions combined.

    Each ``(name, estimator, columns)`` entry of ``modalities`` fits a clone
    of ``estimator`` on
    ``X[columns]`` (any scikit-learn classifier: ``XGBClassifier`` on EHR
    columns, :class:`~skmultimodal.ImageClassifier` on an image column...).
    A modality is missing in a row when all its columns are missing there
    (NaN, or None for an image cell); each estimator is fitted only on the
    rows where its modality is present, and a row's prediction combines the
    modalities present in that row:

    - ``voting="soft"``: mean of the predicted probabilities (weighted by
      ``voting_weights`` if given);
    - ``voting="weighted"``: the same with the required ``voting_weights``;
    - ``voting="stacking"``: a meta-learner (``final_estimator``, default
      ``LogisticRegression``) on out-of-fold probabilities
      (:func:`~sklearn.model_selection.cross_val_predict` over ``cv``
      stratified folds, ``method="predict_proba"``), so the meta-learner
      never sees probabilities of rows the base estimator was fitted on.
      A missing modality's probabilities are filled with the training class
      frequencies and a presence indicator per modality is added to the
      meta-features.

    Parameters
    ----------
    modalities : list of (str, estimator, columns) tuples
        One entry per modality, as the transformers of a ColumnTransformer:
        ``columns`` is a column name (the estimator then gets a Series), a
        list of names (a DataFrame) or None (all of X). Nested parameters
        are set with ``<name>__<param>``, as for every multimodal estimator.
    voting : {"soft", "weighted", "stacking"}, default="soft"
    voting_weights : array-like of shape (n_modalities,), default=None
        Non-negative weight per modality for soft/weighted voting.
    final_estimator : classifier, default=None
        Meta-learner of ``voting="stacking"``; None means
        ``LogisticRegression()``.
    cv : int, cross-validation generator or iterable, default=5
        Folds of the out-of-fold predictions of ``voting="stacking"`` (an int
        gives :class:`~sklearn.model_selection.StratifiedKFold`).
    n_jobs : int, default=None
        Jobs of ``cross_val_predict``.
    random_state : int, RandomState or None, default=None
        With ``voting="stacking"`` and an int ``cv``: None uses unshuffled
        stratified folds (as :class:`~sklearn.ensemble.StackingClassifier`),
        otherwise the folds are shuffled with this seed. The estimators keep
        their own ``random_state``.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    estimators_ : list of estimators
        The fitted estimators (trained on the encoded labels 0..n_classes-1,
        on the rows where their modality is present).
    named_estimators_ : Bunch
        The fitted estimators by name.
    final_estimator_ : estimator
        The fitted meta-learner (stacking only).
    class_prior_ : ndarray of shape (n_classes,)
        Training class frequencies (filling missing modalities in stacking).
    voting_weights_ : ndarray of shape (n_modalities,) or None
        The validated ``voting_weights``.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names of X (when they are strings).

    Notes
    -----
    Late fusion cannot learn interactions between modalities. Each estimator
    sees one modality and is trained to predict the label from it alone, and
    the combination only averages (voting) or reweighs (stacking) those
    per-modality predictions. When the label depends on how the modalities
    combine rather than on the sum of their separate evidence (e.g. the sign
    of the product of an image feature and a tabular feature, as in
    ``make_multimodal_classification(interaction=True)``), every
    per-modality prediction is at chance and so is their combination,
    whatever the estimators. Use :class:`IntermediateFusionClassifier` or
    :class:`CrossAttentionFusionClassifier`, which learn a joint
    representation, when such interactions are plausible; late fusion suits
    modalities that carry separate, additive evidence.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.fusion import LateFusionClassifier
    >>> X, y = make_multimodal_classification(100, image_size=8, random_state=0)
    >>> X["pixels"] = [im.mean() for im in X["image"]]
    >>> clf = LateFusionClassifier(
    ...     [("ehr", LogisticRegression(), [f"tab_{i}" for i in range(10)]),
    ...      ("img", DecisionTreeClassifier(max_depth=2), ["pixels"])],
    ...     voting="stacking", cv=3).fit(X, y)
    >>> clf.predict_proba(X).shape
    (100, 2)
    >>> clf.set_params(img__max_depth=3).get_params()["img__max_depth"]
    3
    """

    _supports_missing_modalities = True

    _parameter_constraints = {
        "modalities": [list, tuple],
        "voting": [StrOptions(set(VOTINGS))],
        "voting_weights": ["array-like", None],
        "final_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    _n_modality_fields = 3
    _composition_attr = "_estimators"  # (name, estimator) pairs of the triples

    def __init__(self, modalities, *, voting="soft", voting_weights=None,
                 final_estimator=None, cv=5, n_jobs=None, random_state=None):
        self.modalities = modalities
        self.voting = voting
        self.voting_weights = voting_weights
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- nested parameters (as ColumnTransformer) ---------------------------
    @property
    def _estimators(self):
        try:
            return [(name, est) for name, est, _ in self.modalities]
        except (TypeError, ValueError):
            return self.modalities

    @_estimators.setter
    def _estimators(self, value):
        self.modalities = [
            (name, est, col) for (name, est), (_, _, col) in zip(value, self.modalities)
        ]

    # -- the multimodal protocol ----------------------------------------------
    def _modality_subset_params(self, names):
        params = super()._modality_subset_params(names)
        if self.voting_weights is not None:
            all_names = self.get_modality_names()
            weights = list(self.voting_weights)
            params["voting_weights"] = [w for n, w in zip(all_names, weights) if n in names]
        return params

    def _fitted_modality_columns(self):
        check_is_fitted(self, "estimators_")
        everything = list(getattr(self, "feature_names_in_", range(self.n_features_in_)))
        return {name: everything if columns is None else as_column_list(columns)
                for name, _, columns in self.modalities}

    def get_modality_input(self, X, name):
        """What the estimator of modality ``name`` reads of the rows X.

        Parameters
        ----------
        X : DataFrame
            Rows with the columns seen in ``fit``.
        name : str
            A modality name.

        Returns
        -------
        block : Series or DataFrame
            ``X[columns]`` of that modality.
        """
        check_is_fitted(self, "estimators_")
        names = self.get_modality_names()
        if name not in names:
            raise ValueError(f"Unknown modality {name!r}; the modalities are {names}.")
        columns = self.modalities[names.index(name)][2]
        return self._block(self._check_X(X, reset=False), columns)

    # -- validation ---------------------------------------------------------
    def _check_estimators(self):
        """Parameters: their constraints, then the estimators and weights."""
        self._validate_params()
        names = self._check_modality_names()
        for name, est, _ in self.modalities:
            if isinstance(est, type):
                raise TypeError(
                    f"Estimator {name!r} is the class {est.__name__}; pass an instance "
                    f"({est.__name__}())."
                )
            if not (hasattr(est, "fit") and hasattr(est, "predict_proba")):
                raise TypeError(
                    f"Estimator {name!r} ({type(est).__name__}) needs fit and predict_proba."
                )
        weights = None
        if self.voting_weights is not None:
            weights = np.asarray(self.voting_weights, dtype=float)
            if (weights.shape != (len(names),) or not np.isfinite(weights).all()
                    or (weights < 0).any() or weights.sum() <= 0):
                raise ValueError(
                    f"voting_weights={self.voting_weights!r} must hold one finite, "
                    f"non-negative weight per modality ({len(names)}: {names}), not all "
                    "zero."
                )
        elif self.voting == "weighted":
            raise ValueError("voting='weighted' needs voting_weights (one per modality).")
        if self.final_estimator is not None and not is_classifier(self.final_estimator):
            raise TypeError(
                f"final_estimator must be a classifier, got {self.final_estimator!r}."
            )
        return names, weights

    def _check_X(self, X, reset):
        if isinstance(X, pd.DataFrame):
            for _, _, columns in self.modalities:
                if columns is not None:
                    self._block(X, columns)  # KeyError naming missing columns
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        if isinstance(X, (pd.Series, dict, str)) and not sparse.issparse(X):
            raise TypeError(
                f"LateFusionClassifier expects X to be a pandas DataFrame, got "
                f"{type(X).__name__}."
            )
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_all_finite="allow-nan")
        return as_frame(X)

    @staticmethod
    def _block(X, columns):
        if columns is None:
            return X
        if isinstance(columns, (str, numbers.Integral)):
            check_column_present(X, [columns])
            return X[columns]
        columns = list(columns)
        check_column_present(X, columns)
        return X[columns]

    def _blocks(self, X):
        blocks, missing = {}, {}
        for name, _, columns in self.modalities:
            blocks[name] = self._block(X, columns)
            missing[name] = _block_missing(blocks[name])
        if len(X):
            none = np.logical_and.reduce(list(missing.values()))
            if none.any():
                raise ValueError(
                    f"{int(none.sum())} row(s) have every modality missing "
                    f"({list(missing)}): rows {_rows_text(list(X.index), none)}."
                )
        return blocks, missing

    def _proba(self, est, block):
        """Probabilities of ``est`` in the columns of all encoded classes."""
        out = np.zeros((len(block), len(self.classes_)))
        out[:, np.asarray(est.classes_, dtype=int)] = est.predict_proba(block)
        return out

    # -- fit / predict ------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit each estimator on its columns and rows, then the combination.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row, passed to the ``fit`` of every estimator (on
            the rows where its modality is present), to the out-of-fold fits
            and to the meta-learner of ``voting="stacking"``. Every estimator
            must accept ``sample_weight`` (a Pipeline receives it as
            ``<last step>__sample_weight``). Rows of weight 0 are left out.

        Returns
        -------
        self : object
        """
        names, weights = self._check_estimators()
        X, y, sample_weight = drop_zero_weight_rows(X, y, sample_weight,
                                                    uniform_is_none=False)
        if sample_weight is not None:
            for name, est, _ in self.modalities:
                _weight_param(est, name)
            if self.voting == "stacking":
                _weight_param(self.final_estimator or LogisticRegression(), "final_estimator")
        X = self._check_X(X, reset=True)
        classes, y_enc = encode_labels(y, len(X), "LateFusionClassifier")
        self.classes_ = classes
        self.class_prior_ = np.bincount(y_enc, minlength=len(classes)) / len(y_enc)
        blocks, missing = self._blocks(X)
        self.estimators_ = []
        meta = []
        for name, est, _ in self.modalities:
            keep = ~missing[name]
            if not keep.any():
                raise ValueError(f"Modality {name!r} is missing in every training row.")
            block, yk = blocks[name][keep], y_enc[keep]
            params = ({} if sample_weight is None
                      else {_weight_param(est, name): sample_weight[keep]})
            if self.voting == "stacking":
                if isinstance(self.cv, numbers.Integral) and self.random_state is not None:
                    cv = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
                else:
                    cv = check_cv(self.cv, yk, classifier=True)
                oof = cross_val_predict(clone(est), block, yk, cv=cv,
                                        method="predict_proba", n_jobs=self.n_jobs,
                                        params=params)
                full = np.tile(self.class_prior_, (len(X), 1))
                full[keep] = oof
                meta.append(np.column_stack([full, keep.astype(float)]))
            self.estimators_.append(clone(est).fit(block, yk, **params))
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        self.voting_weights_ = weights
        if self.voting == "stacking":
            final = self.final_estimator
            final = LogisticRegression() if final is None else clone(final)
            params = ({} if sample_weight is None
                      else {_weight_param(final, "final_estimator"): sample_weight})
            self.final_estimator_ = final.fit(np.hstack(meta), y_enc, **params)
        return self

    def _meta_features(self, blocks, missing, n):
        meta = []
        for (name, _, _), est in zip(self.modalities, self.estimators_):
            keep = ~missing[name]
            full = np.tile(self.class_prior_, (n, 1))
            if keep.any():
                full[keep] = self._proba(est, blocks[name][keep])
            meta.append(np.column_stack([full, keep.astype(float)]))
        return np.hstack(meta)

    def predict_proba(self, X):
        """Combined class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : DataFrame

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimators_")
        X = self._check_X(X, reset=False)
        check_not_empty(len(X), "LateFusionClassifier needs at least one row to predict")
        blocks, missing = self._blocks(X)
        n = len(X)
        if self.voting == "stacking":
            meta = self._meta_features(blocks, missing, n)
            out = np.zeros((n, len(self.classes_)))
            cols = np.asarray(self.final_estimator_.classes_, dtype=int)
            out[:, cols] = self.final_estimator_.predict_proba(meta)
            return out
        weights = (np.ones(len(self.estimators_)) if self.voting_weights_ is None
                   else self.voting_weights_)
        total = np.zeros((n, len(self.classes_)))
        norm = np.zeros(n)
        for (name, _, _), est, w in zip(self.modalities, self.estimators_, weights):
            keep = ~missing[name]
            if keep.any() and w > 0:
                total[keep] += w * self._proba(est, blocks[name][keep])
                norm[keep] += w
        if n and (norm == 0).any():
            raise ValueError(
                "Some rows have only modalities of zero weight: rows "
                f"{_rows_text(list(X.index), norm == 0)}."
            )
        return total / norm[:, None]

    def predict(self, X):
        """Predicted class labels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags
