"""Kaplan-Meier curves of risk groups with the log-rank test."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from sksurv.compare import compare_survival
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv

from skmultimodal.datasets import make_multimodal_survival
from skmultimodal.metrics import KaplanMeierDisplay


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y, risk = make_multimodal_survival(300, return_risk=True, random_state=0)
    return X, y, risk


def _step(time, survival, at):
    """Value of a right-continuous step function (1 before its first time) at ``at``."""
    index = np.searchsorted(time, at, side="right") - 1
    return np.where(index >= 0, survival[np.maximum(index, 0)], 1.0)


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_informative_risk(data):
    _, y, risk = data
    display = KaplanMeierDisplay.from_predictions(y, risk)
    assert display.pvalue_ < 1e-6 and display.chisq_ > 20
    assert display.group_names == ["low risk", "high risk"]
    assert display.n_samples == [150, 150]
    low, high = display.n_events
    assert high > low and low + high == int(y["event"].sum())
    # the high-risk curve lies below the low-risk one
    grid = np.linspace(0, min(display.time[0][-1], display.time[1][-1]), 200)
    s_low = _step(display.time[0], display.survival[0], grid)
    s_high = _step(display.time[1], display.survival[1], grid)
    assert (s_high <= s_low + 1e-12).all()
    assert (s_low - s_high).max() > 0.3
    # drawn: the test in the title, the groups in the legend
    assert isinstance(display.figure_, Figure) and display.ax_.figure is display.figure_
    assert len(display.lines_) == 2
    title = display.ax_.get_title()
    assert title.startswith("log-rank chi2 = ") and "p = " in title
    assert _legend(display.ax_) == [
        f"low risk (n=150, events={low})", f"high risk (n=150, events={high})"
    ]


def test_matches_scikit_survival(data):
    _, y, risk = data
    display = KaplanMeierDisplay.from_predictions(y, risk, n_groups=3, conf_level=0.9)
    groups = display.groups
    assert np.array_equal(groups, np.searchsorted(display.thresholds, risk, side="right"))
    assert np.allclose(display.thresholds, np.quantile(risk, [1 / 3, 2 / 3]))
    assert display.n_samples == [100, 100, 100]
    assert display.group_names == ["low risk", "intermediate risk", "high risk"]
    for k in range(3):
        rows = groups == k
        t, s, ci = kaplan_meier_estimator(
            y["event"][rows], y["time"][rows], conf_level=0.9, conf_type="log-log"
        )
        assert np.array_equal(display.time[k], t)
        assert np.array_equal(display.survival[k], s)
        assert np.allclose(display.conf_int[k], ci, equal_nan=True)
        assert display.conf_int[k].shape == (2, len(t))
    chisq, pvalue = compare_survival(y, groups)
    assert display.chisq_ == pytest.approx(chisq)
    assert display.pvalue_ == pytest.approx(pvalue)
    # the more risk, the more events
    assert display.n_events == sorted(display.n_events)


def test_random_risk_is_not_significant(data):
    _, y, _ = data
    risk = np.random.RandomState(12345).normal(size=len(y))
    display = KaplanMeierDisplay.from_predictions(y, risk)
    assert display.pvalue_ > 0.1


def test_many_groups_thresholds_and_no_bands(data):
    _, y, risk = data
    display = KaplanMeierDisplay.from_predictions(y, risk, n_groups=5, conf_level=None)
    assert display.conf_int is None and display.conf_level is None
    assert display.group_names[0].endswith("(lowest)")
    assert display.group_names[-1].endswith("(highest)")
    assert len(display.lines_) == 5
    assert not display.ax_.collections  # no band drawn
    # thresholds from another set (e.g. the training set)
    display = KaplanMeierDisplay.from_predictions(y, risk, thresholds=[0.0])
    assert display.n_samples == [int((risk < 0).sum()), int((risk >= 0).sum())]
    assert display.thresholds.tolist() == [0.0]


def test_plot_on_given_axes_and_title(data):
    _, y, risk = data
    fig, (ax1, ax2) = plt.subplots(1, 2)
    display = KaplanMeierDisplay.from_predictions(y, risk, ax=ax1, name="true risk")
    assert display.ax_ is ax1 and display.figure_ is fig
    assert display.ax_.get_title().startswith("true risk: log-rank chi2")
    assert len(ax1.collections) == 2  # the confidence bands
    display.plot(ax=ax2, conf_int=False, title="again")
    assert display.ax_ is ax2 and ax2.get_title() == "again"
    assert not ax2.collections


def test_from_estimator(data):
    X, y, risk = data
    tab = X.filter(like="tab_")
    model = CoxPHSurvivalAnalysis().fit(tab, y)
    display = KaplanMeierDisplay.from_estimator(model, tab, y, n_groups=2)
    expected = KaplanMeierDisplay.from_predictions(y, model.predict(tab))
    assert display.chisq_ == pytest.approx(expected.chisq_)
    assert display.name == "CoxPHSurvivalAnalysis"
    assert display.ax_.get_title().startswith("CoxPHSurvivalAnalysis: log-rank")
    assert display.pvalue_ < 1e-3  # the table carries half of the risk
    with pytest.raises(ValueError, match="predict method"):
        KaplanMeierDisplay.from_estimator(object(), tab, y)


def test_time_zero_and_integer_times():
    y = Surv.from_arrays(event=[True, False, True, True], time=[0, 1, 2, 3])
    display = KaplanMeierDisplay.from_predictions(y, [0.1, 0.2, 0.9, 0.8])
    assert display.n_samples == [2, 2]
    assert display.lines_[0].get_xdata()[0] == 0.0


@pytest.mark.parametrize(
    "y, risk, kwargs, match",
    [
        (np.arange(10.0), np.arange(10.0), {}, "structured array of survival outcomes"),
        (np.ones(10, dtype=bool), np.arange(10.0), {}, "structured array"),
        (np.zeros(10, dtype=[("time", float), ("event", bool)]), np.arange(10.0), {},
         "first field of y, 'time', must be the event indicator"),
        (np.zeros(10, dtype=[("e", bool), ("t", float), ("x", float)]),
         np.arange(10.0), {}, "two fields"),
        ("y", np.arange(12.0), {}, "must have the same length"),
        ("y", np.arange(9.0), {}, "y has 10 samples, risk has 9"),
        ("y", np.arange(20.0).reshape(10, 2), {}, "must be 1-D"),
        ("y", np.r_[np.arange(9.0), np.nan], {}, "NaN or infinite"),
        ("y", ["a"] * 10, {}, "array of numbers"),
        ("y", np.arange(10.0), {"n_groups": 1}, "n_groups must be >= 2"),
        ("y", np.arange(10.0), {"n_groups": 0}, "n_groups must be >= 2"),
        ("y", np.arange(10.0), {"n_groups": 11}, r"n_groups must be <= the number"),
        ("y", np.arange(10.0), {"n_groups": 2.0}, "n_groups must be an int"),
        ("y", np.arange(10.0), {"n_groups": True}, "n_groups must be an int"),
        ("y", np.zeros(10), {}, "A risk group is empty"),
        ("y", np.arange(10.0), {"thresholds": [5.0, 2.0]}, "strictly increasing"),
        ("y", np.arange(10.0), {"thresholds": [100.0]}, "A risk group is empty"),
        ("y", np.arange(10.0), {"conf_level": 1.5}, r"conf_level must be in \(0, 1\)"),
    ],
)
def test_bad_inputs(y, risk, kwargs, match):
    if isinstance(y, str):
        y = Surv.from_arrays(event=np.arange(10) % 2 == 0, time=np.arange(1.0, 11.0))
    with pytest.raises(ValueError, match=match):
        KaplanMeierDisplay.from_predictions(y, risk, **kwargs)
