"""Survival metrics of :func:`evaluate`: scorers, time grid, out-of-fold predictions.

The metrics are scikit-survival's, computed on stored risk scores and
survival probabilities so that the same scorer gives the fold scores, the
pooled out-of-fold score and the bootstrap resamples:

- ``harrell_c``: Harrell's concordance index of the risk score
  (:func:`sksurv.metrics.concordance_index_censored`);
- ``uno_c``: Uno's concordance index, weighted by the inverse probability of
  censoring and truncated at ``tau``, the last evaluation time
  (:func:`sksurv.metrics.concordance_index_ipcw`);
- ``mean_auc``: the cumulative/dynamic time-dependent AUC of the risk score
  at the evaluation times, averaged with scikit-survival's weights (the drops
  of the Kaplan-Meier estimate between the times)
  (:func:`sksurv.metrics.cumulative_dynamic_auc`);
- ``ibs``: the integrated Brier score of the predicted survival
  probabilities over the evaluation times, lower is better
  (:func:`sksurv.metrics.integrated_brier_score`; NaN for a model without
  ``predict_survival_function``).

The censoring distribution of the weighted metrics (all but Harrell's C) is
the Kaplan-Meier estimate on the training fold for a fold score, and on the
whole data set for the pooled out-of-fold score and its bootstrap.
"""

import math
import time as _time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import _safe_indexing
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.util import check_y_survival

__all__ = [
    "DEFAULT_PERCENTILES",
    "SURVIVAL_METRICS",
    "get_survival_scorers",
    "survival_time_grid",
]

#: Percentiles of the event times that make the default evaluation times.
DEFAULT_PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80)


def is_survival_target(y):
    """Tell whether ``y`` is a structured array (a survival target, not labels).

    Parameters
    ----------
    y : object

    Returns
    -------
    is_survival : bool
    """
    return isinstance(y, np.ndarray) and y.dtype.names is not None


def check_survival_y(y, n_samples=None):
    """Check a scikit-survival target and return its event indicators and times.

    Parameters
    ----------
    y : structured ndarray of shape (n_samples,)
        Two fields: the event indicator (bool) first, then the time (float,
        finite and >= 0), as made by :meth:`sksurv.util.Surv.from_arrays`.
    n_samples : int, default=None
        Expected length.

    Returns
    -------
    event : ndarray of bool
    time : ndarray of float

    Raises
    ------
    ValueError
        Naming the problem: not two fields, an event field that is not
        boolean, times that are negative, NaN or infinite, no event at all,
        or a length other than ``n_samples``.
    """
    names = y.dtype.names if isinstance(y, np.ndarray) else None
    if not names or len(names) != 2:
        raise ValueError(
            "A survival target must be a structured array of two fields, the event "
            "indicator (bool) then the time (float), e.g. "
            f"sksurv.util.Surv.from_arrays(event, time); got dtype {y.dtype}."
        )
    if y.dtype[names[0]] != np.bool_:
        raise ValueError(
            f"The first field of a survival target, {names[0]!r}, must be the boolean "
            f"event indicator; it has dtype {y.dtype[names[0]]} (fields {list(names)})."
        )
    time = np.asarray(y[names[1]], dtype=float)
    bad = np.flatnonzero(~np.isfinite(time) | (time < 0))
    if bad.size:
        raise ValueError(
            f"y has {bad.size} time(s) that are negative, NaN or infinite, at positions "
            f"{bad[:10].tolist()}; survival times must be finite and >= 0.")
    event, time = check_y_survival(y)
    if n_samples is not None and len(event) != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {len(event)} entries.")
    return np.asarray(event, dtype=bool), np.asarray(time, dtype=float)


