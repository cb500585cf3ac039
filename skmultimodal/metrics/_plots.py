"""ROC, precision-recall and confusion-matrix figures of several models.

The displays follow scikit-learn's pattern: :class:`RocCurvesDisplay`,
:class:`PrecisionRecallCurvesDisplay` and :class:`ConfusionMatricesDisplay`
are built by ``from_estimator``, ``from_predictions`` (typically
out-of-fold predictions of cross-validation) or ``from_report`` (an
:class:`~skmultimodal.model_selection.EvaluationReport`), keep the computed
curves or matrices as attributes and draw them with ``plot(ax=None)``, one
panel per class (multiclass curves) or per model (confusion matrices), with
scikit-learn's :class:`~sklearn.metrics.RocCurveDisplay`,
:class:`~sklearn.metrics.PrecisionRecallDisplay` and
:class:`~sklearn.metrics.ConfusionMatrixDisplay`. :func:`plot_roc_curves`,
:func:`plot_pr_curves` and :func:`plot_confusion_matrix` return the figure of a
display. The figures are made with :mod:`matplotlib.pyplot`, so they show in
notebooks, with ``plt.show()`` and in sphinx-gallery; close them
(``plt.close(fig)``) when making many in a loop.
"""

import math
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    auc,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_curve,
)
from sklearn.utils.multiclass import unique_labels

__all__ = [
    "ConfusionMatricesDisplay",
    "PrecisionRecallCurvesDisplay",
    "RocCurvesDisplay",
    "plot_confusion_matrix",
    "plot_pr_curves",
    "plot_roc_curves",
]


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


def _axes(ax, n_panels):
    """The figure and the ``n_panels`` axes to draw on: new ones if ``ax`` is None."""
    if ax is None:
        return _figure(n_panels)
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) != n_panels:
        raise ValueError(f"ax must hold one Axes per panel ({n_panels}), got {len(axes)}.")
    return axes[0].figure, axes


def _report_values(report, models, field):
    """``{model: values}`` of an EvaluationReport's ``field`` for the chosen models."""
    models = report.models if models is None else (
        [models] if isinstance(models, str) else list(models))
    unknown = [m for m in models if m not in report.models]
    if unknown:
        raise ValueError(f"Unknown models {unknown}; known: {report.models}.")
    values = {m: getattr(report, field)[m] for m in models}
    missing = [m for m, v in values.items() if v is None]
    if missing:
        raise ValueError(f"Models {missing} have neither predict_proba nor "
                         "decision_function.")
    return values


def _estimator_items(estimator):
    """``[(name, fitted estimator)]`` from a dict, a list of pairs or one estimator."""
    if isinstance(estimator, dict):
        return list(estimator.items())
    if isinstance(estimator, (list, tuple)):
        return list(estimator)
    return [(type(estimator).__name__, estimator)]


def _estimator_scores(estimator, X, response_method):
    """Each estimator's ``predict_proba`` (or ``decision_function``) on X, and the
    classes of their columns."""
    scores, classes = {}, None
    for name, est in _estimator_items(estimator):
        method = response_method
        if method == "auto":
            method = "predict_proba" if hasattr(est, "predict_proba") \
                else "decision_function"
        if method not in ("predict_proba", "decision_function"):
            raise ValueError("response_method must be 'auto', 'predict_proba' or "
                             f"'decision_function', got {response_method!r}.")
        if classes is not None and not np.array_equal(est.classes_, classes):
            raise ValueError("The estimators were fitted on different classes.")
        classes = est.classes_
        scores[name] = getattr(est, method)(X)
    return scores, classes


def _estimator_predictions(estimator, X):
    return {name: est.predict(X) for name, est in _estimator_items(estimator)}


