"""Common checks of multimodal behaviour, on DataFrames with image and table columns.

scikit-learn's own checks (``parametrize_with_checks``) feed numeric arrays.
These checks add what the library promises on multimodal tables: cloning,
a pickle round trip with identical predictions, reproducibility from
``random_state``, predictions that do not depend on row order, grid search and
patient-grouped cross-validation, and missing modalities for the estimators
that support them (class attribute ``_supports_missing_modalities``).

Each check takes ``(estimator, X, y, groups)``; ``X`` is a DataFrame as made
by :func:`skmultimodal.datasets.make_multimodal_classification`.
"""

import pickle

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate


def check_clone_keeps_params(estimator, X, y, groups):
    """clone gives an unfitted estimator with equal parameters."""
    fitted = clone(estimator).fit(X, y)
    copy = clone(fitted)
    assert not hasattr(copy, "classes_")
    assert repr(copy.get_params(deep=False)) == repr(estimator.get_params(deep=False))


def check_pickle_round_trip(estimator, X, y, groups):
    """A pickled and reloaded estimator predicts identical probabilities."""
    fitted = clone(estimator).fit(X, y)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def check_same_random_state_same_model(estimator, X, y, groups):
    """Two fits with the same random_state give identical predictions."""
    first = clone(estimator).fit(X, y).predict_proba(X)
    second = clone(estimator).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def check_row_order_invariance(estimator, X, y, groups):
    """Predicting shuffled rows gives the shuffled predictions."""
    fitted = clone(estimator).fit(X, y)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(fitted.predict_proba(X.iloc[perm]),
                               fitted.predict_proba(X)[perm], atol=1e-6)


def check_grid_search(estimator, X, y, groups):
    """GridSearchCV refits the best candidate and predicts."""
    param = "random_state"
    search = GridSearchCV(clone(estimator), {param: [0, 1]}, cv=2)
    search.fit(X, y)
    assert search.best_params_[param] in (0, 1)
    assert search.predict(X).shape == (len(X),)


def check_grouped_cross_validate(estimator, X, y, groups):
    """cross_validate with StratifiedGroupKFold on patient groups, two jobs."""
    scores = cross_validate(clone(estimator), X, y, groups=groups,
                            cv=StratifiedGroupKFold(2), scoring="roc_auc", n_jobs=2)
    assert np.all((scores["test_score"] >= 0) & (scores["test_score"] <= 1))


def check_missing_modality(estimator, X, y, groups):
    """Rows with a missing image or an all-NaN table block are accepted."""
    X = X.copy()
    tab = [c for c in X.columns if str(c).startswith("tab_")]
    X.loc[X.index[::5], "image"] = None
    X.loc[X.index[2::5], tab] = np.nan
    fitted = clone(estimator).fit(X, y)
    proba = fitted.predict_proba(X)
    assert np.isfinite(proba).all()


def yield_multimodal_checks(estimator):
    """Yield the checks that apply to ``estimator``."""
    yield check_clone_keeps_params
    yield check_pickle_round_trip
    yield check_same_random_state_same_model
    yield check_row_order_invariance
    yield check_grid_search
    yield check_grouped_cross_validate
    if getattr(estimator, "_supports_missing_modalities", False):
        yield check_missing_modality
