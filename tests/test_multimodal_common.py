"""The library's multimodal common checks on every public estimator."""

import numpy as np
import pytest
from sklearn.base import clone
from sksurv.util import Surv

from instance_generator import (
    bad_input_instances,
    multimodal_instances,
    survival_instances,
)
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.utils.estimator_checks import yield_bad_input_checks, yield_multimodal_checks


@pytest.fixture(scope="module")
def table():
    X, y = make_multimodal_classification(48, image_size=16, n_features=4, n_informative=2,
                                          n_patients=16, random_state=0)
    # a bag of one or two images per row, for the bag estimators
    X["bag"] = [[image, np.flipud(image)][:1 + i % 2] for i, image in enumerate(X["image"])]
    return X, y, X["patient_id"]


CASES = [(est, check) for est in multimodal_instances() for check in yield_multimodal_checks(est)]


@pytest.mark.parametrize("estimator,check", CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in CASES])
def test_multimodal_behaviour(estimator, check, table):
    check(clone(estimator), *table)


BAD_INPUT_CASES = [(est, check) for est in bad_input_instances()
                   for check in yield_bad_input_checks(est)]


@pytest.mark.parametrize("estimator,check", BAD_INPUT_CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in BAD_INPUT_CASES])
def test_bad_inputs(estimator, check, table):
    check(clone(estimator), *table)


@pytest.fixture(scope="module")
def survival_table(table):
    """The same table with a survival target: time to event, a third censored."""
    X, y, groups = table
    rng = np.random.default_rng(0)
    time = rng.exponential(np.exp(-1.5 * (y - 0.5))) * 10
    event = rng.random(len(y)) > 1 / 3
    return X, Surv.from_arrays(event, time), groups


SURVIVAL_CASES = [(est, check) for est in survival_instances()
                  for check in (*yield_multimodal_checks(est), *yield_bad_input_checks(est))]


@pytest.mark.parametrize("estimator,check", SURVIVAL_CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in SURVIVAL_CASES])
def test_survival_models(estimator, check, survival_table):
    check(clone(estimator), *survival_table)
