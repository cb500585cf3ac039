"""Parameters: scikit-learn's constraints, checked at fit, and numpy scalars.

A grid over ``numpy.arange`` sends numpy integers and floats; every numeric
parameter of every estimator (nested ones included) must take them and give
the model the Python numbers give.
"""

from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from instance_generator import bad_input_instances
from skmultimodal import IntermediateFusionClassifier
from skmultimodal.datasets import make_multimodal_classification

INSTANCES = list(bad_input_instances())


@pytest.fixture(scope="module")
def table():
    X, y = make_multimodal_classification(32, image_size=16, n_features=4, n_informative=2,
                                          random_state=0)
    return X, y


def _as_numpy_scalars(estimator):
    """Every int and float parameter, nested ones included, as a numpy scalar."""
    changed = {}
    for name, value in estimator.get_params(deep=True).items():
        if isinstance(value, (bool, np.bool_)):
            continue
        if isinstance(value, Integral):
            changed[name] = np.int64(value)
        elif isinstance(value, Real):
            changed[name] = np.float64(value)
    return changed


def _output(fitted, X):
    method = "predict_proba" if hasattr(fitted, "predict_proba") else "transform"
    return getattr(fitted, method)(X)


@pytest.mark.parametrize("estimator", INSTANCES, ids=[type(e).__name__ for e in INSTANCES])
def test_numpy_scalars_give_the_same_model(estimator, table):
    X, y = table
    changed = _as_numpy_scalars(estimator)
    assert changed, "no numeric parameter to try"
    with_numpy = clone(estimator).set_params(**changed)
    expected = _output(clone(estimator).fit(X, y), X)
    np.testing.assert_array_equal(_output(with_numpy.fit(X, y), X), expected)


def test_numpy_integers_from_a_grid_build_the_network(table):
    X, y = table
    fusion = INSTANCES[[type(e) for e in INSTANCES].index(IntermediateFusionClassifier)]
    for embed_dim in np.arange(4, 12, 4):
        clone(fusion).set_params(embed_dim=embed_dim, max_epochs=np.int64(1)).fit(X, y)


@pytest.mark.parametrize("estimator", INSTANCES, ids=[type(e).__name__ for e in INSTANCES])
def test_bad_parameter_is_refused_at_fit_naming_it(estimator, table):
    X, y = table
    params = estimator.get_params(deep=False)
    name = next(n for n in ("batch_size", "voting", "backbone") if n in params)
    bad = clone(estimator).set_params(**{name: "not a valid value"})
    with pytest.raises(InvalidParameterError, match=rf"The '{name}' parameter of "
                                                    rf"{type(estimator).__name__} must be"):
        bad.fit(X, y)