def is_survival_task(items, y):
    """Tell whether ``evaluate`` compares survival models (True) or classifiers.

    Parameters
    ----------
    items : list of (str, estimator)
    y : array-like or structured ndarray

    Returns
    -------
    survival : bool

    Raises
    ------
    ValueError
        If classifiers and survival models are mixed, if the estimators and
        the kind of ``y`` do not match, or if an estimator is a regressor.
    TypeError
        If a survival model has no ``predict``.
    """
    regressors = [name for name, est in items if is_regressor(est)]
    if regressors:
        raise ValueError(
            f"Estimators {regressors} are regressors; evaluate() scores classifiers (y: "
            "class labels) or survival models (y: a scikit-survival structured array)."
        )
    classifiers = [name for name, est in items if is_classifier(est)]
    others = [name for name, est in items if not is_classifier(est)]
    if classifiers and others:
        raise ValueError(
            f"evaluate() compares models of one kind, but {classifiers} are classifiers "
            f"and {others} are not (survival models). Evaluate them in separate calls."
        )
    survival_y = is_survival_target(y)
    if classifiers:
        if survival_y:
            raise ValueError(
                f"y is a survival target (structured array with fields "
                f"{list(y.dtype.names)}) but the estimators {classifiers} are "
                "classifiers; pass class labels, or survival models "
                "(e.g. skmultimodal.survival or scikit-survival estimators)."
            )
        return False
    if not survival_y:
        raise ValueError(
            f"The estimators {others} are not classifiers, so evaluate() scores them as "
            "survival models, which needs y as a scikit-survival structured array of "
            "(event, time), e.g. sksurv.util.Surv.from_arrays(event, time); got "
            f"{type(y).__name__}{f' of dtype {y.dtype}' if hasattr(y, 'dtype') else ''}."
        )
    no_predict = [name for name, est in items if not hasattr(est, "predict")]
    if no_predict:
        raise TypeError(f"Survival models {no_predict} have no predict method (the risk "
                        "score evaluate() scores).")
    return True


def _check_times(times):
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 2 or not np.isfinite(times).all():
        raise ValueError(f"times must be a 1-D array of at least two finite times, got "
                         f"{times!r}.")
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"times must be strictly increasing, got {times.tolist()}.")
    return times


def survival_time_grid(y, splits, times=None, *, percentiles=DEFAULT_PERCENTILES):
    """Choose the evaluation times of the time-dependent survival metrics.

    The default times are percentiles (10, 20, ..., 80) of the event times
    of all rows (the union of the training folds), keeping only those that
    every fold can score: at or after the earliest time of each test fold,
    and before both the last time of each test fold and the last time of
    each training fold (beyond it the training censoring distribution is
    not estimated). Uno's C is truncated at the last of them (``tau``).

    Parameters
    ----------
    y : structured ndarray of shape (n_samples,)
        Survival target (event, time).
    splits : list of (train, test) index arrays
    times : array-like, default=None
        Times to use instead; they are checked against the same limits.
    percentiles : sequence of float, default=(10, 20, ..., 80)

    Returns
    -------
    times : ndarray of float
        Strictly increasing, at least two.

    Raises
    ------
    ValueError
        If fewer than two default times fall inside every fold's follow-up,
        or if given ``times`` fall outside it.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from skmultimodal.model_selection._survival_metrics import survival_time_grid
    >>> y = Surv.from_arrays(np.ones(20, dtype=bool), np.arange(1.0, 21.0))
    >>> splits = [(np.arange(0, 20, 2), np.arange(1, 20, 2)),
    ...           (np.arange(1, 20, 2), np.arange(0, 20, 2))]
    >>> survival_time_grid(y, splits).round(1).tolist()
    [2.9, 4.8, 6.7, 8.6, 10.5, 12.4, 14.3, 16.2]
    """
    event, time = check_y_survival(y)
    low = max(float(time[test].min()) for _, test in splits)
    high = min(min(float(time[test].max()), float(time[train].max()))
               for train, test in splits)
    window = (f"[{low:g}, {high:g}[ (from the latest first test time to the earliest last "
              "test or training time of the folds)")
    if times is None:
        if not event.any():
            raise ValueError("y has no event; the survival metrics need events.")
        grid = np.unique(np.percentile(time[event], percentiles))
        grid = grid[(grid >= low) & (grid < high)]
        if grid.size < 2:
            raise ValueError(
                f"Fewer than two of the percentiles {list(percentiles)} of the event "
                f"times fall inside every fold's follow-up {window}; use fewer folds "
                "or pass times=."
            )
        return grid
    grid = _check_times(times)
    if grid[0] < low or grid[-1] >= high:
        raise ValueError(
            f"times must lie inside every fold's follow-up {window}; got "
            f"[{grid[0]:g}, {grid[-1]:g}]."
        )
    return grid


