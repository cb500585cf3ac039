"""Cross-validation splitters with patient-grouped splits as the default."""

import numbers

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils.multiclass import type_of_target

__all__ = ["GroupLeakageError", "check_group_leakage", "make_cv"]


class GroupLeakageError(ValueError):
    """A group (patient) has samples on both sides of a train/test split.

    Attributes
    ----------
    shared : list
        The groups found in both the training and the test rows.
    """

    def __init__(self, message, shared=()):
        super().__init__(message)
        self.shared = list(shared)


def make_cv(cv=5, y=None, groups=None, *, shuffle=True, random_state=None):
    """Return the cross-validation splitter for ``cv``, grouped whenever ``groups`` are.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable, default=5
        An int is a number of folds:

        - with ``groups``:
          :class:`~sklearn.model_selection.StratifiedGroupKFold` (all the
          samples of a group, e.g. a patient, fall in the same fold, and the
          class proportions are kept as far as the groups allow);
        - without: :class:`~sklearn.model_selection.StratifiedKFold`.

        For a target that is not a class label (regression), the
        non-stratified :class:`~sklearn.model_selection.GroupKFold` /
        :class:`~sklearn.model_selection.KFold` are used. A splitter object
        or an iterable of (train, test) index pairs is returned as is
        (wrapped by :func:`sklearn.model_selection.check_cv`); whether its
        folds respect the groups is checked by
        :func:`~skmultimodal.model_selection.evaluate` with
        :func:`check_group_leakage`.
    y : array-like of shape (n_samples,), default=None
        Target, used to choose stratification.
    groups : array-like of shape (n_samples,), default=None
        Group (patient) of each sample.
    shuffle : bool, default=True
        Shuffle before splitting (int ``cv`` only).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling, for reproducible folds.

    Returns
    -------
    splitter : cross-validation object
        Has ``split(X, y, groups)`` and ``get_n_splits``.

    Examples
    --------
    >>> from skmultimodal.model_selection import make_cv
    >>> make_cv(5, [0, 1] * 10, groups=range(20), random_state=0)
    StratifiedGroupKFold(n_splits=5, random_state=0, shuffle=True)
    >>> make_cv(3, [0, 1] * 10, random_state=0)
    StratifiedKFold(n_splits=3, random_state=0, shuffle=True)
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}.")
        stratify = y is not None and type_of_target(y) in ("binary", "multiclass")
        state = random_state if shuffle else None
        if groups is not None:
            if stratify:
                return StratifiedGroupKFold(cv, shuffle=shuffle, random_state=state)
            if shuffle:
                return GroupKFold(cv, shuffle=True, random_state=state)
            return GroupKFold(cv)
        if stratify:
            return StratifiedKFold(cv, shuffle=shuffle, random_state=state)
        return KFold(cv, shuffle=shuffle, random_state=state)
    if cv is None:
        raise ValueError("cv=None is ambiguous here; pass a number of folds or a splitter.")
    return check_cv(cv, y, classifier=True)


def check_group_leakage(train_groups, test_groups, *, max_shown=5):
    """Raise if a group (patient) is on both sides of a split.

    Parameters
    ----------
    train_groups, test_groups : array-like
        Groups of the training rows and of the test rows.
    max_shown : int, default=5
        How many shared groups the error message lists.

    Raises
    ------
    GroupLeakageError
        When some groups appear in both; ``err.shared`` lists them all.

    Examples
    --------
    >>> from skmultimodal.model_selection import check_group_leakage
    >>> check_group_leakage([1, 1, 2], [3, 4])
    >>> from skmultimodal.model_selection import GroupLeakageError
    >>> try:
    ...     check_group_leakage([1, 1, 2], [2, 3])
    ... except GroupLeakageError as err:
    ...     print(err.shared)
    [2]
    """
    shared = np.intersect1d(np.asarray(train_groups), np.asarray(test_groups))
    if shared.size:
        shown = [s.item() if isinstance(s, np.generic) else s for s in shared[:max_shown]]
        more = f" and {shared.size - max_shown} more" if shared.size > max_shown else ""
        raise GroupLeakageError(
            f"{shared.size} group(s) are in both the training and the test rows: "
            f"{shown}{more}. Samples of one patient on both sides of a split inflate "
            "the scores; use a grouped splitter (e.g. StratifiedGroupKFold, or an "
            "int cv with groups=...).",
            shared=shared.tolist(),
        )


def check_splits(splits, groups):
    """Check every (train, test) pair of ``splits`` with :func:`check_group_leakage`."""
    groups = np.asarray(groups)
    for k, (train, test) in enumerate(splits):
        try:
            check_group_leakage(groups[train], groups[test])
        except GroupLeakageError as exc:
            raise GroupLeakageError(f"Fold {k}: {exc}", shared=exc.shared) from None
