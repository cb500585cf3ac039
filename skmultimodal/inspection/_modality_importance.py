"""Modality importance: the drop of a score when a whole modality is scrambled or removed."""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ..modalities._image import check_column_present
from ..modalities._multimodal import (
    as_column_list,
    final_step,
    find_multimodal_step,
    modality_present,
)

__all__ = ["modality_importance"]

STRATEGIES = ("permute", "mask")


def _fitted_modalities(estimator):
    """``{name: [columns]}`` of the fitted multimodal estimator inside ``estimator``."""
    _, model = find_multimodal_step(estimator)
    if model is None:
        raise ValueError(
            f"Cannot tell the modalities of {type(final_step(estimator)).__name__}; pass "
            "modalities={name: column or list of columns} (they are read from the "
            "multimodal estimators: the fusion classifiers, LateFusionClassifier and "
            "DeepFeatureExtractor)."
        )
    columns = model.get_modality_columns()
    empty = [name for name, cols in columns.items() if not cols]
    if empty:
        raise ValueError(
            f"The modalities {empty} of {type(model).__name__} read X itself, not named "
            "columns; pass modalities={name: column or list of columns}."
        )
    return columns


def _check_modalities(modalities, estimator, X):
    if modalities is None:
        modalities = _fitted_modalities(estimator)
        what = f"the modalities of {type(find_multimodal_step(estimator)[1]).__name__}"
    elif isinstance(modalities, dict):
        what = "modalities"
    else:
        raise TypeError(
            "modalities must be None or a dict {name: column or list of columns}, got "
            f"{type(modalities).__name__}."
        )
    if not modalities:
        raise ValueError("modalities is empty.")
    out = {}
    for name, columns in modalities.items():
        columns = as_column_list(columns)
        if not columns:
            raise ValueError(f"Modality {name!r} has no columns.")
        try:
            check_column_present(X, columns)
        except KeyError as exc:
            raise KeyError(f"Columns of modality {name!r} ({what}): {exc.args[0]}") from None
        out[str(name)] = columns
    return out


def _permuted(X, columns, rng):
    """X with the rows of ``columns`` shuffled jointly (one permutation) among
    the rows where the modality is present; the others keep it missing."""
    out = X.copy()
    order = np.arange(len(X))
    rows = np.flatnonzero(modality_present(X, columns))
    order[rows] = rng.permutation(rows)
    for col in columns:
        pos = X.columns.get_loc(col)
        shuffled = X.iloc[order, pos]  # keeps the column's dtype
        shuffled.index = X.index
        out.isetitem(pos, shuffled)
    return out


def _masked(X, columns):
    """X with ``columns`` missing: NaN in numeric columns, None in the others."""
    out = X.copy()
    for col in columns:
        pos = X.columns.get_loc(col)
        if pd.api.types.is_numeric_dtype(X[col]) and not pd.api.types.is_bool_dtype(X[col]):
            out.isetitem(pos, pd.Series(np.nan, index=X.index))
        else:
            out.isetitem(pos, pd.Series([None] * len(X), index=X.index, dtype=object))
    return out


def _check_mask_support(estimator):
    model = final_step(estimator)
    if not getattr(model, "_supports_missing_modalities", False):
        raise ValueError(
            f"strategy='mask' needs an estimator that accepts missing modalities "
            f"(IntermediateFusionClassifier, CrossAttentionFusionClassifier, "
            f"LateFusionClassifier); {type(model).__name__} does not. Use "
            "strategy='permute'."
        )


def _rows_left(X, masked, groups):
    """Rows that keep some modality of ``groups`` once the columns ``masked``
    are missing."""
    left = np.zeros(len(X), dtype=bool)
    for columns in groups:
        rest = [c for c in columns if c not in masked]
        if rest:
            left |= modality_present(X, rest)
    return left


def _modality_groups(estimator, columns):
    """Column groups of every modality the model reads: its own where it can
    say, else those asked about."""
    try:
        return list(_fitted_modalities(estimator).values())
    except ValueError:
        return list(columns.values())


def _mask_scores(scorer, estimator, X, y, columns, n_repeats, baseline):
    """Scores with each modality masked, and the baseline of the same rows.

    Rows where the masked modality is the only one present are left out of
    that modality's scores (a model cannot predict from no modality); a
    warning says how many.
    """
    groups = _modality_groups(estimator, columns)
    scores, baselines, n_rows, dropped = [], [], [], {}
    for name, cols in columns.items():
        left = _rows_left(X, set(cols), groups)
        Xm, ym = (X, y) if left.all() else (X[left], y[left])
        if not left.all():
            dropped[name] = int((~left).sum())
        if not left.any():
            raise ValueError(
                f"strategy='mask': every row has modality {name!r} as its only one, so "
                "masking it leaves nothing to predict from; use strategy='permute'."
            )
        baselines.append(baseline if left.all() else float(scorer(estimator, Xm, ym)))
        scores.append(np.full(n_repeats, float(scorer(estimator, _masked(Xm, cols), ym))))
        n_rows.append(len(ym))
    if dropped:
        warnings.warn(
            "strategy='mask': rows where the masked modality is the only one present "
            "cannot be predicted without it and were left out of that modality's score "
            "(and of its baseline): "
            + ", ".join(f"{count} row(s) for {name!r}" for name, count in dropped.items())
            + ". See result.n_rows.",
            UserWarning, stacklevel=3,
        )
    return np.array(scores), np.array(baselines), np.array(n_rows)


