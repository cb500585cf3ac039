"""Helpers shared by the dataset loaders and generators."""

import numbers
import os
from pathlib import Path

import numpy as np

DATA_ENV = "SKMULTIMODAL_DATA"
DEFAULT_DATA_HOME = "~/skmultimodal_data"
_MAX_LISTED = 10  # missing files named in an error message


def get_data_home(data_home=None):
    """Return the folder where skmultimodal looks for the public data sets.

    Each data set lives in its own sub-folder, e.g. ``<data_home>/metabric/``.
    Nothing is created or downloaded here (loaders that can download create
    their sub-folder when they do).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When None, the environment variable
        ``SKMULTIMODAL_DATA`` is used if it is set and not empty, otherwise
        ``~/skmultimodal_data``.

    Returns
    -------
    data_home : pathlib.Path
        The folder, with ``~`` expanded. It may not exist.

    Examples
    --------
    >>> from skmultimodal.datasets import get_data_home
    >>> get_data_home("/data/public").as_posix()
    '/data/public'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV) or DEFAULT_DATA_HOME
    if not isinstance(data_home, (str, os.PathLike)):
        raise ValueError(
            f"data_home must be a str, a path-like object or None, got "
            f"{type(data_home).__name__}"
        )
    return Path(data_home).expanduser()


def _require_files(
    folder, names, dataset_name, *, how_to_get=None, from_data_home=True
):
    """Check that a data set's files are present in ``folder``.

    Parameters
    ----------
    folder : path-like
        The data set's folder, usually ``get_data_home(data_home) / name``.
    names : iterable of str
        File names expected in ``folder``; they may contain sub-folders
        (``"images/case001.png"``).
    dataset_name : str
        Human-readable name of the data set, used in the error message.
    how_to_get : str, default=None
        Sentence saying where the files can be obtained, appended to the
        error message.
    from_data_home : bool, default=True
        Whether ``folder`` is a sub-folder of the data home, in which case
        the message explains how to choose the data home. False for readers
        that are given a folder directly.

    Returns
    -------
    paths : list of pathlib.Path
        The full paths of the files, in the order of ``names``.

    Raises
    ------
    FileNotFoundError
        If any file is missing; the message names the missing files (the
        first ten and how many more), the folder looked in, how to choose that
        folder and where to obtain the files.
    """
    folder = Path(folder)
    names = [str(name) for name in names]
    paths = [folder / name for name in names]
    missing = [name for name, path in zip(names, paths) if not path.is_file()]
    if missing:
        shown = ", ".join(repr(name) for name in missing[:_MAX_LISTED])
        if len(missing) > _MAX_LISTED:
            shown += f" and {len(missing) - _MAX_LISTED} more"
        message = (
            f"The {dataset_name} data set was not found: missing {shown} in "
            f"folder '{folder}'."
        )
        if from_data_home:
            message += (
                f" Put the file(s) there, or point to the folder holding the data "
                f"sets with the data_home argument or the {DATA_ENV} environment "
                f"variable (default {DEFAULT_DATA_HOME}); the loader reads "
                f"<data_home>/{folder.name}/."
            )
        if how_to_get:
            message += f" {how_to_get}"
        raise FileNotFoundError(message)
    return paths


def _object_column(arrays):
    """Build a 1-D object array whose cells are the given arrays (or None).

    ``np.array(list_of_arrays, dtype=object)`` would build a 3-D array when the
    arrays share a shape; this always gives one cell per array.
    """
    arrays = list(arrays)
    column = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        column[i] = array
    return column


def _check_int(value, name, *, min_value=None, max_value=None):
    """Validate an integer argument (bools are refused) and return it as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {value}")
    return value


def _check_float(value, name, *, low=None, high=None, closed="both"):
    """Validate a real argument lying in an interval and return it as float.

    ``closed`` is one of "both", "left", "right", "neither" and says which
    ends of ``[low, high]`` are allowed.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    left_ok = (
        low is None or value > low or (value == low and closed in ("both", "left"))
    )
    right_ok = high is None or value < high or (
        value == high and closed in ("both", "right")
    )
    if not (left_ok and right_ok):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        brackets = {
            "both": "[]",
            "left": "[)",
            "right": "(]",
            "neither": "()",
        }[closed]
        raise ValueError(
            f"{name} must be in {brackets[0]}{lo}, {hi}{brackets[1]}, got {value}"
        )
    return value


def _check_option(value, name, options):
    """Validate that ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(o) for o in options)}; "
            f"got {value!r}"
        )
    return value


def _check_bool(value, name):
    """Validate a boolean argument (numpy bools accepted) and return it as bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _check_names(values, name, options, *, min_count=1):
    """Validate a sequence of distinct names among ``options``; return a tuple."""
    if isinstance(values, str):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(
            f"{name} must be a sequence of names among {options}, got {values!r}"
        ) from None
    if len(values) < min_count:
        raise ValueError(
            f"{name} must name at least {min_count} of {options}, got {values!r}"
        )
    for value in values:
        _check_option(value, f"each of {name}", options)
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat a name, got {values}")
    return values
