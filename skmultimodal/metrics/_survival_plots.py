"""Kaplan-Meier curves of risk groups, with the log-rank test between them.

:class:`KaplanMeierDisplay` follows scikit-learn's display pattern:
``from_predictions`` (a risk score per sample, e.g. out-of-fold predictions)
and ``from_estimator`` (a fitted survival model's ``predict``) split the
samples into groups of increasing risk, compute each group's Kaplan-Meier
curve (:func:`sksurv.nonparametric.kaplan_meier_estimator`) and the log-rank
test between the groups (:func:`sksurv.compare.compare_survival`), and draw
them; :meth:`KaplanMeierDisplay.plot` draws them again on other axes.
"""

import numbers

import numpy as np
from sksurv.compare import compare_survival
from sksurv.nonparametric import kaplan_meier_estimator

__all__ = ["KaplanMeierDisplay"]


def _check_survival_target(y):
    """(event, time) of a scikit-survival structured array, with a clear error."""
    y = np.asarray(y)
    names = y.dtype.names
    if names is None or len(names) != 2 or y.ndim != 1:
        raise ValueError(
            "y must be a structured array of survival outcomes with two fields, "
            "the event indicator (bool) then the time (float), as made by "
            "sksurv.util.Surv.from_arrays(event, time); got an array of dtype "
            f"{y.dtype} and shape {y.shape}"
        )
    event, time = y[names[0]], y[names[1]]
    if event.dtype != np.bool_:
        raise ValueError(
            f"The first field of y, {names[0]!r}, must be the event indicator of "
            f"dtype bool, got {event.dtype}"
        )
    if time.dtype.kind not in "iuf" or not np.isfinite(time).all():
        raise ValueError(
            f"The second field of y, {names[1]!r}, must hold finite numeric times"
        )
    if len(y) < 2:
        raise ValueError(f"y must hold at least 2 samples, got {len(y)}")
    return event, np.asarray(time, dtype=np.float64)