def _bunch(baseline, baselines, scores, names, strategy, n_rows):
    importances = baselines[:, None] - scores
    return Bunch(
        importances=importances,
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        baseline_score=baseline,
        modalities=names,
        strategy=strategy,
        n_rows=n_rows,
    )


def modality_importance(estimator, X, y, *, modalities=None, strategy="permute",
                        scoring=None, n_repeats=5, random_state=None):
    """Importance of each modality: the drop of the score without its information.

    The modality-level counterpart of
    :func:`sklearn.inspection.permutation_importance`, for a model already
    fitted (nothing is refitted; :func:`~skmultimodal.model_selection.modality_ablation`
    refits without a modality instead). For each modality and repeat, the
    columns of the modality are

    - ``"permute"``: shuffled across rows, all with the same permutation, so
      every row gets another row's whole modality (an image with its own
      pixels, a table row with its own correlations), breaking only the
      link to the rest of the row and to the label. Where the modality is
      missing in some rows (every one of its columns None/NaN), it is
      shuffled among the rows that have it: each row keeps the modalities
      it has, so no row is left without any;
    - ``"mask"``: set to missing (image cells None, other columns NaN), which
      the fusion classifiers replace by their learned missing embedding and
      :class:`~skmultimodal.fusion.LateFusionClassifier` by leaving the
      modality's estimator out. Only for estimators that accept missing
      modalities. Masking is deterministic: it is scored once and the
      repeats are that one score (spread 0). Rows where the masked modality
      is the only one present cannot be predicted without it: they are
      left out of that modality's score and of the baseline it is compared
      with (``n_rows`` says how many rows remain), with a warning.

    and the importance is the score on the unchanged rows minus the score
    without the modality. Compute it on held-out rows to learn what the
    model relies on to generalise.

    Parameters
    ----------
    estimator : estimator
        A fitted classifier (or Pipeline) taking a DataFrame.
    X : DataFrame of shape (n_samples, n_columns)
    y : array-like of shape (n_samples,)
    modalities : dict of str to column or list of columns, default=None
        Columns of each modality. None reads them from the fitted estimator
        (or a Pipeline's final step): the column of each
        :class:`~skmultimodal.ImageModality` and the columns of each
        :class:`~skmultimodal.TabularModality` of a fusion classifier, the
        ``(name, estimator, columns)`` entries of a LateFusionClassifier
        (columns None: all of X). Names are those of
        :func:`~skmultimodal.model_selection.modality_ablation`.
    strategy : {"permute", "mask"}, default="permute"
    scoring : str, callable or None, default=None
        A single scorer as :func:`sklearn.metrics.check_scoring` takes it;
        None uses ``estimator.score``.
    n_repeats : int, default=5
        Permutations per modality.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations.

    Returns
    -------
    result : Bunch
        - ``importances``: ndarray of shape (n_modalities, n_repeats);
        - ``importances_mean``, ``importances_std``: ndarrays of shape
          (n_modalities,) over the repeats;
        - ``baseline_score``: float, the score on the unchanged X;
        - ``modalities``: list of the modality names, in the order of the rows;
        - ``strategy``: the strategy used;
        - ``n_rows``: ndarray of shape (n_modalities,), the rows each
          modality was scored on (all of X, but with ``"mask"`` where some
          rows hold that modality only).

    See Also
    --------
    plot_modality_importance : Box plot of the result.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.inspection import modality_importance
    >>> X, y = make_multimodal_classification(200, image_share=0.0, random_state=0)
    >>> X = X.drop(columns="image")
    >>> clf = LogisticRegression().fit(X, y)
    >>> result = modality_importance(
    ...     clf, X, y, modalities={"signal": ["tab_0", "tab_1", "tab_2", "tab_3"],
    ...                            "noise": ["tab_4", "tab_5"]}, random_state=0)
    >>> result.importances.shape, bool(result.importances_mean[0] > 0.2)
    ((2, 5), True)
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} must be one of {list(STRATEGIES)}.")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) \
            or n_repeats < 1:
        raise ValueError(f"n_repeats={n_repeats!r} must be a positive int.")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"modality_importance expects X to be a pandas DataFrame, got "
            f"{type(X).__name__}; the modalities are named by its columns."
        )
    check_is_fitted(estimator)
    if strategy == "mask":
        _check_mask_support(estimator)
    columns = _check_modalities(modalities, estimator, X)
    if isinstance(scoring, (list, tuple, set, dict)):
        raise ValueError("scoring must be a single scorer (a str, a callable or None).")
    scorer = check_scoring(estimator, scoring=scoring)
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
    baseline = float(scorer(estimator, X, y))
    names = list(columns)
    if strategy == "mask":
        scores, baselines, n_rows = _mask_scores(scorer, estimator, X, y, columns,
                                                 n_repeats, baseline)
        return _bunch(baseline, baselines, scores, names, strategy, n_rows)
    rng = check_random_state(random_state)
    scores = np.empty((len(names), n_repeats))
    for m, name in enumerate(names):
        for r in range(n_repeats):
            scores[m, r] = scorer(estimator, _permuted(X, columns[name], rng), y)
    return _bunch(baseline, np.full(len(names), baseline), scores, names, strategy,
                  np.full(len(names), len(X)))
