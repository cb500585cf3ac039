"""Discovery of the public estimators of skmultimodal."""

import inspect
from importlib import import_module

from sklearn.base import BaseEstimator

# Sub-packages whose public names are estimators offered to users.
_ESTIMATOR_PACKAGES = ("skmultimodal.estimators", "skmultimodal.fusion", "skmultimodal.mil",
                       "skmultimodal.pretraining", "skmultimodal.survival")
# Estimators that are specifications used inside others, not models.
_EXCLUDED = {"ImageModality", "TabularModality"}


def all_estimators(type_filter=None):
    """List the public estimators of skmultimodal.

    Parameters
    ----------
    type_filter : {"classifier", "transformer", "survival"} or list of them, default=None
        Keep only estimators of these kinds ("survival": the time-to-event
        models of :mod:`skmultimodal.survival`, scikit-survival's kind).

    Returns
    -------
    estimators : list of (name, class) tuples, sorted by name
    """
    from sklearn.base import ClassifierMixin, TransformerMixin
    from sksurv.base import SurvivalAnalysisMixin

    found = {}
    for package in _ESTIMATOR_PACKAGES:
        try:
            module = import_module(package)
        except ModuleNotFoundError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) and issubclass(obj, BaseEstimator)
                    and not inspect.isabstract(obj) and not name.startswith("_")
                    and name not in _EXCLUDED):
                found[name] = obj
    def survival(cls):
        return issubclass(cls, SurvivalAnalysisMixin)

    kinds = {
        # the survival networks reuse the classifiers' machinery, not their kind
        "classifier": lambda cls: issubclass(cls, ClassifierMixin) and not survival(cls),
        "transformer": lambda cls: issubclass(cls, TransformerMixin),
        "survival": survival,
    }
    if type_filter is not None:
        filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = set(filters) - set(kinds)
        if unknown:
            raise ValueError(f"type_filter must be among {sorted(kinds)}, got {sorted(unknown)}")
        found = {n: c for n, c in found.items() if any(kinds[f](c) for f in filters)}
    return sorted(found.items())
