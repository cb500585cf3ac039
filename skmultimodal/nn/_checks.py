"""Argument checks shared by the torch modules."""

from numbers import Integral, Real


def check_positive_int(value, name):
    """Return ``value`` as an int, or raise a ValueError unless it is an integer >= 1.

    Any integral type is accepted (``int``, ``numpy.int64``...), so that
    values coming from a grid over ``numpy.arange`` work; bools are not.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_rate(value, name):
    """Return ``value`` as a float, or raise a ValueError unless it lies in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1), got {value!r}")
    return float(value)