class StoredSurvivalPredictions:
    """Risk scores and survival probabilities of some rows, for the scorers.

    Parameters
    ----------
    risk : ndarray of shape (n,)
        Risk scores (higher: earlier event).
    survival : ndarray of shape (n, n_times) or None
        Survival probabilities at ``times``; None when the model has no
        ``predict_survival_function``.
    y_censoring : structured ndarray
        Survival data of which the censoring distribution is estimated.
    times : ndarray of shape (n_times,)
        Evaluation times; the last is ``tau`` of Uno's C.
    """

    def __init__(self, risk, survival, y_censoring, times):
        self.risk = risk
        self.survival = survival
        self.y_censoring = y_censoring
        self.times = times


def _truncate(y, y_censoring):
    """``y`` with the rows followed to or beyond the last censoring-data time
    censored at that time.

    The Kaplan-Meier estimate of the censoring distribution is undefined (or
    zero) from that time on; the evaluation times all lie before it, so the
    weighted metrics do not change.
    """
    _, censoring_time = check_y_survival(y_censoring)
    last = censoring_time.max()
    event_name, time_name = y.dtype.names
    late = y[time_name] >= last
    if not late.any():
        return y
    y = y.copy()
    y[event_name][late] = False
    y[time_name][late] = last
    return y


def _harrell_c(stored, positions, y):
    event, time = check_y_survival(y)
    return concordance_index_censored(event, time, stored.risk[positions])[0]


def _uno_c(stored, positions, y):
    return concordance_index_ipcw(stored.y_censoring, _truncate(y, stored.y_censoring),
                                  stored.risk[positions], tau=stored.times[-1])[0]


def _mean_auc(stored, positions, y):
    return cumulative_dynamic_auc(stored.y_censoring, _truncate(y, stored.y_censoring),
                                  stored.risk[positions], stored.times)[1]


def _ibs(stored, positions, y):
    if stored.survival is None:
        raise ValueError("No survival probabilities (no predict_survival_function).")
    return integrated_brier_score(stored.y_censoring, _truncate(y, stored.y_censoring),
                                  stored.survival[positions], stored.times)


class _SurvivalScorer:
    """Scorer of stored predictions: ``scorer(stored, positions, y_of_positions)``."""

    def __init__(self, name, func, needs_survival):
        self.name = name
        self.func = func
        self.needs_survival = needs_survival

    def __call__(self, stored, positions, y):
        return float(self.func(stored, np.asarray(positions), y))

    def __repr__(self):
        return f"<survival scorer {self.name}>"


#: Survival metrics of :func:`evaluate`, by name: (function, needs survival
#: probabilities).
SURVIVAL_METRICS = {
    "harrell_c": (_harrell_c, False),
    "uno_c": (_uno_c, False),
    "mean_auc": (_mean_auc, False),
    "ibs": (_ibs, True),
}


def get_survival_scorers(scoring=None):
    """Scorers of the survival metrics, by name.

    Parameters
    ----------
    scoring : None, str or list of str, default=None
        Names among ``"harrell_c"``, ``"uno_c"``, ``"mean_auc"`` and
        ``"ibs"``; None gives all four.

    Returns
    -------
    scorers : dict of str to callable
        Each called as ``scorer(stored, positions, y)`` with a
        :class:`StoredSurvivalPredictions`, positions into it and the
        survival data of those positions.

    Raises
    ------
    ValueError
        If a name is unknown or ``scoring`` is of another type.
    """
    if scoring is None:
        names = list(SURVIVAL_METRICS)
    elif isinstance(scoring, str):
        names = [scoring]
    elif isinstance(scoring, (list, tuple)) and all(isinstance(s, str) for s in scoring):
        names = list(dict.fromkeys(scoring))
    else:
        raise ValueError(
            "scoring for survival models must be None, a metric name or a list of them "
            f"among {list(SURVIVAL_METRICS)}; got {scoring!r}."
        )
    unknown = [n for n in names if n not in SURVIVAL_METRICS]
    if unknown or not names:
        raise ValueError(f"Unknown survival metrics {unknown}; known: "
                         f"{list(SURVIVAL_METRICS)}.")
    return {n: _SurvivalScorer(n, *SURVIVAL_METRICS[n]) for n in names}


def defined_scorers(scorers, stored):
    """The scorers that the stored predictions can feed (no IBS without survival)."""
    return {name: s for name, s in scorers.items()
            if stored.survival is not None or not s.needs_survival}