class _CurvesDisplay:
    """One curve per model, in one panel per class (the positive class if binary).

    Subclasses name the data of a curve (``_fields``, also their constructor's
    parameters and attributes), compute it (``_curve``) and draw it (``_draw``).
    """

    _legend_loc = "lower right"

    @property
    def models(self):
        """Model names, in drawing order."""
        return list(getattr(self, self._fields[0]))

    @property
    def panels(self):
        """Class of each panel: the positive class, or every class (one vs rest)."""
        return [self.pos_label] if len(self.classes) == 2 else list(self.classes)

    @classmethod
    def from_predictions(cls, y_true, y_score, *, classes=None, pos_label=None):
        """The curves of several models' predicted scores.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_score : dict of str to array-like, list of (str, array-like) or array-like
            Each model's predicted probabilities (or decision values), of shape
            (n_samples, n_classes) with columns ordered as ``classes``, or
            (n_samples,) for the score of ``classes[1]`` of a binary problem;
            usually out-of-fold predictions (see
            :attr:`~skmultimodal.model_selection.EvaluationReport.predictions`).
            A single array is named "model".
        classes : array-like, default=None
            Labels of the score columns; None takes the sorted labels of y_true.
        pos_label : label, default=None
            Positive class of a binary problem; None takes ``classes[1]``.
            Multiclass problems get one one-vs-rest panel per class.

        Returns
        -------
        display : the display, not yet drawn (call :meth:`plot`).
        """
        y_true = np.asarray(y_true)
        classes, scores = _classes_and_scores(y_true, _named(y_score, "scores"), classes)
        labels = classes.tolist()
        if len(classes) == 2:
            pos_label = labels[1] if pos_label is None else pos_label
            if pos_label not in labels:
                raise ValueError(
                    f"pos_label={pos_label!r} is not among the classes {labels}.")
            pos_label = labels[labels.index(pos_label)]  # a Python scalar
            panels = [pos_label]
        else:
            pos_label, panels = None, labels
        data = {field: {} for field in cls._fields}
        for name, s in scores:
            for field in cls._fields:
                data[field][name] = {}
            for label in panels:
                j = labels.index(label)
                if s.ndim == 1:  # score of classes[1]
                    s_j = s if j == 1 else -s
                else:
                    s_j = s[:, j]
                curve = cls._curve(y_true == label, s_j)
                for field, value in zip(cls._fields, curve):
                    data[field][name][label] = value
        return cls(**data, classes=classes, pos_label=pos_label)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, response_method="auto", pos_label=None):
        """The curves of fitted classifiers on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier, dict of str to fitted classifier or list
            of (str, fitted classifier)
            The models, by name (a single classifier is named after its class).
            They must share ``classes_``.
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels.
        response_method : {"auto", "predict_proba", "decision_function"}, \
                default="auto"
            Scores drawn; "auto" takes ``predict_proba`` when there is one.
        pos_label : label, default=None
            Positive class of a binary problem; None takes ``classes_[1]``.

        Returns
        -------
        display : the display, not yet drawn (call :meth:`plot`).
        """
        scores, classes = _estimator_scores(estimator, X, response_method)
        return cls.from_predictions(y, scores, classes=classes, pos_label=pos_label)

    @classmethod
    def from_report(cls, report, models=None, *, pos_label=None):
        """The curves of the out-of-fold predictions of an evaluation report.

        Parameters
        ----------
        report : :class:`~skmultimodal.model_selection.EvaluationReport`
        models : str or list of str, default=None
            Models to draw; None draws all.
        pos_label : label, default=None
            Positive class of a binary problem; None takes ``classes[1]``.

        Returns
        -------
        display : the display, not yet drawn (call :meth:`plot`).
        """
        return cls.from_predictions(report.y_true, _report_values(report, models, "scores"),
                                    classes=report.classes, pos_label=pos_label)

    def plot(self, ax=None, *, chance_level=True, title=None):
        """Draw the curves: one panel per class, one curve per model.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            One Axes per panel (one for a binary problem, one per class
            otherwise); None makes a new pyplot figure.
        chance_level : bool, default=True
            Draw the chance level in every panel.
        title : str, default=None
            Title of the figure.

        Returns
        -------
        self
            With ``figure_``, ``axes_`` (one Axes per panel) and ``ax_`` (the
            first panel's Axes).
        """
        fig, axes = _axes(ax, len(self.panels))
        models = self.models
        for panel, label in zip(axes, self.panels):
            for k, name in enumerate(models):
                self._draw(panel, name, label, chance_level and k == len(models) - 1)
            panel.set_title(f"{label} vs rest" if len(self.classes) > 2
                            else f"positive class: {label}")
            panel.legend(loc=self._legend_loc, fontsize="small")
        if title:
            fig.suptitle(title)
        self.figure_, self.axes_, self.ax_ = fig, axes, axes[0]
        return self


class RocCurvesDisplay(_CurvesDisplay):
    """ROC curves of several models, one curve per model with its AUC.

    A binary problem is one panel (the positive class); a multiclass problem
    gets one one-vs-rest panel per class. Build it with
    :meth:`from_predictions`, :meth:`from_estimator` or :meth:`from_report`,
    then draw it with :meth:`plot`. Each curve is drawn by
    :class:`sklearn.metrics.RocCurveDisplay`.

    Parameters
    ----------
    fpr, tpr : dict of str to dict of label to ndarray
        False and true positive rates of each model (first key) in each panel
        (second key: the class drawn against the rest).
    roc_auc : dict of str to dict of label to float
        Area under each curve.
    classes : array-like
        Class labels.
    pos_label : label, default=None
        Positive class of a binary problem (None for multiclass).

    Attributes
    ----------
    fpr, tpr, roc_auc, classes, pos_label
        The parameters.
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes
        One per panel (after :meth:`plot`).
    ax_ : matplotlib Axes
        The first panel.

    See Also
    --------
    plot_roc_curves : The figure of ``from_predictions(...).plot()``.

    Examples
    --------
    >>> from skmultimodal.metrics import RocCurvesDisplay
    >>> display = RocCurvesDisplay.from_predictions(
    ...     [0, 0, 1, 1], {"a": [.1, .4, .35, .8], "b": [.2, .1, .6, .9]})
    >>> display.roc_auc
    {'a': {1: 0.75}, 'b': {1: 1.0}}
    >>> display = display.plot()
    >>> [t.get_text() for t in display.ax_.get_legend().get_texts()][:2]
    ['a (AUC = 0.75)', 'b (AUC = 1.00)']
    """

    _fields = ("fpr", "tpr", "roc_auc")

    def __init__(self, *, fpr, tpr, roc_auc, classes, pos_label=None):
        self.fpr = fpr
        self.tpr = tpr
        self.roc_auc = roc_auc
        self.classes = np.asarray(classes)
        self.pos_label = pos_label

    @staticmethod
    def _curve(y_true, y_score):
        fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=True)
        return fpr, tpr, float(auc(fpr, tpr))

    def _draw(self, ax, name, label, chance):
        RocCurveDisplay(fpr=self.fpr[name][label], tpr=self.tpr[name][label],
                        roc_auc=self.roc_auc[name][label], name=name,
                        pos_label=True).plot(ax=ax, plot_chance_level=chance)


class PrecisionRecallCurvesDisplay(_CurvesDisplay):
    """Precision-recall curves of several models, with their average precision.

    A binary problem is one panel (the positive class); a multiclass problem
    gets one one-vs-rest panel per class. Build it with
    :meth:`from_predictions`, :meth:`from_estimator` or :meth:`from_report`,
    then draw it with :meth:`plot`; the chance level is the prevalence of
    the panel's class. Each curve is drawn by
    :class:`sklearn.metrics.PrecisionRecallDisplay`.

    Parameters
    ----------
    precision, recall : dict of str to dict of label to ndarray
        Curve of each model (first key) in each panel (second key: the class
        drawn against the rest).
    average_precision : dict of str to dict of label to float
    prevalence : dict of str to dict of label to float
        Share of the panel's class among the samples (the chance level).
    classes : array-like
        Class labels.
    pos_label : label, default=None
        Positive class of a binary problem (None for multiclass).

    Attributes
    ----------
    precision, recall, average_precision, prevalence, classes, pos_label
        The parameters.
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes
        One per panel (after :meth:`plot`).
    ax_ : matplotlib Axes
        The first panel.

    See Also
    --------
    plot_pr_curves : The figure of ``from_predictions(...).plot()``.
    """

    _legend_loc = "lower left"

    _fields = ("precision", "recall", "average_precision", "prevalence")

    def __init__(self, *, precision, recall, average_precision, prevalence, classes,
                 pos_label=None):
        self.precision = precision
        self.recall = recall
        self.average_precision = average_precision
        self.prevalence = prevalence
        self.classes = np.asarray(classes)
        self.pos_label = pos_label

    @staticmethod
    def _curve(y_true, y_score):
        precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=True)
        return (precision, recall, float(average_precision_score(y_true, y_score)),
                float(np.mean(y_true)))

    def _draw(self, ax, name, label, chance):
        PrecisionRecallDisplay(
            self.precision[name][label], self.recall[name][label],
            average_precision=self.average_precision[name][label], name=name,
            pos_label=True, prevalence_pos_label=self.prevalence[name][label],
        ).plot(ax=ax, plot_chance_level=chance)


def plot_roc_curves(y_true, scores, *, classes=None, pos_label=None, title=None,
                    path=None, chance_level=True):
    """ROC curves of several models, one curve per model with its AUC.

    The figure of :class:`RocCurvesDisplay`, saved on request.

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
    display = RocCurvesDisplay.from_predictions(y_true, scores, classes=classes,
                                                pos_label=pos_label)
    return _save(display.plot(chance_level=chance_level, title=title).figure_, path)


def plot_pr_curves(y_true, scores, *, classes=None, pos_label=None, title=None,
                   path=None, chance_level=True):
    """Precision-recall curves of several models, with their average precision.

    The figure of :class:`PrecisionRecallCurvesDisplay`, saved on request.

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
    display = PrecisionRecallCurvesDisplay.from_predictions(
        y_true, scores, classes=classes, pos_label=pos_label)
    return _save(display.plot(chance_level=chance_level, title=title).figure_, path)


class ConfusionMatricesDisplay:
    """Confusion matrices of several models, one panel per model.

    Build it with :meth:`from_predictions`, :meth:`from_estimator` or
    :meth:`from_report`, then draw it with :meth:`plot`. Each panel is drawn
    by :class:`sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    confusion_matrix : dict of str to ndarray of shape (n_classes, n_classes)
        Confusion matrix of each model (rows: true class, columns: predicted).
    display_labels : array-like of shape (n_classes,)
        Class labels, in the order of the rows and columns.
    normalize : {None, "true", "pred", "all"}, default=None
        How the matrices were normalized.

    Attributes
    ----------
    confusion_matrix : dict of str to ndarray
    display_labels : ndarray
    normalize : str or None
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes
        One per model (after :meth:`plot`).
    ax_ : matplotlib Axes
        The first model's panel.

    See Also
    --------
    plot_confusion_matrix : The figure of ``from_predictions(...).plot()``.
    """

    def __init__(self, confusion_matrix, *, display_labels, normalize=None):
        self.confusion_matrix = confusion_matrix
        self.display_labels = np.asarray(display_labels)
        self.normalize = normalize

    @property
    def models(self):
        """Model names, in drawing order."""
        return list(self.confusion_matrix)

    @classmethod
    def from_predictions(cls, y_true, y_pred, *, labels=None, normalize=None):
        """The confusion matrices of several models' predicted labels.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like, dict of str to array-like or list of (str, array-like)
            Predicted labels of one model (named "model"), or of several by name.
        labels : array-like, default=None
            Class order; None takes the sorted labels of y_true and the
            predictions.
        normalize : {None, "true", "pred", "all"}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`.

        Returns
        -------
        display : ConfusionMatricesDisplay
            Not yet drawn (call :meth:`plot`).
        """
        y_true = np.asarray(y_true)
        preds = _named(y_pred, "predictions")
        if labels is None:
            labels = unique_labels(y_true, *[p for _, p in preds])
        matrices = {name: confusion_matrix(y_true, pred, labels=labels,
                                           normalize=normalize)
                    for name, pred in preds}
        return cls(matrices, display_labels=labels, normalize=normalize)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, labels=None, normalize=None):
        """The confusion matrices of fitted classifiers on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier, dict of str to fitted classifier or list
            of (str, fitted classifier)
            The models, by name (a single classifier is named after its class).
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels.
        labels : array-like, default=None
            Class order; None takes the sorted labels of y and the predictions.
        normalize : {None, "true", "pred", "all"}, default=None

        Returns
        -------
        display : ConfusionMatricesDisplay
        """
        return cls.from_predictions(y, _estimator_predictions(estimator, X),
                                    labels=labels, normalize=normalize)

    @classmethod
    def from_report(cls, report, models=None, *, normalize=None):
        """The confusion matrices of the out-of-fold predictions of a report.

        Parameters
        ----------
        report : :class:`~skmultimodal.model_selection.EvaluationReport`
        models : str or list of str, default=None
            Models to show; None shows all.
        normalize : {None, "true", "pred", "all"}, default=None

        Returns
        -------
        display : ConfusionMatricesDisplay
        """
        return cls.from_predictions(report.y_true, _report_values(report, models, "y_pred"),
                                    labels=report.classes, normalize=normalize)

    def plot(self, ax=None, *, values_format=None, title=None):
        """Draw one confusion matrix per model.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            One Axes per model; None makes a new pyplot figure.
        values_format : str, default=None
            Format of the cell values (e.g. ``".2f"``).
        title : str, default=None
            Title of the figure.

        Returns
        -------
        self
            With ``figure_``, ``axes_`` (one Axes per model) and ``ax_``.
        """
        fig, axes = _axes(ax, len(self.models))
        for panel, name in zip(axes, self.models):
            ConfusionMatrixDisplay(self.confusion_matrix[name],
                                   display_labels=self.display_labels).plot(
                ax=panel, values_format=values_format, colorbar=False)
            if len(self.models) > 1 or name != "model":
                panel.set_title(name)
        if title:
            fig.suptitle(title)
        self.figure_, self.axes_, self.ax_ = fig, axes, axes[0]
        return self


def plot_confusion_matrix(y_true, y_pred, *, labels=None, normalize=None, title=None,
                          path=None, values_format=None):
    """Confusion matrices, one panel per model.

    The figure of :class:`ConfusionMatricesDisplay`, saved on request.

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
    display = ConfusionMatricesDisplay.from_predictions(y_true, y_pred, labels=labels,
                                                        normalize=normalize)
    return _save(display.plot(values_format=values_format, title=title).figure_, path)
