"""Modality ablation: refit a fusion model on every subset of its modalities."""

import itertools
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from ..modalities import ImageModality, TabularModality
from ..modalities._multimodal import as_column_list, find_multimodal_step, modality_present
from ._report import evaluate

__all__ = ["modality_ablation"]

_SEPARATOR = "+"


def _named_entries(value, param):
    """Names of a list of ``(name, ...)`` tuples (the value of ``param``)."""
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(e, (list, tuple)) and e and isinstance(e[0], str) for e in value):
        raise ValueError(
            f"{param!r} must be a non-empty list of (name, ...) tuples, got {value!r}."
        )
    names = [e[0] for e in value]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate modality names in {param!r}: {names}.")
    return names


def _restrictor(estimator, param):
    """``(names, restrict)``: the modality names and ``restrict(model, subset)``.

    ``restrict`` sets, on a clone ``model`` of ``estimator``, the parameters
    that keep only the modalities of ``subset``.
    """
    if param is None:
        path, step = find_multimodal_step(estimator)
        if step is None:
            raise ValueError(
                f"{type(estimator).__name__} does not read named modalities (no "
                "multimodal estimator in it, e.g. IntermediateFusionClassifier, "
                "LateFusionClassifier, IntermediateFusionSurvival or "
                "DeepFeatureExtractor, possibly as a Pipeline step). For another list of "
                "(name, ...) tuples, such as the estimators of a VotingClassifier, pass "
                "param='<its parameter name>'."
            )

        def restrict(model, subset):
            if not path:
                return model.select_modalities(subset)
            step = model.get_params(deep=True)[path]
            return model.set_params(**{path: step.select_modalities(subset)})

        return step.get_modality_names(), restrict
    params = estimator.get_params(deep=True)
    if param not in params:
        raise ValueError(f"{type(estimator).__name__} has no parameter {param!r}.")
    names = _named_entries(params[param], param)

    def restrict(model, subset):
        value = model.get_params(deep=True)[param]
        kept = [entry for entry in value if entry[0] in subset]
        return model.set_params(**{param: tuple(kept) if isinstance(value, tuple) else kept})

    return names, restrict


def _declared_columns(estimator):
    """``{name: columns}`` of the modalities whose columns the unfitted
    multimodal estimator in ``estimator`` names (None where it does not say:
    a TabularModality of every other column, a late-fusion entry of all X)."""
    _, step = find_multimodal_step(estimator)
    if step is None:
        return {}
    out = {}
    for entry in step.modalities:
        name, part = entry[0], entry[1]
        columns = entry[2] if len(entry) > 2 else None
        if isinstance(part, ImageModality) and part.column is not None:
            columns = [part.column]
        elif isinstance(part, TabularModality):
            columns = None if part.columns is None else as_column_list(part.columns)
        out[name] = None if columns is None else as_column_list(columns)
    return out


def _rows_every_subset_reads(estimator, X, chosen):
    """Mask of the rows that hold a modality of every subset (None: all rows).

    A row whose modalities are all missing from a subset cannot be used by
    that subset's model; the comparison of the subsets needs the same rows.
    A modality whose columns the estimator does not name counts as present.
    """
    declared = _declared_columns(estimator)
    if not isinstance(X, pd.DataFrame) or not declared:
        return None
    present = {}
    for name, columns in declared.items():
        if columns is None or not set(columns) <= set(X.columns):
            present[name] = np.ones(len(X), dtype=bool)
        else:
            present[name] = modality_present(X, columns)
    keep = np.ones(len(X), dtype=bool)
    for subset in chosen:
        keep &= np.any([present[name] for name in subset], axis=0)
    return None if keep.all() else keep


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