def no_score(estimator, X, y):
    """Scorer that skips scoring inside ``cross_validate`` (scored afterwards)."""
    return 0.0


def _survival_at(estimator, X, times):
    """Survival probabilities of each row of ``X`` at ``times``, shape (n, n_times).

    The step functions are evaluated inside their domain: a time beyond it
    takes the value at its end (the functions are constant after their last
    step).
    """
    functions = estimator.predict_survival_function(X)
    rows = []
    for fn in functions:
        low, high = fn.domain
        rows.append(np.asarray(fn(np.clip(times, low, high)), dtype=float))
    return np.vstack(rows) if rows else np.empty((0, len(times)))


def survival_out_of_fold(name, result, splits, X, y, times, scorers, error_score):
    """Out-of-fold risks and survival probabilities, and the fold scores.

    The fold scores are written into ``result`` as ``cross_validate`` would
    (``test_<metric>``, and ``score_time``: prediction and scoring time).

    Parameters
    ----------
    name : str
        Model name, for messages.
    result : dict
        Output of ``cross_validate(..., return_estimator=True)``.
    splits : list of (train, test)
    X : DataFrame or array-like
    y : structured ndarray
    times : ndarray
    scorers : dict of str to scorer
    error_score : "raise" or float
        Value of a fold score whose metric fails ("raise": raise).

    Returns
    -------
    risk : ndarray of shape (n_oof,)
    survival : ndarray of shape (n_oof, n_times) or None
    method : str
        ``"predict_survival_function"``, or ``"predict"`` without it.
    stored : StoredSurvivalPredictions
        The pooled predictions, with the whole ``y`` as censoring data.
    """
    fitted = result["estimator"]
    has_functions = all(hasattr(est, "predict_survival_function") for est in fitted)
    if not has_functions and any(s.needs_survival for s in scorers.values()):
        warnings.warn(
            f"Model {name!r} has no predict_survival_function; its integrated Brier "
            "score ('ibs') is left NaN.", UserWarning, stacklevel=3)
    risks, survivals = [], []
    values = {m: np.full(len(splits), math.nan) for m in scorers}
    score_time = np.zeros(len(splits))
    for k, (est, (train, test)) in enumerate(zip(fitted, splits)):
        start = _time.perf_counter()
        X_test = _safe_indexing(X, test)
        risk = np.asarray(est.predict(X_test), dtype=float).reshape(-1)
        survival = _survival_at(est, X_test, times) if has_functions else None
        stored = StoredSurvivalPredictions(risk, survival, y[train], times)
        positions = np.arange(len(test))
        for metric, scorer in defined_scorers(scorers, stored).items():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    values[metric][k] = scorer(stored, positions, y[test])
            except (ValueError, ZeroDivisionError) as exc:
                if error_score == "raise":
                    raise ValueError(f"Model {name!r}, fold {k}: the metric {metric!r} "
                                     f"failed: {exc}") from exc
                warnings.warn(f"Model {name!r}, fold {k}: the metric {metric!r} failed "
                              f"({exc}); its score is set to {error_score}.",
                              UserWarning, stacklevel=3)
                values[metric][k] = error_score
        score_time[k] = _time.perf_counter() - start
        risks.append(risk)
        survivals.append(survival)
    for metric, v in values.items():
        result[f"test_{metric}"] = v
    result["score_time"] = score_time
    risk = np.concatenate(risks)
    survival = np.vstack(survivals) if has_functions else None
    method = "predict_survival_function" if has_functions else "predict"
    return risk, survival, method, StoredSurvivalPredictions(risk, survival, y, times)


def survival_predictions(report):
    """Out-of-fold predictions of a survival report, a DataFrame per model.

    Columns ``fold``, ``event``, ``time``, ``risk`` and, for models with
    ``predict_survival_function``, ``survival_<t>`` per evaluation time.
    """
    event, time = check_y_survival(report.y_true)
    out = {}
    for model in report.models:
        frame = pd.DataFrame({"fold": report.fold, "event": event, "time": time,
                              "risk": report.y_pred[model]},
                             index=report.index[report.rows])
        survival = report.scores[model]
        if survival is not None:
            for j, t in enumerate(report.times):
                frame[f"survival_{t:g}"] = survival[:, j]
        out[model] = frame
    return out
