"""scikit-learn's own estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from instance_generator import (
    estimators_to_check,
    expected_failed_checks,
)


@parametrize_with_checks(
    list(estimators_to_check()), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
