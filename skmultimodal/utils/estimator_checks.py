"""Common checks of multimodal behaviour, on DataFrames with image and table columns.

scikit-learn's own checks (``parametrize_with_checks``) feed numeric arrays.
These checks add what the library promises on multimodal tables: cloning,
a pickle round trip with identical predictions, reproducibility from
``random_state``, predictions that do not depend on row order, grid search and
patient-grouped cross-validation, and missing modalities for the estimators
that support them (class attribute ``_supports_missing_modalities``).

A second layer (:func:`yield_bad_input_checks`) sends what careless or
hostile users send: values finite in float64 but not in float32, the same
pictures in several dtypes and file formats, truncated image files, and
empty and one-row frames. Each must give the same answer or a clear error.

Each check takes ``(estimator, X, y, groups)``; ``X`` is a DataFrame as made
by :func:`skmultimodal.datasets.make_multimodal_classification` (or
:func:`~skmultimodal.datasets.make_multimodal_survival`). Survival models
(scikit-survival's interface: ``y`` a structured array of event and time,
``predict`` a risk score) run the same checks on their risk scores, with
folds stratified on the event indicator.
"""

import contextlib
import inspect
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate
from sksurv.base import SurvivalAnalysisMixin


def _is_survival(estimator):
    return isinstance(estimator, SurvivalAnalysisMixin)


def _output(fitted, X):
    """What a fitted estimator gives: probabilities, risk scores (survival
    models), else its transform."""
    if _is_survival(fitted):
        return fitted.predict(X)
    method = "predict_proba" if hasattr(fitted, "predict_proba") else "transform"
    return getattr(fitted, method)(X)


def _strata(y):
    """Labels to stratify folds on: the classes, or the event indicator."""
    return y[y.dtype.names[0]] if getattr(y, "dtype", None) is not None and y.dtype.names else y


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
    np.testing.assert_array_equal(_output(loaded, X), _output(fitted, X))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def check_same_random_state_same_model(estimator, X, y, groups):
    """Two fits with the same random_state give identical predictions."""
    first = _output(clone(estimator).fit(X, y), X)
    second = _output(clone(estimator).fit(X, y), X)
    np.testing.assert_array_equal(first, second)


def check_row_order_invariance(estimator, X, y, groups):
    """Predicting shuffled rows gives the shuffled predictions."""
    fitted = clone(estimator).fit(X, y)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(_output(fitted, X.iloc[perm]), _output(fitted, X)[perm],
                               atol=1e-6)


def check_grid_search(estimator, X, y, groups):
    """GridSearchCV refits the best candidate and predicts."""
    param = "random_state"
    search = GridSearchCV(clone(estimator), {param: [0, 1]}, cv=2)
    search.fit(X, y)
    assert search.best_params_[param] in (0, 1)
    assert search.predict(X).shape == (len(X),)


def check_grouped_cross_validate(estimator, X, y, groups):
    """cross_validate with StratifiedGroupKFold on patient groups, two jobs.

    Classifiers are scored by ROC AUC, survival models by their ``score``
    (Harrell's concordance index) on folds stratified on the event.
    """
    folds = list(StratifiedGroupKFold(2).split(X, _strata(y), groups))
    scores = cross_validate(clone(estimator), X, y, groups=groups, cv=folds,
                            scoring=None if _is_survival(estimator) else "roc_auc",
                            n_jobs=2)
    assert np.all((scores["test_score"] >= 0) & (scores["test_score"] <= 1))


def check_missing_modality(estimator, X, y, groups):
    """Rows with a missing image or an all-NaN table block are accepted."""
    X = X.copy()
    tab = [c for c in X.columns if str(c).startswith("tab_")]
    X.loc[X.index[::5], "image"] = None
    X.loc[X.index[2::5], tab] = np.nan
    fitted = clone(estimator).fit(X, y)
    assert np.isfinite(_output(fitted, X)).all()


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


# -- bad inputs: refused with a clear error, never a silent wrong answer --------
@contextlib.contextmanager
def _raises(types, match):
    """Assert that the block raises one of ``types`` with a message matching ``match``."""
    try:
        yield
    except types as exc:
        assert re.search(match, str(exc)), f"{type(exc).__name__}: {exc}"
    else:
        raise AssertionError(f"no {types} was raised")


def _corrupt(X, row, *, image=None, tab=None):
    X = X.copy()
    label = X.index[row]
    if image is not None:
        X.at[label, "image"] = image
    if tab is not None:
        X.loc[label, [c for c in X.columns if str(c).startswith("tab_")]] = tab
    return X



