"""Modality ablation: refit a fusion model on every subset of its modalities."""

import itertools

import numpy as np
from sklearn.base import clone

from ._report import evaluate

__all__ = ["modality_ablation"]

# Parameters holding the modalities, in order of preference (auto-detection).
_MODALITY_PARAMS = ("modalities", "image_columns", "estimators")
_SEPARATOR = "+"


def _depth(key):
    return key.count("__")


def _find_param(estimator, param):
    params = estimator.get_params(deep=True)
    if param is not None:
        if param not in params:
            raise ValueError(
                f"{type(estimator).__name__} has no parameter {param!r}; parameters "
                f"ending in {_MODALITY_PARAMS}: "
                f"{[k for k in params if k.split('__')[-1] in _MODALITY_PARAMS]}."
            )
        return param
    for last in _MODALITY_PARAMS:
        keys = [k for k in params if k.split("__")[-1] == last and params[k] is not None]
        if not keys:
            continue
        shallowest = min(_depth(k) for k in keys)
        keys = [k for k in keys if _depth(k) == shallowest]
        if len(keys) > 1:
            raise ValueError(
                f"Several parameters could hold the modalities: {keys}; pass param=."
            )
        return keys[0]
    raise ValueError(
        f"Cannot find the modalities of {type(estimator).__name__}: it has no "
        f"parameter named {' / '.join(_MODALITY_PARAMS)} (at any depth). Pass "
        "param='<step>__<parameter>' naming the list of modalities."
    )


def _entries(value, param):
    """Return [(name, entry)] for a list of (name, ...) tuples, of str, or a dict."""
    if isinstance(value, dict):
        return [(str(k), (k, v)) for k, v in value.items()]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{param!r} must be a non-empty list of modalities, got {value!r}.")
    out = []
    for entry in value:
        if isinstance(entry, (tuple, list)) and entry and isinstance(entry[0], str):
            out.append((entry[0], entry))
        elif isinstance(entry, str):
            out.append((entry, entry))
        else:
            raise ValueError(
                f"Cannot name the modality {entry!r} of {param!r}; expected (name, ...) "
                "tuples, column names or a dict."
            )
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate modality names in {param!r}: {names}.")
    return out


def _rebuild(value, kept):
    """The parameter value restricted to the ``kept`` (name, entry) pairs."""
    if isinstance(value, dict):
        return {k: v for _, (k, v) in kept}
    entries = [entry for _, entry in kept]
    return tuple(entries) if isinstance(value, tuple) else entries


def _subsets(names, subsets):
    n = len(names)
    if isinstance(subsets, str):
        if subsets == "all":
            sizes = range(n, 0, -1)
        elif subsets in ("single", "unimodal"):
            sizes = [n, 1] if n > 1 else [1]
        elif subsets == "leave_one_out":
            sizes = [n, n - 1] if n > 1 else [1]
        else:
            raise ValueError(
                f"subsets={subsets!r} must be 'all', 'single', 'leave_one_out' or a list "
                "of lists of modality names."
            )
        return [c for size in sizes for c in itertools.combinations(names, size)]
    out = []
    for subset in subsets:
        subset = [subset] if isinstance(subset, str) else list(subset)
        unknown = [s for s in subset if s not in names]
        if unknown or not subset:
            raise ValueError(f"Subset {subset} must name modalities among {names}.")
        ordered = tuple(n_ for n_ in names if n_ in subset)
        if ordered not in out:
            out.append(ordered)
    if not out:
        raise ValueError("subsets is empty.")
    return out


def _sibling_updates(estimator, param, names, kept_names):
    """Per-modality siblings of ``param``: ``weights`` lists and dicts keyed by name."""
    prefix = param.rsplit("__", 1)[0] + "__" if "__" in param else ""
    params = estimator.get_params(deep=True)
    updates = {}
    positions = [names.index(n) for n in kept_names]
    for key, value in params.items():
        if key == param or not key.startswith(prefix) or "__" in key[len(prefix):]:
            continue
        if key[len(prefix):] == "weights" and value is not None and not isinstance(
                value, (str, dict)) and np.ndim(value) == 1 and len(value) == len(names):
            kept = [value[i] for i in positions]
            updates[key] = np.asarray(kept) if isinstance(value, np.ndarray) else kept
        elif (isinstance(value, dict) and value
              and all(isinstance(k, str) for k in value) and set(value) <= set(names)):
            updates[key] = {k: v for k, v in value.items() if k in kept_names}
    return updates


