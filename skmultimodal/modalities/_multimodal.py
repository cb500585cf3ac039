"""The one protocol of the estimators that read several named modalities."""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from ..data._bags import bag_is_missing


def check_named_list(items, what="modalities", n_fields=2):
    """Validate the shape of a ColumnTransformer-style list of named tuples.

    Raises TypeError for a wrong container or tuple shape; the names
    themselves (unique, no ``"__"``, no clash with a parameter) are checked
    by scikit-learn's ``_BaseComposition._validate_names``.

    Returns
    -------
    names : list of str
    """
    shape = "(name, modality)" if n_fields == 2 else "(name, estimator, columns)"
    if isinstance(items, dict):
        raise TypeError(
            f"{what} must be a list of {shape} tuples, got a dict; use "
            f"list({what}.items())."
        )
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(f"{what} must be a non-empty list of {shape} tuples, got {items!r}.")
    names = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != n_fields:
            raise TypeError(f"Each entry of {what} must be a {shape} tuple, got {item!r}.")
        name = item[0]
        if not isinstance(name, str) or not name:
            raise TypeError(f"Names in {what} must be non-empty strings, got {name!r}.")
        names.append(name)
    return names


class MultimodalMixin(_BaseComposition):
    """Base of the estimators reading several named modalities of one table.

    Every such estimator has one parameter, ``modalities``: a list of
    tuples whose first item is the modality name (``(name, ImageModality |
    TabularModality)`` pairs for the networks and the feature extractor,
    ``(name, estimator, columns)`` triples for late fusion). Nested
    parameters are ``<name>__<param>``. Model selection and inspection
    (:func:`~skmultimodal.model_selection.modality_ablation`,
    :func:`~skmultimodal.inspection.modality_importance`) read the
    modalities through the three methods below only.

    As scikit-learn's ColumnTransformer, it reaches the parameters of the
    modalities with ``get_params(deep=True)`` and ``set_params``.
    """

    #: attribute holding the ``(name, object)`` pairs of the nested parameters
    _composition_attr = "modalities"

    def get_params(self, deep=True):
        """Get parameters, with ``<name>__<param>`` of each modality when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the modalities.

        Returns
        -------
        params : dict
        """
        return self._get_params(self._composition_attr, deep=deep)

    def set_params(self, **params):
        """Set parameters, including ``<name>__<param>`` of the modalities.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
        """
        self._set_params(self._composition_attr, **params)
        return self

    def get_modality_names(self):
        """Return the names of the modalities, in order.

        Returns
        -------
        names : list of str
        """
        return check_named_list(self.modalities, "modalities", self._n_modality_fields)

    _n_modality_fields = 2

    def _check_modality_names(self):
        """Validate the shape of ``modalities`` and its names (unique, no ``"__"``,
        no clash with a parameter); return the names."""
        names = self.get_modality_names()
        self._validate_names(names)
        return names

    def _modality_subset_params(self, names):
        """Parameters giving the estimator only the modalities ``names``."""
        keep = set(names)
        entries = [entry for entry in self.modalities if entry[0] in keep]
        return {"modalities": entries}

    def select_modalities(self, names):
        """An unfitted copy of the estimator reading only some modalities.

        Parameters that hold one value per modality (the voting weights of
        late fusion) are restricted with them.

        Parameters
        ----------
        names : list of str
            Modalities to keep, among :meth:`get_modality_names`.

        Returns
        -------
        estimator : estimator
            A clone with the same parameters otherwise.
        """
        known = self.get_modality_names()
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise ValueError(
                f"Modalities {names} must be a non-empty selection of {known}."
            )
        return clone(self).set_params(**self._modality_subset_params(names))

    def get_modality_columns(self):
        """Return the columns of X each modality read in ``fit``.

        Returns
        -------
        columns : dict of str to list
            ``{name: [column, ...]}`` in the order of the modalities.
        """
        check_is_fitted(self)
        return self._fitted_modality_columns()

    def _fitted_modality_columns(self):  # pragma: no cover - overridden
        raise NotImplementedError


def modality_present(X, columns):
    """Rows of the DataFrame X where a modality holds something.

    A row has the modality when one of its ``columns`` holds a value: a
    missing cell is None, NaN or, in a column of objects, an empty
    sequence (a bag without instances), as the modalities read them.

    Returns
    -------
    present : ndarray of bool, shape (n_rows,)
    """
    present = np.zeros(len(X), dtype=bool)
    for column in columns:
        values = X[column]
        if values.dtype == object:
            present |= ~np.fromiter((bag_is_missing(c) for c in values), bool, len(values))
        else:
            present |= values.notna().to_numpy()
    return present


def as_column_list(columns):
    """One column label (a str or an int) as a list; a list of them as a list."""
    if isinstance(columns, (str, numbers.Integral)):
        return [columns]
    return list(columns)


def find_multimodal_step(estimator):
    """The multimodal estimator inside ``estimator`` and its parameter path.

    ``estimator`` itself, or the deepest-first step of a (nested) Pipeline
    that implements :class:`MultimodalMixin` (the last such step wins).

    Returns
    -------
    path : str or None
        Parameter name of that step (``"clf"``, ``"outer__clf"``), ``""``
        for ``estimator`` itself, None when there is none.
    step : estimator or None
    """
    if isinstance(estimator, MultimodalMixin):
        return "", estimator
    if isinstance(estimator, Pipeline):
        for name, step in reversed(estimator.steps):
            path, found = find_multimodal_step(step)
            if found is not None:
                return (f"{name}__{path}" if path else name), found
    return None, None


def final_step(estimator):
    """The last step of a (nested) Pipeline, or ``estimator`` itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator
