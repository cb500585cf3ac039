"""Cross-validated comparison of several models on the same folds."""

import dataclasses
import math
import numbers
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import cross_validate
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ..metrics import (
    ConfusionMatricesDisplay,
    PrecisionRecallCurvesDisplay,
    RocCurvesDisplay,
    get_scorers,
)
from ..metrics._plots import _save
from ._splits import check_splits, make_cv
from ._survival_metrics import (
    check_survival_y,
    defined_scorers,
    get_survival_scorers,
    is_survival_task,
    no_score,
    survival_out_of_fold,
    survival_predictions,
    survival_time_grid,
)

__all__ = ["EvaluationReport", "evaluate"]

#: Columns of :attr:`EvaluationReport.summary`, in order.
SUMMARY_COLUMNS = ["model", "metric", "mean", "std", "pooled", "ci_low", "ci_high",
                   "n_folds"]


class _StoredPredictions(ClassifierMixin, BaseEstimator):
    """Replays stored predictions to a scikit-learn scorer.

    ``X`` given to its methods is an array of positions into the stored
    arrays, so any scorer (made by ``make_scorer`` or ``get_scorer``) can
    score a subset, e.g. a bootstrap resample, of out-of-fold predictions.
    """

    def __init__(self, classes, y_pred, scores, response_method):
        self.classes = classes
        self.y_pred = y_pred
        self.scores = scores
        self.response_method = response_method
        self.classes_ = classes

    def predict(self, X):
        return self.y_pred[np.asarray(X)]

    @available_if(lambda self: self.response_method == "predict_proba")
    def predict_proba(self, X):
        return self.scores[np.asarray(X)]

    @available_if(lambda self: self.response_method == "predict_proba")
    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(lambda self: self.response_method == "decision_function")
    def decision_function(self, X):
        return self.scores[np.asarray(X)]


def _check_estimators(estimators):
    if isinstance(estimators, dict):
        items = list(estimators.items())
    elif isinstance(estimators, (list, tuple)):
        items = []
        for item in estimators:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(
                    "estimators must be a dict {name: estimator}, a list of (name, "
                    f"estimator) pairs or one estimator; got the item {item!r}."
                )
            items.append(item)
    elif hasattr(estimators, "fit"):
        items = [(type(estimators).__name__, estimators)]
    else:
        raise TypeError(f"estimators must be a dict, a list of pairs or an estimator, "
                        f"got {type(estimators).__name__}.")
    if not items:
        raise ValueError("No estimator to evaluate.")
    names = [name for name, _ in items]
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"Estimator names must be strings, got {names}.")
    if len(set(names)) != len(names):
        raise ValueError(f"Estimator names must be unique, got {names}.")
    for name, est in items:
        if isinstance(est, type) or not hasattr(est, "fit"):
            raise TypeError(f"Estimator {name!r} is not an estimator instance: {est!r}.")
    return items


def _check_confidence(confidence):
    if not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    return float(confidence)


def _check_n_bootstrap(n_bootstrap):
    if (not isinstance(n_bootstrap, numbers.Integral) or isinstance(n_bootstrap, bool)
            or n_bootstrap < 0):
        raise ValueError(f"n_bootstrap must be a non-negative int, got {n_bootstrap!r}.")
    return int(n_bootstrap)


def _score(scorer, replay, positions, y):
    """Score stored predictions at ``positions``; NaN where the metric is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(scorer(replay, positions, y[positions]))
        except (ValueError, ZeroDivisionError, IndexError):
            return math.nan
    return value


def _bootstrap_positions(n_entries, entry_groups, rng):
    """Positions of one bootstrap resample: rows, or whole groups with replacement."""
    if entry_groups is None:
        return rng.integers(n_entries, size=n_entries)
    drawn = rng.integers(len(entry_groups), size=len(entry_groups))
    return np.concatenate([entry_groups[g] for g in drawn])


def _group_members(groups):
    """Positions of the entries of each group, as a list of arrays."""
    _, codes = np.unique(groups, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


_BLOCK = 50  # bootstrap resamples per random stream (and per parallel task)


def _bootstrap_block(scorers, replay, y, n, seed, entry_groups):
    rng = np.random.default_rng(seed)
    values = np.full((n, len(scorers)), math.nan)
    for b in range(n):
        positions = _bootstrap_positions(len(y), entry_groups, rng)
        for j, scorer in enumerate(scorers.values()):
            values[b, j] = _score(scorer, replay, positions, y)
    return values


def _bootstrap(scorers, replay, y, n_bootstrap, confidence, seed, entry_groups, n_jobs):
    """Percentile bootstrap interval of every metric; dict name -> (low, high).

    The resamples are drawn in blocks of ``_BLOCK``, each from its own stream
    spawned from ``seed``, so the result does not depend on ``n_jobs``.
    """
    if n_bootstrap == 0:
        return {name: (math.nan, math.nan) for name in scorers}
    sizes = [min(_BLOCK, n_bootstrap - start) for start in range(0, n_bootstrap, _BLOCK)]
    streams = np.random.SeedSequence(seed).spawn(len(sizes))
    blocks = Parallel(n_jobs=n_jobs)(
        delayed(_bootstrap_block)(scorers, replay, y, size, stream, entry_groups)
        for size, stream in zip(sizes, streams)
    )
    values = np.vstack(blocks)
    alpha = (1.0 - confidence) / 2.0
    out = {}
    for j, name in enumerate(scorers):
        valid = values[~np.isnan(values[:, j]), j]
        if len(valid) < n_bootstrap / 2:
            warnings.warn(
                f"The metric {name!r} is undefined on {n_bootstrap - len(valid)} of "
                f"{n_bootstrap} bootstrap resamples; its interval is left NaN.",
                RuntimeWarning, stacklevel=3,
            )
            out[name] = (math.nan, math.nan)
        else:
            low, high = np.percentile(valid, [100 * alpha, 100 * (1 - alpha)])
            out[name] = (float(low), float(high))
    return out


def _oof(fitted_estimators, test_indices, X, classes):
    """Out-of-fold predictions of the fitted fold estimators, in fold order."""
    preds, scores, method = [], [], None
    for est, test in zip(fitted_estimators, test_indices):
        X_test = _safe_indexing(X, test)
        preds.append(np.asarray(est.predict(X_test)))
        if hasattr(est, "predict_proba"):
            fold_method, s = "predict_proba", np.asarray(est.predict_proba(X_test), float)
            full = np.zeros((len(test), len(classes)))
            cols = np.searchsorted(classes, est.classes_)
            full[:, cols] = s
            s = full
        elif hasattr(est, "decision_function"):
            fold_method, s = "decision_function", np.asarray(est.decision_function(X_test),
                                                             float)
        else:
            fold_method, s = None, None
        if method is not None and fold_method != method:
            raise ValueError("The fold estimators do not offer the same prediction methods.")
        method = fold_method
        scores.append(s)
    pred = np.concatenate(preds)
    score = None if method is None else np.concatenate(scores)
    return pred, score, method


def _check_names(names, known, what):
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Unknown {what} {unknown}; known: {list(known)}.")


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class EvaluationReport:
    """Results of :func:`evaluate`: summary table, per-fold scores, predictions.

    Reports of models evaluated on the same folds are combined with
    :meth:`concat`; :meth:`rename` renames models and :meth:`rename_classes`
    relabels the classes.

    A report of survival models (``times`` is not None) has the same tables;
    its ``y_true`` is the survival target, ``y_pred`` holds the risk scores
    and ``scores`` the survival probabilities at ``times``. It has no
    classes, so the ROC, precision-recall and confusion figures and
    :meth:`rename_classes` refuse it.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per (model, metric), columns ``model``, ``metric``, ``mean``
        and ``std`` (over folds, ``ddof=1``), ``pooled`` (the metric on the
        pooled out-of-fold predictions), ``ci_low``, ``ci_high`` (percentile
        bootstrap interval of the pooled metric) and ``n_folds``;
        :func:`modality_ablation` adds
        ``modalities`` and ``n_modalities``.
    folds : pandas.DataFrame
        One row per (model, fold, metric): ``model``, ``fold``, ``n_train``,
        ``n_test``, ``fit_time``, ``score_time``, ``metric``, ``score``.
    classes : ndarray
        Sorted class labels (the columns of the probabilities); empty for
        survival models.
    y_true : ndarray
        True label of each out-of-fold prediction (survival models: its
        (event, time) entry of the structured target).
    rows : ndarray of int
        Position in X of each out-of-fold prediction.
    fold : ndarray of int
        Fold of each out-of-fold prediction.
    y_pred : dict of str to ndarray
        Out-of-fold predicted labels of each model (survival models: risk
        scores, higher meaning an earlier event).
    scores : dict of str to ndarray
        Out-of-fold ``predict_proba`` (n, n_classes) of each model, or its
        ``decision_function`` when it has no ``predict_proba`` (see
        ``response_method``). Survival models: survival probabilities at
        ``times``, shape (n, n_times), or None without
        ``predict_survival_function``.
    response_method : dict of str to str
    splits : list of (train, test) index arrays
        The folds shared by all models.
    cv : cross-validation object
        The splitter that made them.
    index : pandas.Index
        Row labels of X (its index if X is a DataFrame).
    confidence, n_bootstrap : float, int
        Bootstrap settings.
    estimators : dict of str to list of estimators or None
        The fitted estimator of each fold (``return_estimators=True`` only).
    times : ndarray or None
        Survival models only: the evaluation times of the time-dependent
        metrics (the last is ``tau`` of Uno's C); None for classifiers.
    """

    summary: pd.DataFrame
    folds: pd.DataFrame
    classes: np.ndarray
    y_true: np.ndarray
    rows: np.ndarray
    fold: np.ndarray
    y_pred: dict
    scores: dict
    response_method: dict
    splits: list
    cv: object
    index: pd.Index
    confidence: float
    n_bootstrap: int
    estimators: dict | None = None
    times: np.ndarray | None = None

    #: Fields holding one entry per model, keyed by model name.
    _MODEL_FIELDS = ("y_pred", "scores", "response_method", "estimators")

    @classmethod
    def concat(cls, reports):
        """One report of the models of several, evaluated on the same folds.

        Parameters
        ----------
        reports : list of EvaluationReport
            Reports computed on the same folds (same rows in the same order,
            same labels), with the same metrics and bootstrap settings, and
            no model name in two of them.

        Returns
        -------
        report : EvaluationReport
            Models in the order of ``reports``. ``estimators`` is kept only
            when every report has it. Summary columns present in some
            reports only (e.g. ``modalities`` of :func:`modality_ablation`)
            are NaN for the others.

        Raises
        ------
        ValueError
            If the reports differ in folds, classes, metrics, evaluation
            times or bootstrap settings, or share a model name.
        """
        reports = list(reports)
        if not reports:
            raise ValueError("No report to concatenate.")
        first = reports[0]
        for other in reports[1:]:
            same_folds = (
                len(other.splits) == len(first.splits)
                and all(np.array_equal(a[1], b[1])
                        for a, b in zip(first.splits, other.splits))
                and np.array_equal(other.rows, first.rows)
                and np.array_equal(other.y_true, first.y_true)
            )
            if not same_folds:
                raise ValueError("The reports were not computed on the same folds.")
            if (first.times is None) != (other.times is None) or (
                    first.times is not None
                    and not np.array_equal(first.times, other.times)):
                raise ValueError("The reports have different evaluation times (or mix "
                                 "classifiers and survival models).")
            if not np.array_equal(other.classes, first.classes):
                raise ValueError(f"The reports have different classes: "
                                 f"{list(first.classes)} and {list(other.classes)}.")
            if other.metrics != first.metrics:
                raise ValueError(f"The reports have different metrics: {first.metrics} "
                                 f"and {other.metrics}.")
            if (other.confidence, other.n_bootstrap) != (first.confidence,
                                                         first.n_bootstrap):
                raise ValueError("The reports have different bootstrap settings.")
        models = [m for r in reports for m in r.models]
        repeated = sorted({m for m in models if models.count(m) > 1})
        if repeated:
            raise ValueError(f"Models {repeated} are in several reports; rename them "
                             "first (EvaluationReport.rename).")
        merged = {}
        for name in cls._MODEL_FIELDS:
            dicts = [getattr(r, name) for r in reports]
            merged[name] = None if any(d is None for d in dicts) else {
                k: v for d in dicts for k, v in d.items()}
        return dataclasses.replace(
            first,
            summary=pd.concat([r.summary for r in reports], ignore_index=True),
            folds=pd.concat([r.folds for r in reports], ignore_index=True),
            **merged,
        )

    def rename(self, mapping):
        """The report with models renamed (in every table and dict).

        Parameters
        ----------
        mapping : dict of str to str
            New name of some models; the others keep theirs.

        Returns
        -------
        report : EvaluationReport
            A new report; this one is left unchanged.

        Raises
        ------
        ValueError
            If ``mapping`` names an unknown model or the new names collide.
        """
        _check_names(list(mapping), self.models, "models")
        new_names = [mapping.get(m, m) for m in self.models]
        if len(set(new_names)) != len(new_names):
            raise ValueError(f"Renaming gives duplicate model names: {new_names}.")

        def new(name):
            return mapping.get(name, name)

        tables = {}
        for name in ("summary", "folds"):
            table = getattr(self, name).copy()
            table["model"] = table["model"].map(new)
            tables[name] = table
        per_model = {
            name: None if getattr(self, name) is None
            else {new(k): v for k, v in getattr(self, name).items()}
            for name in self._MODEL_FIELDS
        }
        return dataclasses.replace(self, **tables, **per_model)

    def rename_classes(self, names):
        """The report with its class labels replaced.

        Labels, predictions and per-class metric names (``roc_auc[<label>]``)
        change; scores do not (their columns keep the order of
        ``classes``).

        Parameters
        ----------
        names : array-like of shape (n_classes,) or dict
            New label of each class, in the order of ``classes``, or a
            dict from old to new label (classes left out keep theirs).

        Returns
        -------
        report : EvaluationReport
            A new report; this one is left unchanged.

        Raises
        ------
        ValueError
            For a report of survival models (it has no classes), or names
            that do not fit the classes.

        Examples
        --------
        A model trained on integer codes 0..k-1 gets its class names back
        with ``report.rename_classes(["benign", "malignant"])``.
        """
        self._check_classification("rename_classes")
        if isinstance(names, dict):
            _check_names(list(names), self.classes.tolist(), "classes")
            names = [names.get(c, c) for c in self.classes.tolist()]
        names = np.asarray(names, dtype=object)
        if names.shape != self.classes.shape:
            raise ValueError(f"names has {len(names)} labels for {len(self.classes)} "
                             f"classes {list(self.classes)}.")
        if len(set(names.tolist())) != len(names):
            raise ValueError(f"Class names must be unique, got {names.tolist()}.")

        def relabel(labels):
            return names[pd.Index(self.classes).get_indexer(labels)]

        old = {str(c): new for c, new in zip(self.classes.tolist(), names)}
        renames = {}
        for metric in self.metrics:
            base, bracket, label = metric.rpartition("[")
            if bracket and label.endswith("]") and label[:-1] in old:
                renames[metric] = f"{base}[{old[label[:-1]]}]"
        tables = {}
        for name in ("summary", "folds"):
            table = getattr(self, name).copy()
            table["metric"] = table["metric"].replace(renames)
            tables[name] = table
        return dataclasses.replace(
            self, **tables, classes=names, y_true=relabel(self.y_true),
            y_pred={k: relabel(v) for k, v in self.y_pred.items()},
        )

    @property
    def models(self):
        """Model names, in evaluation order."""
        return list(self.y_pred)

    @property
    def metrics(self):
        """Metric names, in scoring order."""
        return list(dict.fromkeys(self.summary["metric"]))

    @property
    def predictions(self):
        """Out-of-fold predictions of each model as a DataFrame.

        Returns
        -------
        predictions : dict of str to pandas.DataFrame
            Indexed by the row labels of X, with columns ``fold``, ``y_true``,
            ``y_pred`` and ``proba_<class>`` per class (``decision_<class>``,
            or ``decision`` for a binary problem, without ``predict_proba``).
            Survival models: ``fold``, ``event``, ``time``, ``risk`` and
            ``survival_<t>`` per evaluation time.
        """
        if self.times is not None:
            return survival_predictions(self)
        out = {}
        for model in self.models:
            frame = pd.DataFrame(
                {"fold": self.fold, "y_true": self.y_true, "y_pred": self.y_pred[model]},
                index=self.index[self.rows],
            )
            scores = self.scores[model]
            if scores is not None:
                prefix = "proba" if self.response_method[model] == "predict_proba" \
                    else "decision"
                if scores.ndim == 1:
                    frame[prefix] = scores
                else:
                    for j, label in enumerate(self.classes):
                        frame[f"{prefix}_{label}"] = scores[:, j]
            out[model] = frame
        return out

    def pivot(self, values="mean"):
        """Wide table: one row per model, one column per metric.

        Parameters
        ----------
        values : str, default="mean"
            Column of ``summary`` to spread (e.g. "pooled", "ci_low").

        Returns
        -------
        table : pandas.DataFrame
        """
        table = self.summary.pivot(index="model", columns="metric", values=values)
        return table.loc[self.models, self.metrics]

    def to_markdown(self, path=None, *, digits=3, ci=True):
        """Markdown table: a row per model, a column per metric.

        Cells read ``mean ± std [ci_low, ci_high]`` (fold mean and standard
        deviation, bootstrap interval of the pooled metric).

        Parameters
        ----------
        path : str or Path, default=None
            If given, the table is also written there.
        digits : int, default=3
        ci : bool, default=True
            Include the confidence interval.

        Returns
        -------
        text : str
        """
        f = f"{{:.{digits}f}}"
        lines = ["| model | " + " | ".join(self.metrics) + " |",
                 "|---|" + "---|" * len(self.metrics)]
        by_key = self.summary.set_index(["model", "metric"])
        for model in self.models:
            cells = []
            for metric in self.metrics:
                r = by_key.loc[(model, metric)]
                cell = f.format(r["mean"])
                if not math.isnan(r["std"]):
                    cell += " ± " + f.format(r["std"])
                if ci and not math.isnan(r["ci_low"]):
                    cell += f" [{f.format(r['ci_low'])}, {f.format(r['ci_high'])}]"
                cells.append(cell)
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path, *, which="summary"):
        """Write the summary (or the per-fold scores) to a CSV file.

        Parameters
        ----------
        path : str or Path
        which : {"summary", "folds"}, default="summary"

        Returns
        -------
        path : Path
        """
        if which not in ("summary", "folds"):
            raise ValueError(f"which must be 'summary' or 'folds', got {which!r}.")
        path = Path(path)
        getattr(self, which).to_csv(path, index=False)
        return path

    def plot_roc(self, models=None, *, path=None, title=None):
        """ROC curves of the out-of-fold predictions, AUC in the legend.

        One-vs-rest per class for multiclass.

        The figure of :meth:`RocCurvesDisplay.from_report
        <skmultimodal.metrics.RocCurvesDisplay.from_report>`, whose display
        keeps the curves.

        Parameters
        ----------
        models : str or list of str, default=None
            Models to show; None shows all.
        path : str or Path, default=None
            If given, the figure is saved there.
        title : str, default=None

        Returns
        -------
        fig : matplotlib.figure.Figure

        Raises
        ------
        ValueError
            For a report of survival models.
        """
        self._check_classification("plot_roc")
        display = RocCurvesDisplay.from_report(self, models).plot(title=title)
        return _save(display.figure_, path)

    def plot_pr(self, models=None, *, path=None, title=None):
        """Precision-recall curves of the out-of-fold predictions.

        Average precision in the legend.

        The figure of :meth:`PrecisionRecallCurvesDisplay.from_report
        <skmultimodal.metrics.PrecisionRecallCurvesDisplay.from_report>`.

        Parameters
        ----------
        models : str or list of str, default=None
            Models to show; None shows all.
        path : str or Path, default=None
            If given, the figure is saved there.
        title : str, default=None

        Returns
        -------
        fig : matplotlib.figure.Figure

        Raises
        ------
        ValueError
            For a report of survival models.
        """
        self._check_classification("plot_pr")
        display = PrecisionRecallCurvesDisplay.from_report(self, models).plot(title=title)
        return _save(display.figure_, path)

    def plot_confusion(self, models=None, *, normalize=None, path=None, title=None):
        """Confusion matrix of the out-of-fold predictions, a panel per model.

        The figure of :meth:`ConfusionMatricesDisplay.from_report
        <skmultimodal.metrics.ConfusionMatricesDisplay.from_report>`.

        Parameters
        ----------
        models : str or list of str, default=None
            Models to show; None shows all.
        normalize : {None, "true", "pred", "all"}, default=None
        path : str or Path, default=None
        title : str, default=None

        Returns
        -------
        fig : matplotlib.figure.Figure

        Raises
        ------
        ValueError
            For a report of survival models.
        """
        self._check_classification("plot_confusion")
        display = ConfusionMatricesDisplay.from_report(self, models, normalize=normalize)
        return _save(display.plot(values_format=".2f" if normalize else None,
                                  title=title).figure_, path)

    def _check_classification(self, what):
        if self.times is not None:
            raise ValueError(
                f"{what} needs classifiers; this report is of survival models (risk "
                "scores, no classes). Draw risk groups with "
                "skmultimodal.metrics.KaplanMeierDisplay instead."
            )

    def __repr__(self):
        n_folds = len(self.splits)
        head = (f"EvaluationReport({len(self.models)} model(s), {len(self.metrics)} "
                f"metric(s), {n_folds} folds, {self.confidence:.0%} bootstrap CI)")
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            return head + "\n" + self.summary.to_string(index=False, float_format="%.4f")

    def _repr_html_(self):
        return self.summary._repr_html_()


def evaluate(estimators, X, y, *, groups=None, cv=5, scoring=None, times=None,
             n_bootstrap=1000, confidence=0.95, random_state=0, n_jobs=None, params=None,
             bootstrap_groups=False, return_estimators=False, error_score="raise",
             plot_dir=None, verbose=0):
    """Cross-validate several models on the same folds and tabulate their metrics.

    Every model is fitted on the same training folds (a clone per fold, so
    all preprocessing is learnt inside the fold) by
    :func:`sklearn.model_selection.cross_validate`, which scores it on the
    test fold. The fitted fold models then predict their test folds to give
    out-of-fold predictions, from which the confidence intervals and the
    figures are computed.

    Confidence intervals are percentile bootstrap intervals of the metric
    computed on the pooled out-of-fold predictions (the ``pooled`` column):
    ``n_bootstrap`` times, as many predictions as there are drawn with
    replacement (whole groups with ``bootstrap_groups=True``) and the
    metric is recomputed; the interval spans the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles of those values. The models are
    not refitted, so the interval reflects the finite test set, not the
    variability of training. All models see the same resamples (paired
    bootstrap). Resamples on which a metric is undefined (e.g. a single
    class for ROC AUC) are skipped.

    **Survival models.** With ``y`` a scikit-survival structured array
    (event, time) and survival estimators (anything with scikit-survival's
    interface: the networks of :mod:`skmultimodal.survival`, scikit-survival's
    models such as ``CoxPHSurvivalAnalysis`` or ``RandomSurvivalForest``, or
    a Pipeline ending in one), the default metrics are

    - ``harrell_c``: Harrell's concordance index of ``predict`` (the risk
      score, higher meaning an earlier event);
    - ``uno_c``: Uno's concordance index, truncated at ``tau``, the last
      evaluation time;
    - ``mean_auc``: the cumulative/dynamic time-dependent AUC of the risk
      at the evaluation times, averaged as
      :func:`sksurv.metrics.cumulative_dynamic_auc` does;
    - ``ibs``: the integrated Brier score of ``predict_survival_function``
      over the evaluation times (lower is better; NaN, with a warning, for
      a model without ``predict_survival_function``).

    The evaluation times (``report.times``) are by default the 10th, 20th,
    ..., 80th percentiles of the event times of all rows, keeping those
    inside every fold's follow-up (see ``times``). Uno's C, the AUC and the
    Brier score weight the rows by the inverse probability of censoring,
    estimated by Kaplan-Meier on the training fold for the fold scores, and
    on the whole data set for the pooled out-of-fold score and its
    bootstrap. The pooled scores compare risks predicted by models of
    different folds: for models whose risk scale varies between folds (the
    networks), the pooled concordance can be below the fold mean. Int
    ``cv`` folds are stratified on the event indicator, which is also the
    ``y`` given to a splitter's ``split``. Classifiers and survival models
    cannot be mixed in one call.

    Parameters
    ----------
    estimators : dict, list of (str, estimator) or estimator
        The models to compare, by name. Any scikit-learn classifier, or a
        skmultimodal estimator on a DataFrame; or survival models only (see
        above).
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Class labels (any type, e.g. strings), or for survival models a
        structured array of the event indicator (bool) and the time, e.g.
        ``sksurv.util.Surv.from_arrays(event, time)``.
    groups : array-like of shape (n_samples,), default=None
        Patient (or other group) of each row. With an int ``cv`` the folds
        are then :class:`~sklearn.model_selection.StratifiedGroupKFold`, and
        every split, whatever ``cv``, is checked for patients on both sides
        (:class:`~skmultimodal.model_selection.GroupLeakageError`).
    cv : int, cross-validation generator or iterable, default=5
        Number of folds or splitter, see
        :func:`~skmultimodal.model_selection.make_cv`. An int gives shuffled
        stratified folds seeded by ``random_state``.
    scoring : None, str, list or dict, default=None
        Metrics, as :func:`~skmultimodal.metrics.get_scorers` takes them
        (None: accuracy, balanced accuracy, F1, PR-AUC and ROC AUC; their
        macro variants and per-class ROC AUC for multiclass). The class
        labels of ``y`` are passed on, so the positive class of binary
        metrics is the greater label, as in scikit-learn. Survival models:
        None (all four), a name or a list of names among ``"harrell_c"``,
        ``"uno_c"``, ``"mean_auc"`` and ``"ibs"``.
    times : array-like, default=None
        Survival models only: the evaluation times of ``uno_c`` (its
        ``tau`` is the last), ``mean_auc`` and ``ibs``, strictly increasing.
        None chooses them from the event times as described above. Every
        time must lie at or after the first time of each test fold and
        before the last time of each test and training fold.
    n_bootstrap : int, default=1000
        Bootstrap resamples for the confidence intervals; 0 skips them.
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int, RandomState instance or None, default=0
        Seeds the fold shuffling (int ``cv``) and the bootstrap.
    n_jobs : int, default=None
        Folds fitted in parallel by ``cross_validate``, and blocks of
        bootstrap resamples computed in parallel (the intervals do not
        depend on it).
    params : dict, default=None
        Fit parameters passed to ``cross_validate`` (e.g. sample weights).
    bootstrap_groups : bool, default=False
        Resample whole groups instead of rows (cluster bootstrap; needs
        ``groups``). Rows of one patient are correlated, so this gives more
        honest intervals on patient-level data.
    return_estimators : bool, default=False
        Keep the fitted estimator of each fold in ``report.estimators``.
    error_score : "raise" or float, default="raise"
        As in ``cross_validate``.
    plot_dir : str or Path, default=None
        If given, ``roc.png``, ``pr.png`` and ``confusion.png`` are saved there
        (classifiers only).
    verbose : int, default=0
        Progress bar over the models (tqdm) when > 0; > 1 also passes
        ``verbose - 1`` to ``cross_validate``.

    Returns
    -------
    report : EvaluationReport
        ``report.summary`` is the tidy table (model, metric, mean, std,
        pooled, ci_low, ci_high, n_folds); ``report.folds`` the per-fold
        scores; ``report.predictions`` the out-of-fold predictions.

    See Also
    --------
    modality_ablation : The same table for every subset of a fusion model's
        modalities.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.model_selection import evaluate
    >>> X, y = make_multimodal_classification(100, image_share=0.0, random_state=0)
    >>> X = X.drop(columns="image")
    >>> report = evaluate({"logreg": LogisticRegression(), "dummy": DummyClassifier()},
    ...                   X, y, scoring=["accuracy", "roc_auc"], n_bootstrap=100)
    >>> report.summary.shape
    (4, 8)
    >>> float(report.pivot().loc["dummy", "roc_auc"])
    0.5

    Survival models, here a Cox model on the table columns:

    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> from skmultimodal.datasets import make_multimodal_survival
    >>> X, y = make_multimodal_survival(150, n_features=4, random_state=0)
    >>> tab = ["tab_0", "tab_1", "tab_2", "tab_3"]
    >>> report = evaluate({"cox": CoxPHSurvivalAnalysis()}, X[tab], y, cv=3,
    ...                   n_bootstrap=0)
    >>> report.metrics
    ['harrell_c', 'uno_c', 'mean_auc', 'ibs']
    >>> bool(report.pivot().loc["cox", "harrell_c"] > 0.6)
    True
    """
    items = _check_estimators(estimators)
    confidence = _check_confidence(confidence)
    n_bootstrap = _check_n_bootstrap(n_bootstrap)
    survival = is_survival_task(items, y)
    if survival:
        strata = check_survival_y(y)[0]  # folds stratified on the event indicator
        classes = np.array([], dtype=object)
        if plot_dir is not None:
            raise ValueError("plot_dir saves ROC, PR and confusion figures, which need "
                             "classifiers; these are survival models.")
    else:
        if times is not None:
            raise ValueError("times is for survival models; these are classifiers.")
        y = strata = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y needs at least two classes, got {classes.tolist()}.")
    n_samples = len(y)
    if len(X) != n_samples:
        raise ValueError(f"X has {len(X)} rows but y has {n_samples}.")
    if groups is not None:
        groups = column_or_1d(groups)
        if len(groups) != n_samples:
            raise ValueError(f"groups has {len(groups)} entries but y has {n_samples}.")
    if bootstrap_groups and groups is None:
        raise ValueError("bootstrap_groups=True needs groups.")

    rng = check_random_state(random_state)
    split_seed = random_state if isinstance(random_state, numbers.Integral) \
        else rng.randint(np.iinfo(np.int32).max)
    boot_seed = rng.randint(np.iinfo(np.int32).max)
    splitter = make_cv(cv, strata, groups, random_state=split_seed)
    splits = [(np.asarray(tr), np.asarray(te))
              for tr, te in splitter.split(X, strata, groups)]
    if groups is not None:
        check_splits(splits, groups)
    if survival:
        times = survival_time_grid(y, splits, times)
        scorers = get_survival_scorers(scoring)
    else:
        scorers = get_scorers(scoring, labels=classes)

    rows = np.concatenate([te for _, te in splits])
    fold = np.concatenate([np.full(len(te), k) for k, (_, te) in enumerate(splits)])
    y_entries = y[rows]
    entry_groups = _group_members(groups[rows]) if bootstrap_groups else None
    index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else pd.RangeIndex(n_samples)

    summary, fold_rows = [], []
    y_pred, scores, methods, fitted = {}, {}, {}, {}
    iterator = items
    if verbose:
        from tqdm.auto import tqdm

        iterator = tqdm(items, desc="evaluate", unit="model")
    for name, estimator in iterator:
        if verbose:
            iterator.set_postfix_str(name)
        result = cross_validate(
            estimator, X, y, cv=splits, scoring=no_score if survival else scorers,
            n_jobs=n_jobs, params=params, return_estimator=True, error_score=error_score,
            verbose=max(int(verbose) - 1, 0),
        )
        if survival:  # fold scores need the training fold: scored here
            pred, score, method, replay = survival_out_of_fold(
                name, result, splits, X, y, times, scorers, error_score)
            boot_scorers = defined_scorers(scorers, replay)
        else:
            pred, score, method = _oof(result["estimator"], [te for _, te in splits], X,
                                       classes)
            replay = _StoredPredictions(classes, pred, score, method)
            boot_scorers = scorers
        y_pred[name], scores[name], methods[name] = pred, score, method
        if return_estimators:
            fitted[name] = list(result["estimator"])

        positions = np.arange(len(rows))
        pooled = {m: _score(s, replay, positions, y_entries) for m, s in scorers.items()}
        intervals = _bootstrap(boot_scorers, replay, y_entries, n_bootstrap, confidence,
                               boot_seed, entry_groups, n_jobs)
        for metric in scorers:
            values = np.asarray(result[f"test_{metric}"], dtype=float)
            for k, (train, test) in enumerate(splits):
                fold_rows.append({
                    "model": name, "fold": k, "n_train": len(train), "n_test": len(test),
                    "fit_time": result["fit_time"][k],
                    "score_time": result["score_time"][k],
                    "metric": metric, "score": values[k],
                })
            summary.append({
                "model": name, "metric": metric,
                "mean": float(np.nanmean(values)) if np.isfinite(values).any() else math.nan,
                "std": float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1
                else math.nan,
                "pooled": pooled[metric],
                "ci_low": intervals.get(metric, (math.nan,) * 2)[0],
                "ci_high": intervals.get(metric, (math.nan,) * 2)[1],
                "n_folds": int(np.isfinite(values).sum()),
            })

    report = EvaluationReport(
        summary=pd.DataFrame(summary, columns=SUMMARY_COLUMNS),
        folds=pd.DataFrame(fold_rows),
        classes=classes, y_true=y_entries, rows=rows, fold=fold, y_pred=y_pred,
        scores=scores, response_method=methods, splits=splits, cv=splitter, index=index,
        confidence=confidence, n_bootstrap=n_bootstrap,
        estimators=fitted if return_estimators else None,
        times=times if survival else None,
    )
    if plot_dir is not None:
        _save_plots(report, plot_dir)
    return report


def _save_plots(report, plot_dir):
    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    with_scores = [m for m in report.models if report.scores[m] is not None]
    if with_scores:
        report.plot_roc(with_scores, path=plot_dir / "roc.png")
        report.plot_pr(with_scores, path=plot_dir / "pr.png")
    report.plot_confusion(path=plot_dir / "confusion.png")