def check_refuses_values_not_finite_in_float32(estimator, X, y, groups):
    """Values finite in float64 but not in float32 are an error naming the row."""
    huge = _corrupt(X, 3, image=np.full(X["image"].iloc[0].shape, 1e300), tab=1e200)
    fitted = clone(estimator).fit(X, y)
    with _raises((ValueError, FloatingPointError), r"row|column"):
        _output(fitted, huge)
    if is_classifier(estimator) or _needs_y(estimator):
        with _raises((ValueError, FloatingPointError), r"row|column"):
            clone(estimator).fit(huge, y)


def _with_images(X, convert):
    X = X.copy()
    X["image"] = pd.Series([convert(im) for im in X["image"]], index=X.index, dtype=object)
    return X


def check_same_picture_any_dtype(estimator, X, y, groups):
    """The same pictures as uint16, float32 or float64 arrays give the same predictions.

    int64 arrays do not say their intensity range: an error until it is stated.
    """
    fitted = clone(estimator).fit(X, y)
    expected = _output(fitted, X)
    for convert in (lambda a: a.astype(np.uint16) * 257, lambda a: a / 255.0,
                    lambda a: (a / 255.0).astype(np.float32)):
        np.testing.assert_allclose(_output(fitted, _with_images(X, convert)),
                                   expected, atol=1e-5)
    as_int64 = _with_images(X, lambda a: a.astype(np.int64))
    try:
        _output(fitted, as_int64)
    except ValueError as exc:
        assert "intensity_range" in str(exc), str(exc)
    else:
        assert _ignores_images(fitted, X, expected)


def check_same_picture_any_file_format(estimator, X, y, groups):
    """Arrays, PNG, BMP and (8- and 16-bit) TIFF files of one picture predict the same."""
    fitted = clone(estimator).fit(X, y)
    expected = _output(fitted, X)
    with tempfile.TemporaryDirectory() as folder:
        for suffix, convert in ((".png", None), (".bmp", None), (".tif", None),
                                (".tiff", lambda a: a.astype(np.uint16) * 257)):
            paths = []
            for i, im in enumerate(X["image"]):
                path = Path(folder) / f"{i}{suffix}"
                Image.fromarray(im if convert is None else convert(im)).save(path)
                paths.append(str(path))
            files = X.assign(image=pd.Series(paths, index=X.index, dtype=object))
            np.testing.assert_allclose(_output(fitted, files), expected, atol=1e-5)


def _ignores_images(fitted, X, expected):
    """Whether the fitted estimator's predictions do not depend on the images."""
    blank = _with_images(X, np.zeros_like)
    return np.array_equal(_output(fitted, blank), expected)


def check_truncated_image_file(estimator, X, y, groups):
    """A truncated image file is an error naming the file (or is never read)."""
    fitted = clone(estimator).fit(X, y)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, im in enumerate(X["image"]):
            path = Path(folder) / f"{i}.png"
            Image.fromarray(im).save(path)
            paths.append(str(path))
        data = Path(paths[2]).read_bytes()
        Path(paths[2]).write_bytes(data[: len(data) // 2])
        files = X.assign(image=pd.Series(paths, index=X.index, dtype=object))
        try:
            _output(fitted, files)
        except ValueError as exc:
            assert f"{Path(paths[2]).name}'" in str(exc), str(exc)
        else:
            assert _ignores_images(fitted, X, _output(fitted, X))


def _needs_y(estimator):
    params = inspect.signature(type(estimator).fit).parameters
    return "y" in params and params["y"].default is not None


def check_empty_and_one_row_frames(estimator, X, y, groups):
    """An empty frame is an error that says so, at fit and predict; a one-row
    frame predicts, and fitting on it (one class; for a survival model, one
    row) is an error that says so."""
    with _raises(ValueError, r"0 rows|0 sample"):
        clone(estimator).fit(X.iloc[:0], y[:0])
    if _is_survival(estimator):
        with _raises(ValueError, r"at least 2 rows"):
            clone(estimator).fit(X.iloc[:1], y[:1])
    elif is_classifier(estimator) or _needs_y(estimator):
        with _raises(ValueError, r"only one class|at least 2 classes"):
            clone(estimator).fit(X.iloc[:1], y[:1])
    fitted = clone(estimator).fit(X, y)
    with _raises(ValueError, r"0 rows|0 sample"):
        _output(fitted, X.iloc[:0])
    assert len(_output(fitted, X.iloc[:1])) == 1


def yield_bad_input_checks(estimator):
    """Yield the bad-input checks: they apply to every public estimator."""
    yield check_refuses_values_not_finite_in_float32
    yield check_same_picture_any_dtype
    yield check_same_picture_any_file_format
    yield check_truncated_image_file
    yield check_empty_and_one_row_frames
