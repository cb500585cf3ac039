"""Grouped splits as the default, and the leakage check."""

import numpy as np
import pytest
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.model_selection import GroupLeakageError, check_group_leakage, make_cv


def test_make_cv_grouped_whenever_groups_are_given():
    y = np.array([0, 1] * 20)
    cv = make_cv(4, y, groups=np.arange(40) // 2, random_state=3)
    assert isinstance(cv, StratifiedGroupKFold)
    assert (cv.n_splits, cv.shuffle, cv.random_state) == (4, True, 3)
    cv = make_cv(4, y, random_state=3)
    assert isinstance(cv, StratifiedKFold) and cv.random_state == 3 and cv.shuffle
    assert isinstance(make_cv(3, np.linspace(0, 1, 40)), KFold)
    assert isinstance(make_cv(3, np.linspace(0, 1, 40), groups=np.arange(40)), GroupKFold)
    assert make_cv(3, y, shuffle=False).random_state is None
    splitter = LeaveOneGroupOut()
    assert make_cv(splitter, y, groups=np.arange(40)) is splitter
    assert len(list(make_cv([(np.arange(20), np.arange(20, 40))], y).split())) == 1
    with pytest.raises(ValueError, match="at least 2"):
        make_cv(1, y)


def test_grouped_folds_keep_patients_together():
    X, y = make_multimodal_classification(200, n_patients=60, image_size=8, random_state=0)
    groups = X["patient_id"].to_numpy()
    cv = make_cv(5, y, groups, random_state=0)
    tested = []
    for train, test in cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
        check_group_leakage(groups[train], groups[test])
        tested.append(test)
    assert sorted(np.concatenate(tested).tolist()) == list(range(200))
    # A row-level splitter leaks patients.
    train, test = next(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    with pytest.raises(GroupLeakageError) as err:
        check_group_leakage(groups[train], groups[test])
    assert set(err.value.shared) == set(groups[train]) & set(groups[test])


def test_check_group_leakage_message():
    check_group_leakage(["p1", "p1", "p2"], ["p3"])
    with pytest.raises(GroupLeakageError, match=r"7 group\(s\).*\['p0', 'p1'.* and 2 more"):
        check_group_leakage([f"p{i}" for i in range(7)], [f"p{i}" for i in range(9)])
    assert issubclass(GroupLeakageError, ValueError)
