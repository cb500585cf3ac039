"""Turning the many accepted forms of image input X into one column of cells."""

import os

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

from ..modalities._image import check_column_present, check_image_cells


def _looks_like_cells(seq):
    first = next((c for c in seq if c is not None), None)
    return first is None or isinstance(first, (str, os.PathLike)) or (
        isinstance(first, np.ndarray) and first.ndim >= 2
    )


def _check_image_stack(X):
    X = check_array(X, allow_nd=True, dtype=None, ensure_all_finite=False)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"Image array X has dtype {X.dtype}; expected a numeric dtype.")
    if X.dtype.kind == "f" and X.size:
        finite = np.isfinite(X.reshape(len(X), -1)).all(axis=1)
        if not finite.all():
            rows = np.flatnonzero(~finite)
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            raise ValueError(
                f"Image array X contains NaN or infinity in the images at rows "
                f"{rows[:10].tolist()}{more}."
            )
    if X.ndim == 4 and X.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"Image array X has shape {X.shape}; expected (n, H, W) or channels-last "
            "(n, H, W, C) with C in 1, 3 or 4. For channels-first arrays use "
            "np.moveaxis(X, 1, -1)."
        )
    if X.ndim > 4:
        raise ValueError(f"Image array X has shape {X.shape}; expected 2 to 4 dimensions.")
    return X


def _forget_features(estimator):
    for attr in ("n_features_in_", "feature_names_in_"):
        estimator.__dict__.pop(attr, None)


def image_cells(estimator, X, column, reset):
    """Return ``(cells, row_labels)`` for the accepted forms of image input.

    - a DataFrame with an image column (``column``, or its only object column);
    - a Series, list or 1-D object array of paths or image arrays;
    - an array of images, (n, H, W) or (n, H, W, C);
    - a 2-D numeric array or all-numeric DataFrame (n, d): each row is read as
      an image one pixel high and d pixels wide (reshape flattened images to
      (n, H, W) first). Its width is checked at predict time as
      ``n_features_in_``.
    """
    if isinstance(X, pd.DataFrame):
        if column is not None:
            check_column_present(X, [column])
            cells = X[column].to_numpy(dtype=object)
        elif X.shape[1] == 1 and X.dtypes.iloc[0] == object:  # noqa: E721 (a dtype, not a type)
            column = X.columns[0]
            cells = X.iloc[:, 0].to_numpy(dtype=object)
        elif X.shape[1] > 0 and all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):
            return _numeric_rows(estimator, X, reset)
        else:
            raise ValueError(
                f"X has columns {list(X.columns)}; set column= to the one holding "
                "image paths or arrays."
            )
        labels = list(X.index)
        if reset:
            _forget_features(estimator)
        check_image_cells(cells, labels, column=column)
        return cells, labels
    if isinstance(X, pd.Series):
        cells, labels = X.to_numpy(dtype=object), list(X.index)
    elif isinstance(X, (list, tuple)) and _looks_like_cells(X):
        cells, labels = np.array(list(X) + [None], dtype=object)[:-1], None
    else:
        arr = X if hasattr(X, "dtype") and hasattr(X, "ndim") else np.asarray(X)
        if arr.ndim == 1 and arr.dtype == object and _looks_like_cells(arr):
            cells, labels = arr, None
        elif arr.ndim >= 3:
            if reset:
                _forget_features(estimator)
            return _check_image_stack(X), None
        else:
            return _numeric_rows(estimator, X, reset)
    if reset:
        _forget_features(estimator)
    check_image_cells(cells, labels)
    return cells, labels


def _numeric_rows(estimator, X, reset):
    X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32])
    return X[:, None, :], None


def roi_image_cells(estimator, X, modality, reset):
    """``image_cells`` of X, cropped to the regions of the modality's ``roi`` column.

    Without ``roi`` this is :func:`image_cells`. With it X must be a
    DataFrame holding the roi column; that column never counts as the
    image column (``column=None`` picks the only other object column).
    """
    roi = modality.roi
    column = estimator.column
    if roi is None:
        return image_cells(estimator, X, column, reset)
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"roi={roi!r} needs X as a pandas DataFrame holding the image column and "
            f"the region-of-interest column; got {type(X).__name__}."
        )
    check_column_present(X, [roi], what="X (the roi column)")
    images = X if column is not None else X.drop(columns=[roi])
    cells, labels = image_cells(estimator, images, column, reset)
    return modality.crop(cells, X, labels), labels