def _check_risk(risk, n_samples):
    try:
        risk = np.asarray(risk, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("risk must be a 1-D array of numbers") from None
    if risk.ndim == 2 and risk.shape[1] == 1:
        risk = risk[:, 0]
    if risk.ndim != 1:
        raise ValueError(f"risk must be 1-D (one score per sample), got shape {risk.shape}")
    if len(risk) != n_samples:
        raise ValueError(
            f"y and risk must have the same length: y has {n_samples} samples, "
            f"risk has {len(risk)}"
        )
    if not np.isfinite(risk).all():
        raise ValueError("risk must be finite: it holds NaN or infinite values")
    return risk


def _group_names(n_groups):
    if n_groups == 2:
        return ["low risk", "high risk"]
    if n_groups == 3:
        return ["low risk", "intermediate risk", "high risk"]
    names = [f"risk group {k + 1}" for k in range(n_groups)]
    names[0] += " (lowest)"
    names[-1] += " (highest)"
    return names


def _risk_groups(risk, n_groups, thresholds):
    """Group index (0 = lowest risk) of each sample, and the thresholds used."""
    if thresholds is None:
        if isinstance(n_groups, bool) or not isinstance(n_groups, numbers.Integral):
            raise ValueError(f"n_groups must be an int, got {n_groups!r}")
        if n_groups < 2:
            raise ValueError(
                f"n_groups must be >= 2 (the log-rank test compares groups), got "
                f"{n_groups}"
            )
        if n_groups > len(risk):
            raise ValueError(
                f"n_groups must be <= the number of samples ({len(risk)}), got "
                f"{n_groups}"
            )
        thresholds = np.quantile(risk, np.arange(1, n_groups) / n_groups)
    else:
        thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
        if len(thresholds) < 1 or not np.isfinite(thresholds).all() or (
            np.diff(thresholds) <= 0
        ).any():
            raise ValueError(
                "thresholds must be one or more finite, strictly increasing risk "
                f"values, got {thresholds.tolist()}"
            )
    groups = np.searchsorted(thresholds, risk, side="right")
    counts = np.bincount(groups, minlength=len(thresholds) + 1)
    if (counts == 0).any():
        raise ValueError(
            f"A risk group is empty (group sizes {counts.tolist()} for thresholds "
            f"{np.round(thresholds, 6).tolist()}): the risk has too few distinct "
            "values for that many groups; use fewer groups or other thresholds"
        )
    return groups, thresholds


class KaplanMeierDisplay:
    """Kaplan-Meier curves of groups of increasing risk, with a log-rank test.

    The samples are split into groups by their risk score (a higher score
    meaning an earlier event, as a survival model's ``predict``): by default
    at its quantiles, into ``n_groups`` groups of about equal size. Each
    group's survival function is estimated by Kaplan-Meier, with a pointwise
    confidence band; the log-rank test of equal survival across the groups
    is shown in the title. Build it with :meth:`from_predictions` or
    :meth:`from_estimator` (both draw it), or draw it again with
    :meth:`plot`.

    Parameters
    ----------
    time : list of ndarray
        Event times of each group's curve (the distinct times of its
        samples), from the lowest-risk group to the highest.
    survival : list of ndarray
        Kaplan-Meier estimate of each group's survival function at ``time``.
    conf_int : list of ndarray of shape (2, n_times) or None
        Lower and upper bound of each group's pointwise confidence band, or
        None without bands.
    group_names : list of str
        Name of each group, e.g. ``["low risk", "high risk"]``.
    n_samples : list of int
        Number of samples of each group.
    n_events : list of int
        Number of observed events of each group.
    chisq : float
        Log-rank test statistic (chi-squared with ``n_groups - 1`` degrees of
        freedom).
    pvalue : float
        Its p-value.
    thresholds : ndarray of shape (n_groups - 1,)
        Risk values separating the groups: a sample with
        ``thresholds[k - 1] <= risk < thresholds[k]`` is in group ``k``.
    groups : ndarray of int of shape (n_samples,), default=None
        Group of each sample (0 = lowest risk).
    conf_level : float or None, default=0.95
        Level of the confidence bands (None without bands).
    name : str, default=None
        Name of the risk score (the model), shown in the title.

    Attributes
    ----------
    time, survival, conf_int, group_names, n_samples, n_events, thresholds, \
groups, conf_level, name
        The parameters.
    chisq_ : float
        Log-rank test statistic.
    pvalue_ : float
        Log-rank test p-value.
    figure_ : matplotlib Figure
        The figure drawn on (after drawing).
    ax_ : matplotlib Axes
        The Axes drawn on.
    lines_ : list of matplotlib Line2D
        One survival curve per group.

    See Also
    --------
    sksurv.nonparametric.kaplan_meier_estimator : The curves.
    sksurv.compare.compare_survival : The log-rank test.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from skmultimodal.metrics import KaplanMeierDisplay
    >>> rng = np.random.RandomState(0)
    >>> risk = rng.normal(size=200)
    >>> time = rng.exponential(np.exp(-risk))
    >>> y = Surv.from_arrays(event=rng.uniform(size=200) < 0.8, time=time)
    >>> display = KaplanMeierDisplay.from_predictions(y, risk)
    >>> display.group_names, display.n_samples
    (['low risk', 'high risk'], [100, 100])
    >>> bool(display.pvalue_ < 1e-3)
    True
    """

    def __init__(self, *, time, survival, conf_int, group_names, n_samples, n_events,
                 chisq, pvalue, thresholds, groups=None, conf_level=0.95, name=None):
        self.time = time
        self.survival = survival
        self.conf_int = conf_int
        self.group_names = group_names
        self.n_samples = n_samples
        self.n_events = n_events
        self.chisq_ = chisq
        self.pvalue_ = pvalue
        self.thresholds = thresholds
        self.groups = groups
        self.conf_level = conf_level
        self.name = name

    @classmethod
    def _compute(cls, y, risk, *, n_groups, thresholds, conf_level, name):
        event, time = _check_survival_target(y)
        risk = _check_risk(risk, len(event))
        if conf_level is not None:
            if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real) \
                    or not 0.0 < conf_level < 1.0:
                raise ValueError(f"conf_level must be in (0, 1) or None, got {conf_level!r}")
        groups, thresholds = _risk_groups(risk, n_groups, thresholds)
        n = len(thresholds) + 1
        curves = {"time": [], "survival": [], "conf_int": [] if conf_level else None}
        for k in range(n):
            rows = groups == k
            if conf_level is None:
                t, s = kaplan_meier_estimator(event[rows], time[rows])
            else:
                t, s, ci = kaplan_meier_estimator(
                    event[rows], time[rows], conf_level=conf_level, conf_type="log-log"
                )
                curves["conf_int"].append(ci)
            curves["time"].append(t)
            curves["survival"].append(s)
        target = np.empty(len(event), dtype=[("event", bool), ("time", np.float64)])
        target["event"], target["time"] = event, time
        chisq, pvalue = compare_survival(target, groups)
        return cls(
            **curves,
            group_names=_group_names(n),
            n_samples=[int(np.sum(groups == k)) for k in range(n)],
            n_events=[int(np.sum(event[groups == k])) for k in range(n)],
            chisq=float(chisq),
            pvalue=float(pvalue),
            thresholds=thresholds,
            groups=groups,
            conf_level=conf_level,
            name=name,
        )

    @classmethod
    def from_predictions(cls, y, risk, *, n_groups=2, thresholds=None, conf_level=0.95,
                         name=None, ax=None, title=None):
        """Draw the Kaplan-Meier curves of risk groups made from predicted risks.

        Parameters
        ----------
        y : structured ndarray of shape (n_samples,)
            Survival outcomes: fields event indicator (bool) then time, as
            made by :meth:`sksurv.util.Surv.from_arrays`.
        risk : array-like of shape (n_samples,)
            Risk score of each sample, a higher score meaning an earlier event
            (e.g. a survival model's ``predict``, or out-of-fold predictions).
        n_groups : int, default=2
            Number of groups, >= 2, cut at the quantiles of ``risk`` (2: at
            the median). Ignored when ``thresholds`` is given.
        thresholds : array-like of float, default=None
            Strictly increasing risk values separating the groups, e.g. the
            quantiles of the risk on the training set, to apply to a test
            set; None cuts at the quantiles of ``risk``.
        conf_level : float or None, default=0.95
            Level of the pointwise confidence bands of the curves (log-log
            transformed); None draws no band.
        name : str, default=None
            Name of the risk score (the model), shown in the title.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new pyplot figure.
        title : str, default=None
            Title of the Axes; None writes the log-rank test.

        Returns
        -------
        display : KaplanMeierDisplay
            Drawn, with ``figure_``, ``ax_`` and ``lines_``.

        Raises
        ------
        ValueError
            If ``y`` is not a survival structured array, ``risk`` does not
            have one finite number per sample, ``n_groups`` is below 2 or
            above the number of samples, or a group would be empty.
        """
        display = cls._compute(y, risk, n_groups=n_groups, thresholds=thresholds,
                               conf_level=conf_level, name=name)
        return display.plot(ax=ax, title=title)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n_groups=2, thresholds=None,
                       conf_level=0.95, name=None, ax=None, title=None):
        """Draw the Kaplan-Meier curves of risk groups made by a fitted model.

        The risk is ``estimator.predict(X)`` (a higher value meaning an earlier
        event, as scikit-survival's models predict).

        Parameters
        ----------
        estimator : fitted survival estimator
            Its ``predict(X)`` gives the risk scores.
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : structured ndarray of shape (n_samples,)
            Survival outcomes of ``X`` (event indicator then time).
        n_groups : int, default=2
            Number of groups, >= 2, cut at the quantiles of the risk.
        thresholds : array-like of float, default=None
            Strictly increasing risk values separating the groups; None cuts
            at the quantiles of the predicted risk.
        conf_level : float or None, default=0.95
            Level of the confidence bands; None draws no band.
        name : str, default=None
            Name shown in the title; None takes the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new pyplot figure.
        title : str, default=None
            Title of the Axes; None writes the log-rank test.

        Returns
        -------
        display : KaplanMeierDisplay
            Drawn, with ``figure_``, ``ax_`` and ``lines_``.
        """
        if not hasattr(estimator, "predict"):
            raise ValueError(
                f"estimator must have a predict method giving risk scores, got "
                f"{type(estimator).__name__}"
            )
        _check_survival_target(y)
        risk = estimator.predict(X)
        name = type(estimator).__name__ if name is None else name
        return cls.from_predictions(y, risk, n_groups=n_groups, thresholds=thresholds,
                                    conf_level=conf_level, name=name, ax=ax, title=title)

    def plot(self, ax=None, *, conf_int=True, title=None):
        """Draw the groups' Kaplan-Meier curves, from low risk (blue) to high risk.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new pyplot figure.
        conf_int : bool, default=True
            Shade the confidence bands (when they were computed).
        title : str, default=None
            Title of the Axes; None writes the name (if any) and the log-rank
            test, e.g. ``"log-rank chi2 = 12.3, p = 0.00045"``.

        Returns
        -------
        self
            With ``figure_``, ``ax_`` and ``lines_`` (one curve per group).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(6.0, 4.5), layout="constrained")
        else:
            fig = ax.figure
        n = len(self.group_names)
        if n == 2:
            colors = ["tab:blue", "tab:red"]
        else:  # dark blue to orange, every curve visible on white
            colors = plt.get_cmap("plasma")(np.linspace(0.0, 0.8, n))
        lines = []
        for k in range(n):
            # the curve starts at S = 1 before the first time
            start = min(0.0, float(self.time[k][0]))
            t = np.concatenate([[start], self.time[k]])
            s = np.concatenate([[1.0], self.survival[k]])
            label = (f"{self.group_names[k]} (n={self.n_samples[k]}, "
                     f"events={self.n_events[k]})")
            (line,) = ax.step(t, s, where="post", color=colors[k], label=label)
            lines.append(line)
            if conf_int and self.conf_int is not None:
                low = np.concatenate([[1.0], self.conf_int[k][0]])
                high = np.concatenate([[1.0], self.conf_int[k][1]])
                ax.fill_between(t, low, high, step="post", color=colors[k], alpha=0.2,
                                linewidth=0)
        ax.set_xlabel("time")
        ax.set_ylabel("survival probability")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="best", fontsize="small")
        if title is None:
            title = f"log-rank chi2 = {self.chisq_:.3g}, p = {self.pvalue_:.2g}"
            if self.name:
                title = f"{self.name}: {title}"
        ax.set_title(title)
        self.figure_, self.ax_, self.lines_ = fig, ax, lines
        return self
