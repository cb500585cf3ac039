"""The library's multimodal common checks on every public estimator."""

import numpy as np
import pytest
from sklearn.base import clone

from instance_generator import (
    bad_input_instances,
    multimodal_instances,
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
