"""The library's multimodal common checks on every public estimator."""

import pytest
from sklearn.base import clone

from instance_generator import (
    bad_input_instances,
    multimodal_instances,
    survival_instances,
)
from skmultimodal.utils.estimator_checks import yield_bad_input_checks, yield_multimodal_checks

CASES = [(est, check) for est in multimodal_instances() for check in yield_multimodal_checks(est)]


@pytest.mark.parametrize("estimator,check", CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in CASES])
def test_multimodal_behaviour(estimator, check, multimodal_table):
    check(clone(estimator), *multimodal_table)


BAD_INPUT_CASES = [(est, check) for est in bad_input_instances()
                   for check in yield_bad_input_checks(est)]


@pytest.mark.parametrize("estimator,check", BAD_INPUT_CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in BAD_INPUT_CASES])
def test_bad_inputs(estimator, check, multimodal_table):
    check(clone(estimator), *multimodal_table)


SURVIVAL_CASES = [(est, check) for est in survival_instances()
                  for check in (*yield_multimodal_checks(est), *yield_bad_input_checks(est))]


@pytest.mark.parametrize("estimator,check", SURVIVAL_CASES,
                         ids=[f"{type(e).__name__}-{c.__name__}" for e, c in SURVIVAL_CASES])
def test_survival_models(estimator, check, survival_table):
    check(clone(estimator), *survival_table)
