"""What turns a network classifier of the library into a survival model."""

import numpy as np
import torch
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted
from sksurv.base import SurvivalAnalysisMixin
from sksurv.functions import StepFunction
from sksurv.linear_model.coxph import BreslowEstimator

from ..model_selection._survival_metrics import check_survival_y
from ._losses import CoxPHLoss, DiscreteTimeLoss

#: Survival losses of the network estimators.
SURVIVAL_LOSSES = ("cox", "discrete_time")


def check_survival_target(y, n_rows, who):
    """Event indicators and times of a scikit-survival structured array ``y``.

    Raises a ValueError naming the problem: not a structured array of
    (event, time), a length other than X's, times that are negative, NaN
    or infinite, or no event at all.
    """
    if not (isinstance(y, np.ndarray) and y.dtype.names and len(y.dtype.names) == 2):
        raise ValueError(
            f"{who} needs y as a scikit-survival structured array of (event, time), "
            "e.g. sksurv.util.Surv.from_arrays(event, time); got "
            f"{type(y).__name__}{'' if not hasattr(y, 'dtype') else f' of dtype {y.dtype}'}."
        )
    return check_survival_y(y, n_rows)


def _never(estimator):
    return False


def _cox_risk(outputs):
    return outputs[:, :1]


def _discrete_risk(outputs):
    survival = torch.cumprod(1.0 - torch.sigmoid(outputs), dim=1)
    return -survival.sum(dim=1, keepdim=True)


class SurvivalNetMixin(SurvivalAnalysisMixin):
    """Survival heads for the network estimators (put it first in the bases).

    The network outputs a log-hazard ratio (``loss="cox"``: Cox partial
    likelihood, baseline hazard by Breslow's estimator on the training rows)
    or one hazard logit per time bin (``loss="discrete_time"``: bins at the
    quantiles of the training event times). ``predict`` gives a risk score
    (higher means an earlier event), ``score`` Harrell's concordance index,
    ``predict_survival_function`` and ``predict_cumulative_hazard_function``
    what scikit-survival's estimators give.
    """

    _target_dtype = torch.float32
    class_weight = None  # no classes

    # -- targets and loss ---------------------------------------------------
    def _encode_targets(self, y, n_rows):
        if self.loss not in SURVIVAL_LOSSES:
            raise ValueError(f"loss={self.loss!r} must be one of {list(SURVIVAL_LOSSES)}.")
        event, time = check_survival_target(y, n_rows, type(self).__name__)
        self._train_target = (event, time)
        if self.loss == "cox":
            return np.column_stack([time, event]).astype(np.float32), 1
        edges = np.unique(np.quantile(time[event], np.linspace(0, 1, self.n_time_bins + 1)))
        if len(edges) < 2:
            raise ValueError("loss='discrete_time' needs events at two distinct times at "
                             "least to form time bins.")
        edges[0] = 0.0
        self.time_bins_ = edges
        bins = np.clip(np.searchsorted(edges[1:-1], time, side="right"), 0, len(edges) - 2)
        return np.column_stack([bins, event]).astype(np.float32), len(edges) - 1

    def _criterion(self):
        return CoxPHLoss if self.loss == "cox" else DiscreteTimeLoss

    def _stratify_by(self, y_enc):
        return y_enc[:, 1].astype(int)  # the event indicator

    def _criterion_weight(self, y_enc):
        return None

    def _net_params(self):
        return {"callbacks__valid_acc": None}  # no accuracy of a risk score

    # -- fit and predictions ------------------------------------------------
    def fit(self, X, y):
        """Train the network on X and the survival target y.

        Parameters
        ----------
        X : see the class documentation
        y : structured array of shape (n_samples,)
            Event indicator (bool) and time of event or censoring, as
            ``sksurv.util.Surv.from_arrays(event, time)`` makes it.

        Returns
        -------
        self : object
        """
        for attr in ("baseline_", "time_bins_", "event_times_"):
            self.__dict__.pop(attr, None)
        n_rows = len(y) if hasattr(y, "__len__") else None
        if n_rows is not None and n_rows < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows, one of them an event, "
                f"to fit; got {n_rows} row{'' if n_rows == 1 else 's'}.")
        try:
            super().fit(X, y)
            event, time = self._train_target
        finally:
            self.__dict__.pop("_train_target", None)
        self.__dict__.pop("classes_", None)
        self.event_times_ = np.unique(time[event])
        if self.loss == "cox":
            self.baseline_ = BreslowEstimator().fit(self.predict(X), event, time)
        return self

    def _outputs(self, X):
        dataset = self.make_dataset(X)
        out = self.net_.forward(dataset, training=False, device="cpu")
        out = out.float().numpy()
        if not np.isfinite(out).all():
            raise FloatingPointError(
                f"{type(self).__name__} gave non-finite outputs for "
                f"{int((~np.isfinite(out).all(axis=1)).sum())} row(s); the network "
                "diverged or its inputs hold extreme values.")
        return out

    def explained_output(self):
        """What explanations (SHAP) attribute: the risk score of :meth:`predict`.

        Returns
        -------
        output : callable
            Maps the network's outputs (a torch tensor) to the risk, (N, 1).
        names : list of str
            ``["risk"]``.
        """
        if self.loss == "cox":
            return _cox_risk, ["risk"]
        return _discrete_risk, ["risk"]

    def _discrete_survival(self, X):
        hazard = 1.0 / (1.0 + np.exp(-self._outputs(X).astype(np.float64)))
        return np.cumprod(1.0 - hazard, axis=1)

    def predict(self, X):
        """Risk scores: higher means an earlier event.

        ``loss="cox"``: the predicted log-hazard ratio; ``"discrete_time"``:
        minus the expected number of time bins survived.

        Returns
        -------
        risk : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "net_")
        if self.loss == "cox":
            return self._outputs(X)[:, 0].astype(np.float64)
        return -self._discrete_survival(X).sum(axis=1)

    def _functions(self, X, kind, return_array):
        check_is_fitted(self, "net_")
        if self.loss == "cox":
            return self._predict_function(f"get_{kind}_function", self.baseline_,
                                          self.predict(X), return_array)
        surv = self._discrete_survival(X)
        values = surv if kind == "survival" else -np.log(np.clip(surv, 1e-12, None))
        times = self.time_bins_[1:]
        if return_array:
            return values
        first = 1.0 if kind == "survival" else 0.0
        x = np.concatenate([[0.0], times])
        return np.array([StepFunction(x, np.concatenate([[first], v])) for v in values])

    def predict_survival_function(self, X, return_array=False):
        """Survival function of each row, S(t | x).

        Parameters
        ----------
        X : see the class documentation
        return_array : bool, default=False
            Return an array of :class:`sksurv.functions.StepFunction` (False)
            or the values at the training event times (``loss="cox"``:
            ``baseline_.unique_times_``) or at the ends of the time bins
            (``"discrete_time"``: ``time_bins_[1:]``).

        Returns
        -------
        survival : ndarray
        """
        return self._functions(X, "survival", return_array)

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Cumulative hazard function of each row, H(t | x).

        Parameters
        ----------
        X : see the class documentation
        return_array : bool, default=False
            As for :meth:`predict_survival_function`.

        Returns
        -------
        cum_hazard : ndarray
        """
        return self._functions(X, "cumulative_hazard", return_array)

    @available_if(_never)
    def predict_proba(self, X):  # pragma: no cover - never available
        """Not available: a survival model predicts risks and survival functions."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = None
        tags.target_tags.required = True
        tags.classifier_tags = None
        return tags