def modality_ablation(estimator, X, y, *, groups=None, cv=5, scoring=None, subsets="all",
                      param=None, n_bootstrap=1000, confidence=0.95, random_state=0,
                      n_jobs=None, params=None, bootstrap_groups=False,
                      return_estimators=False, error_score="raise", plot_dir=None,
                      verbose=0):
    """Evaluate a fusion model on every subset of its modalities, on shared folds.

    The same (cloned) model is refitted with only some of its modalities;
    the single-modality subsets are the unimodal baselines and the full set
    is the fusion model, so the table answers "does fusion help?" and "what
    does each modality add?" (the ablations of the three studies). All
    subsets are cross-validated by :func:`evaluate` on the same folds.

    Parameters
    ----------
    estimator : estimator
        A model whose modalities are a list parameter:

        - ``modalities=[(name, ImageModality | TabularModality), ...]``
          (:class:`~skmultimodal.fusion.IntermediateFusionClassifier`,
          :class:`~skmultimodal.fusion.CrossAttentionFusionClassifier`);
        - ``estimators=[(name, estimator, columns), ...]``
          (:class:`~skmultimodal.fusion.LateFusionClassifier`; also works for
          scikit-learn's voting and stacking ensembles);
        - ``image_columns`` (a list of columns or a dict) of study 3's
          :class:`~skmultimodal.fusion.DeepFeatureExtractor`, at any depth of
          a Pipeline;
        - any other parameter named by ``param``.

        Siblings that are per modality are restricted too: a ``weights``
        list with one weight per modality, and dicts keyed by modality names.
    X : DataFrame of shape (n_samples, n_columns)
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,), default=None
        Patient of each row; folds are then patient-grouped (see
        :func:`evaluate`).
    cv : int, cross-validation generator or iterable, default=5
    scoring : None, str, list or dict, default=None
        Metrics, as :func:`~skmultimodal.metrics.get_scorers` takes them.
    subsets : "all", "single", "leave_one_out" or list of lists of names, \
            default="all"
        "all": every non-empty subset (``2**n - 1`` fits per fold), largest
        first; "single": the full model and each modality alone;
        "leave_one_out": the full model and each subset missing one modality.
    param : str, default=None
        Parameter holding the modalities, e.g. ``"clf__modalities"`` for a
        Pipeline step; None finds the shallowest parameter named
        ``modalities``, else ``image_columns``, else ``estimators``.
    n_bootstrap, confidence, random_state, n_jobs, params, bootstrap_groups, \
return_estimators, error_score, plot_dir, verbose
        As in :func:`evaluate`.

    Returns
    -------
    report : EvaluationReport
        The :func:`evaluate` report with one model per subset, named by its
        modalities joined with "+" (e.g. "image+clinical"); ``summary`` and
        ``folds`` get the columns ``modalities`` (that name) and
        ``n_modalities``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.ensemble import VotingClassifier
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.model_selection import modality_ablation
    >>> X, y = make_multimodal_classification(100, random_state=0)
    >>> model = VotingClassifier([("a", LogisticRegression()),
    ...                           ("b", LogisticRegression(C=0.1))], voting="soft")
    >>> report = modality_ablation(model, X.drop(columns="image"), y, cv=3,
    ...                            scoring="roc_auc", n_bootstrap=0)
    >>> report.summary["modalities"].tolist()
    ['a+b', 'a', 'b']
    """
    param = _find_param(estimator, param)
    value = estimator.get_params(deep=True)[param]
    names = [n for n, _ in _entries(value, param)]
    chosen = _subsets(names, subsets)

    models = {}
    for subset in chosen:
        model = clone(estimator)
        current = model.get_params(deep=True)[param]
        kept = [(n, e) for n, e in _entries(current, param) if n in subset]
        updates = _sibling_updates(model, param, names, list(subset))
        updates[param] = _rebuild(current, kept)
        model.set_params(**updates)
        models[_SEPARATOR.join(subset)] = model

    report = evaluate(
        models, X, y, groups=groups, cv=cv, scoring=scoring, n_bootstrap=n_bootstrap,
        confidence=confidence, random_state=random_state, n_jobs=n_jobs, params=params,
        bootstrap_groups=bootstrap_groups, return_estimators=return_estimators,
        error_score=error_score, plot_dir=plot_dir,
        verbose=verbose,
    )
    size = {_SEPARATOR.join(s): len(s) for s in chosen}
    for frame in (report.summary, report.folds):
        frame.insert(1, "modalities", frame["model"])
        frame.insert(2, "n_modalities", frame["model"].map(size).astype(int))
    return report
