"""Scorers of the metrics the three studies report.

Every scorer is built with :func:`sklearn.metrics.make_scorer`, so it plugs
into :func:`~sklearn.model_selection.cross_validate`,
:class:`~sklearn.model_selection.GridSearchCV` and friends.

The score functions below take two keyword arguments that scikit-learn's
scorers can be given through ``make_scorer``:

- ``pos_label``: the positive class of a binary problem. As in scikit-learn,
  it defaults to ``classes_[1]`` (the greater of the two sorted labels);
  scikit-learn then hands the scorer the probability column of that class.
- ``labels``: all the class labels, sorted as the estimator's ``classes_``
  (the columns of ``predict_proba``). Without it they are inferred from
  ``y_true``, which is right whenever every class is present in the
  evaluated rows (stratified folds with at least ``n_splits`` samples per
  class). :func:`get_scorers` passes both when it is given ``labels``.
"""

import math
import numbers
import re

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    get_scorer,
    make_scorer,
    roc_auc_score,
)
from sklearn.utils.multiclass import unique_labels

__all__ = [
    "STUDY_METRICS",
    "STUDY_SCORERS",
    "average_precision",
    "binary_f1",
    "get_scorers",
    "macro_f1",
    "per_class_average_precision",
    "per_class_roc_auc",
    "per_class_roc_auc_scorer",
    "roc_auc",
]

#: Names of the metrics each of the three studies reports, by study.
STUDY_METRICS = {
    "study1": ("accuracy", "average_precision", "f1"),
    "study2": ("accuracy", "roc_auc_ovr", "roc_auc_per_class"),
    "study3": ("roc_auc",),
}

_BINARY_DEFAULT = ("accuracy", "balanced_accuracy", "f1", "average_precision", "roc_auc")
_MULTICLASS_DEFAULT = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "average_precision",
    "roc_auc_ovr",
)
_PER_CLASS = "roc_auc_per_class"
_PER_CLASS_NAME = re.compile(r"^roc_auc\[(?P<label>.+)\]$")


# -- helpers -----------------------------------------------------------------
def _labels(y_true, labels):
    """Sorted class labels: ``labels`` if given, else those of ``y_true``."""
    if labels is None:
        return unique_labels(y_true)
    return np.asarray(labels)


def _positive_label(y_true, pos_label, labels):
    """The positive class: ``pos_label``, else the greater label (classes_[1])."""
    if pos_label is not None:
        return pos_label
    classes = _labels(y_true, labels)
    if len(classes) > 2:
        raise ValueError(
            f"A binary metric got {len(classes)} classes {list(classes)}; use the "
            "multiclass variant (e.g. 'f1_macro', 'roc_auc_ovr')."
        )
    return classes[-1]


def _as_scores(y_score):
    y_score = np.asarray(y_score, dtype=float)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_score.ndim not in (1, 2):
        raise ValueError(f"y_score must be 1-D or 2-D, got shape {y_score.shape}.")
    return y_score


def _score_matrix(y_true, y_score, labels):
    """Return (classes, scores of shape (n, n_classes)) for a 1-D or 2-D y_score.

    A 1-D ``y_score`` is the score of ``classes[1]`` in a binary problem; the
    score of ``classes[0]`` is then its negation (one-vs-rest AUC and AP only
    depend on the ranking).
    """
    classes = _labels(y_true, labels)
    y_score = _as_scores(y_score)
    if y_score.ndim == 1:
        if len(classes) != 2:
            raise ValueError(
                f"A 1-D y_score needs two classes, got {len(classes)}: {list(classes)}."
            )
        y_score = np.column_stack([-y_score, y_score])
    if y_score.shape[1] != len(classes):
        raise ValueError(
            f"y_score has {y_score.shape[1]} columns but there are {len(classes)} "
            f"classes {list(classes)}; pass labels= (the estimator's classes_)."
        )
    return classes, y_score


def _per_class(metric, y_true, y_score, labels):
    """One-vs-rest ``metric`` of every class; NaN for a class absent from y_true
    (or the only class present)."""
    y_true = np.asarray(y_true)
    classes, y_score = _score_matrix(y_true, y_score, labels)
    out = {}
    for j, label in enumerate(classes):
        positive = y_true == label
        if positive.all() or not positive.any():
            out[_py(label)] = math.nan
        else:
            out[_py(label)] = float(metric(positive, y_score[:, j]))
    return out


