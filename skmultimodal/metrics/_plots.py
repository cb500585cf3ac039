"""ROC, precision-recall and confusion-matrix figures of several models.

The figures are built on scikit-learn's display classes
(:class:`~sklearn.metrics.RocCurveDisplay`,
:class:`~sklearn.metrics.PrecisionRecallDisplay`,
:class:`~sklearn.metrics.ConfusionMatrixDisplay`) from predictions, typically
out-of-fold predictions of cross-validation. The figures are made with
:mod:`matplotlib.pyplot`, so they show in notebooks, with ``plt.show()`` and in
sphinx-gallery; close them (``plt.close(fig)``) when making many in a loop.
"""

import math
from pathlib import Path

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay
from sklearn.utils.multiclass import unique_labels

__all__ = ["plot_confusion_matrix", "plot_pr_curves", "plot_roc_curves"]


def _figure(n_panels, panel_size=(5.0, 4.5)):
    import matplotlib.pyplot as plt

    n_cols = min(n_panels, 3)
    n_rows = math.ceil(n_panels / n_cols)
    fig = plt.figure(figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows),
                     layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _save(fig, path, dpi=120):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    return fig


def _named(scores, what):
    """``{name: array}`` from a dict, a list of pairs or a single array."""
    if isinstance(scores, dict):
        items = list(scores.items())
    elif isinstance(scores, (list, tuple)) and scores and all(
        isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str) for s in scores
    ):
        items = list(scores)
    else:
        items = [("model", scores)]
    if not items:
        raise ValueError(f"No {what} to plot.")
    return [(str(name), np.asarray(value)) for name, value in items]


def _classes_and_scores(y_true, scores, classes):
    """Return the classes and every model's (n, n_classes) or (n,) scores."""
    if classes is None:
        classes = unique_labels(y_true)
    classes = np.asarray(classes)
    out = []
    for name, s in scores:
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if s.ndim == 2 and s.shape[1] != len(classes):
            raise ValueError(
                f"Scores of {name!r} have {s.shape[1]} columns for {len(classes)} "
                f"classes {list(classes)}; pass classes= (the columns' labels)."
            )
        if s.ndim == 1 and len(classes) != 2:
            raise ValueError(f"Scores of {name!r} are 1-D but there are {len(classes)} classes.")
        if len(s) != len(y_true):
            raise ValueError(f"Scores of {name!r} have {len(s)} rows, y_true {len(y_true)}.")
        out.append((name, s))
    return classes, out


def _curves(display, y_true, scores, classes, pos_label, title, path, chance):
    y_true = np.asarray(y_true)
    classes, scores = _classes_and_scores(y_true, _named(scores, "scores"), classes)
    if len(classes) == 2:
        pos = classes[1] if pos_label is None else pos_label
        if pos not in classes.tolist():
            raise ValueError(f"pos_label={pos!r} is not among the classes {list(classes)}.")
        panels = [pos]
    else:
        panels = list(classes)
    fig, axes = _figure(len(panels))
    for ax, label in zip(axes, panels):
        j = classes.tolist().index(label)
        for k, (name, s) in enumerate(scores):
            if s.ndim == 1:  # score of classes[1]
                s_j = s if j == 1 else -s
            else:
                s_j = s[:, j]
            display.from_predictions(
                y_true == label, s_j, pos_label=True, name=name, ax=ax,
                plot_chance_level=chance and k == len(scores) - 1,
            )
        ax.set_title(f"{label} vs rest" if len(classes) > 2 else f"positive class: {label}")
        ax.legend(loc="lower right" if display is RocCurveDisplay else "lower left",
                  fontsize="small")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_roc_curves(y_true, scores, *, classes=None, pos_label=None, title=None,
                    path=None, chance_level=True):
    """ROC curves of several models, one curve per model with its AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    scores : dict of str to array-like, list of (str, array-like) or array-like
        Each model's predicted probabilities (or decision values), of shape
        (n_samples, n_classes) with columns ordered as ``classes``, or
        (n_samples,) for the score of ``classes[1]`` of a binary problem;
        usually out-of-fold predictions (see
        :attr:`~skmultimodal.model_selection.EvaluationReport.predictions`).
    classes : array-like, default=None
        Labels of the score columns; None takes the sorted labels of y_true.
    pos_label : label, default=None
        Positive class of a binary problem; None takes ``classes[1]``.
        Multiclass problems get one one-vs-rest panel per class.
    title : str, default=None
        Figure title.
    path : str or Path, default=None
        If given, the figure is saved there (PNG for a ``.png`` path).
    chance_level : bool, default=True
        Draw the chance-level diagonal.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from skmultimodal.metrics import plot_roc_curves
    >>> fig = plot_roc_curves([0, 0, 1, 1], {"a": [.1, .4, .35, .8], "b": [.2, .1, .6, .9]})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
    ['a (AUC = 0.75)', 'b (AUC = 1.00)']
    """
    return _curves(RocCurveDisplay, y_true, scores, classes, pos_label, title, path,
                   chance_level)


def plot_pr_curves(y_true, scores, *, classes=None, pos_label=None, title=None,
                   path=None, chance_level=True):
    """Precision-recall curves of several models, with their average precision.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    scores : dict of str to array-like, list of (str, array-like) or array-like
        As in :func:`plot_roc_curves`.
    classes : array-like, default=None
        Labels of the score columns; None takes the sorted labels of y_true.
    pos_label : label, default=None
        Positive class of a binary problem; None takes ``classes[1]``.
        Multiclass problems get one one-vs-rest panel per class.
    title : str, default=None
    path : str or Path, default=None
        If given, the figure is saved there.
    chance_level : bool, default=True
        Draw the prevalence of the positive class.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    return _curves(PrecisionRecallDisplay, y_true, scores, classes, pos_label, title, path,
                   chance_level)


def plot_confusion_matrix(y_true, y_pred, *, labels=None, normalize=None, title=None,
                          path=None, values_format=None):
    """Confusion matrices, one panel per model.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like, dict of str to array-like or list of (str, array-like)
        Predicted labels of one model, or of several by name.
    labels : array-like, default=None
        Class order; None takes the sorted labels of y_true and the predictions.
    normalize : {None, "true", "pred", "all"}, default=None
        As in :func:`sklearn.metrics.confusion_matrix`.
    title : str, default=None
    path : str or Path, default=None
        If given, the figure is saved there.
    values_format : str, default=None
        Format of the cell values (e.g. ``".2f"``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    y_true = np.asarray(y_true)
    preds = _named(y_pred, "predictions")
    if labels is None:
        labels = unique_labels(y_true, *[p for _, p in preds])
    fig, axes = _figure(len(preds))
    for ax, (name, pred) in zip(axes, preds):
        ConfusionMatrixDisplay.from_predictions(
            y_true, pred, labels=labels, normalize=normalize, ax=ax,
            values_format=values_format, colorbar=False,
        )
        if len(preds) > 1 or name != "model":
            ax.set_title(name)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