def modality_ablation(estimator, X, y, *, groups=None, cv=5, scoring=None, subsets="all",
                      param=None, times=None, n_bootstrap=1000, confidence=0.95,
                      random_state=0, n_jobs=None, params=None, bootstrap_groups=False,
                      return_estimators=False, error_score="raise", plot_dir=None,
                      verbose=0):
    """Evaluate a fusion model on every subset of its modalities, on shared folds.

    The same (cloned) model is refitted with only some of its modalities;
    the single-modality subsets are the unimodal baselines and the full set
    is the fusion model, so the table answers "does fusion help?" and "what
    does each modality add?" (the ablations of the three studies). All
    subsets are cross-validated by :func:`evaluate` on the same folds.

    Survival fusion models (:class:`~skmultimodal.survival.IntermediateFusionSurvival`,
    :class:`~skmultimodal.survival.CrossAttentionFusionSurvival`) are ablated
    the same way, with a scikit-survival structured ``y`` and the survival
    metrics of :func:`evaluate`.

    Parameters
    ----------
    estimator : estimator
        A multimodal estimator (:class:`~skmultimodal.fusion.IntermediateFusionClassifier`,
        :class:`~skmultimodal.fusion.CrossAttentionFusionClassifier`,
        :class:`~skmultimodal.fusion.LateFusionClassifier`,
        :class:`~skmultimodal.DeepFeatureExtractor`, the survival fusion
        networks: anything implementing
        :class:`~skmultimodal.modalities.MultimodalMixin`), or a Pipeline
        holding one (the last such step). Each subset is its
        ``select_modalities(subset)``: its ``modalities`` restricted, with
        what else is per modality (the voting weights of late fusion).
    X : DataFrame of shape (n_samples, n_columns)
    y : array-like of shape (n_samples,)
        Class labels, or a scikit-survival structured array (event, time)
        for a survival model.
    groups : array-like of shape (n_samples,), default=None
        Patient of each row; folds are then patient-grouped (see
        :func:`evaluate`).
    cv : int, cross-validation generator or iterable, default=5
    scoring : None, str, list or dict, default=None
        Metrics, as :func:`~skmultimodal.metrics.get_scorers` takes them;
        for survival models, as :func:`evaluate` takes them.
    subsets : "all", "single", "leave_one_out" or list of lists of names, \
            default="all"
        "all": every non-empty subset (``2**n - 1`` fits per fold), largest
        first; "single": the full model and each modality alone;
        "leave_one_out": the full model and each subset missing one modality.
    param : str, default=None
        For estimators that are not multimodal: the parameter holding a list
        of ``(name, ...)`` tuples to restrict, e.g. ``"estimators"`` of
        scikit-learn's :class:`~sklearn.ensemble.VotingClassifier` (at any
        depth: ``"clf__estimators"``). Parameters that are per entry (its
        ``weights``) are not restricted with it.
    times : array-like, default=None
        Survival models only: the evaluation times, as in :func:`evaluate`.
    n_bootstrap, confidence, random_state, n_jobs, params, bootstrap_groups, \
return_estimators, error_score, plot_dir, verbose
        As in :func:`evaluate`.

    Notes
    -----
    Rows that lack every modality of some subset (every column of those
    modalities None/NaN) cannot be read by that subset's model. They are
    left out for every subset, with a warning, so that all the subsets are
    compared on the same rows; ``report.index`` lists the rows used. With
    ``subsets="all"`` or ``"single"`` these are the rows holding every
    modality.

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
    ...                            scoring="roc_auc", n_bootstrap=0, param="estimators")
    >>> report.summary["modalities"].tolist()
    ['a+b', 'a', 'b']
    """
    names, restrict = _restrictor(estimator, param)
    chosen = _subsets(names, subsets)
    models = {_SEPARATOR.join(subset): restrict(clone(estimator), list(subset))
              for subset in chosen}
    keep = None if param is not None else _rows_every_subset_reads(estimator, X, chosen)
    if keep is not None:
        if not keep.any():
            raise ValueError(
                "No row holds a modality of every subset of the ablation (with "
                f"subsets={subsets!r}); choose subsets whose modalities the rows share."
            )
        warnings.warn(
            f"{int((~keep).sum())} of {len(keep)} rows lack every modality of some "
            "subset of the ablation, whose model could not read them; every subset is "
            f"evaluated on the other {int(keep.sum())} rows (report.index lists them), "
            "so that the subsets are compared on the same rows.",
            UserWarning, stacklevel=2,
        )
        rows = np.flatnonzero(keep)
        X, y = X.iloc[rows], _safe_indexing(y, rows)
        groups = None if groups is None else _safe_indexing(groups, rows)

    report = evaluate(
        models, X, y, groups=groups, cv=cv, scoring=scoring, times=times,
        n_bootstrap=n_bootstrap,
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