def _py(label):
    """Turn a numpy scalar label into the Python scalar (for dict keys)."""
    return label.item() if isinstance(label, np.generic) else label


def _macro(values):
    values = [v for v in values.values() if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


# -- score functions ---------------------------------------------------------
def binary_f1(y_true, y_pred, *, pos_label=None, labels=None):
    """F1 score of the positive class of a binary problem.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (any type, e.g. strings).
    pos_label : label, default=None
        Positive class; None takes the greater label (``classes_[1]``).
    labels : array-like, default=None
        The two class labels; None infers them from ``y_true``.

    Returns
    -------
    score : float
    """
    pos = _positive_label(y_true, pos_label, labels)
    return float(f1_score(y_true, y_pred, pos_label=pos, average="binary"))


def macro_f1(y_true, y_pred, *, labels=None, pos_label=None):
    """Unweighted mean of the per-class F1 scores.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like, default=None
        Classes to average over; None takes those of ``y_true`` and ``y_pred``.
    pos_label : ignored
        Accepted so that one ``make_scorer`` call serves binary and multiclass.

    Returns
    -------
    score : float
    """
    return float(f1_score(y_true, y_pred, labels=labels, average="macro"))


def roc_auc(y_true, y_score, *, pos_label=None, labels=None):
    """ROC AUC, binary or macro one-vs-rest.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: score of ``pos_label`` (1-D). Multiclass: probabilities with
        columns ordered as ``labels``.
    pos_label : label, default=None
        Positive class of a binary problem; None takes ``classes_[1]``.
    labels : array-like, default=None
        Class labels (the columns of ``y_score``); None infers them from y_true.

    Returns
    -------
    score : float
        For more than two classes, the unweighted mean of the one-vs-rest AUCs
        of the classes present in ``y_true`` (equal to
        ``roc_auc_score(..., multi_class="ovr", average="macro")`` when every
        class is present).
    """
    y_score = _as_scores(y_score)
    if y_score.ndim == 1:
        pos = _positive_label(y_true, pos_label, labels)
        return float(roc_auc_score(np.asarray(y_true) == pos, y_score))
    return _macro(per_class_roc_auc(y_true, y_score, labels))


def average_precision(y_true, y_score, *, pos_label=None, labels=None):
    """Average precision (PR-AUC), binary or macro one-vs-rest.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        As in :func:`roc_auc`.
    pos_label : label, default=None
        Positive class of a binary problem; None takes ``classes_[1]``.
    labels : array-like, default=None
        Class labels; None infers them from ``y_true``.

    Returns
    -------
    score : float
        For more than two classes, the unweighted mean of the one-vs-rest
        average precisions of the classes present in ``y_true``.
    """
    y_score = _as_scores(y_score)
    if y_score.ndim == 1:
        pos = _positive_label(y_true, pos_label, labels)
        return float(average_precision_score(y_true, y_score, pos_label=pos))
    return _macro(per_class_average_precision(y_true, y_score, labels))


def per_class_roc_auc(y_true, proba, classes=None):
    """One-vs-rest ROC AUC of every class (study 2's per-class AUC).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities with columns ordered as ``classes``; a 1-D array
        is the probability of ``classes[1]`` of a binary problem.
    classes : array-like, default=None
        Sorted class labels (an estimator's ``classes_``); None infers them
        from ``y_true``.

    Returns
    -------
    auc : dict
        ``{label: AUC}``; NaN for a class absent from ``y_true``. The macro
        average is ``numpy.nanmean(list(auc.values()))``.

    Examples
    --------
    >>> from skmultimodal.metrics import per_class_roc_auc
    >>> per_class_roc_auc(["a", "b", "c", "a"], [[.8, .1, .1], [.2, .7, .1],
    ...                                          [.1, .3, .6], [.6, .2, .2]])
    {'a': 1.0, 'b': 1.0, 'c': 1.0}
    """
    return _per_class(roc_auc_score, y_true, proba, classes)


def per_class_average_precision(y_true, proba, classes=None):
    """One-vs-rest average precision of every class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        As in :func:`per_class_roc_auc`.
    classes : array-like, default=None
        Sorted class labels; None infers them from ``y_true``.

    Returns
    -------
    ap : dict
        ``{label: average precision}``; NaN for a class absent from ``y_true``.
    """
    return _per_class(average_precision_score, y_true, proba, classes)


def _class_roc_auc(y_true, y_score, *, class_label, labels=None):
    """One-vs-rest ROC AUC of the class ``class_label``.

    The scorer passes no ``pos_label`` to scikit-learn, so the probabilities it
    receives (and may share with other scorers) are the usual ones: all
    columns for multiclass, the column of the greater class for binary.
    """
    y_true = np.asarray(y_true)
    y_score = _as_scores(y_score)
    if y_score.ndim == 2:
        classes = list(_labels(y_true, labels))
        if class_label not in classes:
            raise ValueError(f"Class {class_label!r} is not among the labels {classes}.")
        y_score = y_score[:, classes.index(class_label)]
    elif class_label != sorted(set(np.unique(y_true).tolist())
                               | set([] if labels is None else list(labels)))[-1]:
        # 1-D (binary): the score of the greater class; the other class's
        # one-vs-rest score is its negation.
        y_score = -y_score
    return float(roc_auc_score(y_true == class_label, y_score))


# -- scorers -------------------------------------------------------------------
_PROBA = ("predict_proba", "decision_function")


def _proba_method(labels):
    # Multiclass one-vs-rest metrics need probabilities; binary ones can rank
    # decision_function values when predict_proba is missing.
    if labels is not None and len(labels) > 2:
        return "predict_proba"
    return _PROBA


def _class_kwargs(labels, binary_only=False):
    if labels is None:
        return {}
    labels = np.asarray(labels)
    if len(labels) == 2:
        return {"pos_label": _py(labels[1]), "labels": labels}
    if binary_only:
        raise ValueError(
            f"This metric is binary; there are {len(labels)} classes {list(labels)}. "
            "Use the macro variant (e.g. 'f1_macro')."
        )
    return {"labels": labels}


_FACTORIES = {
    "accuracy": lambda labels: make_scorer(accuracy_score),
    "balanced_accuracy": lambda labels: make_scorer(balanced_accuracy_score),
    "f1": lambda labels: make_scorer(binary_f1, **_class_kwargs(labels, binary_only=True)),
    "f1_macro": lambda labels: make_scorer(
        macro_f1, **({} if labels is None else {"labels": np.asarray(labels)})
    ),
    "average_precision": lambda labels: make_scorer(
        average_precision, response_method=_proba_method(labels), **_class_kwargs(labels)
    ),
    "roc_auc": lambda labels: make_scorer(
        roc_auc, response_method=_proba_method(labels), **_class_kwargs(labels)
    ),
    "roc_auc_ovr": lambda labels: make_scorer(
        roc_auc, response_method=_proba_method(labels), **_class_kwargs(labels)
    ),
}

#: Scorers of the studies' metrics, with the classes inferred from ``y_true``:
#: ``accuracy``, ``balanced_accuracy``, ``f1`` (binary, positive class
#: ``classes_[1]``), ``f1_macro``, ``average_precision`` (PR-AUC; macro
#: one-vs-rest for multiclass), ``roc_auc`` (binary; macro one-vs-rest for
#: multiclass) and ``roc_auc_ovr`` (macro one-vs-rest). Prefer
#: :func:`get_scorers` with ``labels=`` when the classes are known.
STUDY_SCORERS = {name: factory(None) for name, factory in _FACTORIES.items()}


def per_class_roc_auc_scorer(class_label, *, labels=None):
    """Scorer of the one-vs-rest ROC AUC of one class.

    Parameters
    ----------
    class_label : label
        The class scored against all the others (e.g. ``"mitosis"``).
    labels : array-like, default=None
        All class labels, sorted as the estimator's ``classes_``; None infers
        them from ``y_true`` (multiclass only).

    Returns
    -------
    scorer : callable
        A scorer made by :func:`sklearn.metrics.make_scorer` on
        ``predict_proba``.
    """
    kwargs = {"class_label": _py(class_label)}
    if labels is not None:
        labels = np.asarray(labels)
        if class_label not in labels.tolist():
            raise ValueError(f"class_label={class_label!r} is not among {labels.tolist()}.")
        kwargs["labels"] = labels
    return make_scorer(_class_roc_auc, response_method="predict_proba", **kwargs)


def _per_class_scorers(labels):
    if labels is None:
        raise ValueError(
            "Per-class ROC AUC needs the class labels: call get_scorers(..., labels=...)."
        )
    return {
        f"roc_auc[{_py(label)}]": per_class_roc_auc_scorer(label, labels=labels)
        for label in labels
    }


def _resolve(name, labels):
    if name in _FACTORIES:
        return {name: _FACTORIES[name](labels)}
    if name == _PER_CLASS:
        return _per_class_scorers(labels)
    match = _PER_CLASS_NAME.match(name)
    if match:
        text = match.group("label")
        if labels is None:
            return {name: per_class_roc_auc_scorer(text)}
        found = [lab for lab in labels if str(lab) == text]
        if not found:
            raise ValueError(f"{name!r}: {text!r} is not among the labels {list(labels)}.")
        return {name: per_class_roc_auc_scorer(found[0], labels=labels)}
    try:
        return {name: get_scorer(name)}
    except ValueError as exc:
        raise ValueError(
            f"Unknown metric {name!r}; use one of {sorted(_FACTORIES)}, "
            f"'{_PER_CLASS}', 'roc_auc[<class>]', a study in {sorted(STUDY_METRICS)} "
            "or a scikit-learn scorer name."
        ) from exc


def get_scorers(names=None, *, n_classes=None, labels=None, per_class=None):
    """Return a ``{name: scorer}`` dict for cross-validation.

    Parameters
    ----------
    names : None, str, list of str or dict, default=None
        Metrics to score:

        - None: ``accuracy``, ``balanced_accuracy``, ``f1``,
          ``average_precision``, ``roc_auc`` for a binary problem;
          ``accuracy``, ``balanced_accuracy``, ``f1_macro``,
          ``average_precision`` (macro OvR), ``roc_auc_ovr`` (macro) for a
          multiclass one;
        - a study key of :data:`STUDY_METRICS` (``"study1"``: accuracy,
          PR-AUC, F1; ``"study2"``: accuracy, macro and per-class OvR AUC;
          ``"study3"``: AUC);
        - a name or a list of names among the keys of :data:`STUDY_SCORERS`,
          ``"roc_auc_per_class"`` (one ``roc_auc[<class>]`` per class),
          ``"roc_auc[<class>]"``, or any scikit-learn scorer name;
        - a dict ``{name: scorer or scorer name}``, returned with its names
          resolved.
    n_classes : int, default=None
        Number of classes; chooses the default metrics. Implied by ``labels``.
    labels : array-like, default=None
        Sorted class labels (the estimator's ``classes_``, i.e.
        ``numpy.unique(y)``). When given, the scorers use them instead of
        inferring the classes from each fold's ``y_true``, and binary scorers
        take ``labels[1]`` as the positive class, as scikit-learn does.
    per_class : bool, default=None
        Add one ``roc_auc[<class>]`` scorer per class (needs ``labels``).
        None adds them to the defaults of a multiclass problem when
        ``labels`` is given.

    Returns
    -------
    scorers : dict of str to callable

    Examples
    --------
    >>> from skmultimodal.metrics import get_scorers
    >>> sorted(get_scorers("study1", labels=["basal", "luminal"]))
    ['accuracy', 'average_precision', 'f1']
    >>> list(get_scorers("study2", labels=["a", "b", "c"]))
    ['accuracy', 'roc_auc_ovr', 'roc_auc[a]', 'roc_auc[b]', 'roc_auc[c]']
    """
    if labels is not None:
        labels = unique_labels(np.asarray(labels))
        if len(labels) < 2:
            raise ValueError(f"labels must hold at least two classes, got {list(labels)}.")
        if n_classes is not None and n_classes != len(labels):
            raise ValueError(f"n_classes={n_classes} but labels has {len(labels)} classes.")
        n_classes = len(labels)
    if n_classes is not None and (
        not isinstance(n_classes, numbers.Integral) or n_classes < 2
    ):
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    multiclass = n_classes is not None and n_classes > 2

    if isinstance(names, dict):
        out = {}
        for name, scorer in names.items():
            out.update({name: _resolve(scorer, labels)[scorer]} if isinstance(scorer, str)
                       else {name: scorer})
        return out
    if names is None:
        names = list(_MULTICLASS_DEFAULT if multiclass else _BINARY_DEFAULT)
        if per_class is None:
            per_class = multiclass and labels is not None
    elif isinstance(names, str):
        names = list(STUDY_METRICS.get(names, (names,)))
    else:
        names = list(names)
    if per_class and _PER_CLASS not in names:
        names.append(_PER_CLASS)
    out = {}
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"Metric names must be strings, got {name!r}; pass a dict "
                "{name: scorer} for custom scorers."
            )
        out.update(_resolve(name, labels))
    return out
