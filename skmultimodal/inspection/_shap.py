"""SHAP values of tabular features, named as the model sees them.

Two explainers:

- ``shap.TreeExplainer`` for an ``xgboost.XGBClassifier`` (alone or at the
  end of a Pipeline): exact SHAP values of the margin (log-odds);
- ``shap.GradientExplainer`` (expected gradients) for the tabular inputs of
  :class:`~skmultimodal.TabularMLPClassifier` and of the fusion classifiers,
  explaining the predicted probabilities with every other modality of the
  row held fixed.
"""

import numbers

import numpy as np
import pandas as pd
import shap
import torch
from scipy import sparse
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..estimators._tabular import TabularMLPClassifier
from ..fusion._base import BaseFusionClassifier
from ..modalities import TabularModality
from ..modalities._image import check_column_present
from ..modalities._multimodal import final_step
from ..utils._torch import eval_mode

__all__ = ["shap_values"]

_SUPPORTED = (
    "xgboost.XGBClassifier (tree explainer), TabularMLPClassifier, "
    "IntermediateFusionClassifier, CrossAttentionFusionClassifier (gradient "
    "explainer), or a Pipeline ending in one of them"
)


def _is_xgboost(model):
    try:
        from xgboost import XGBClassifier
    except ImportError:  # pragma: no cover - xgboost is optional
        return False
    return isinstance(model, XGBClassifier)


def _readable_names(names):
    """Drop the ``<transformer>__`` prefixes of ColumnTransformer names if still unique."""
    names = [str(n) for n in names]
    if names and all("__" in n for n in names):
        short = [n.split("__", 1)[1] for n in names]
        if len(set(short)) == len(short):
            return short
    return names


def _check_columns(model, X, what):
    """KeyError naming the columns seen in fit that X lacks."""
    seen = getattr(model, "feature_names_in_", None)
    if seen is not None and isinstance(X, pd.DataFrame):
        check_column_present(X, list(seen), what=what)


def _unwrap(estimator, X, what="X"):
    """Apply the steps before the final estimator of (nested) Pipelines.

    Returns the final estimator, X as it reaches it and the names of the
    columns of that X (None when unknown).
    """
    model = estimator
    names = list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None
    while isinstance(model, Pipeline):
        _check_columns(model, X, what)
        if len(model) > 1:
            pre = model[:-1]
            X = pre.transform(X)
            try:
                names = list(pre.get_feature_names_out(names))
            except (AttributeError, TypeError, ValueError):
                names = list(map(str, X.columns)) if isinstance(X, pd.DataFrame) else None
        model = model[-1]
    return model, X, names


def _check_supported(model, estimator):
    if _is_xgboost(model) or isinstance(model, (TabularMLPClassifier, BaseFusionClassifier)):
        return
    final = "" if model is estimator else f" (the final step of {type(estimator).__name__})"
    raise TypeError(
        f"shap_values does not support {type(model).__name__}{final}; supported "
        f"estimators: {_SUPPORTED}."
    )


# -- tree explainer ----------------------------------------------------------
def _tree_explanation(model, X, names, modality):
    if modality is not None:
        raise ValueError(
            f"modality={modality!r} applies to fusion classifiers only; "
            f"{type(model).__name__} has a single table."
        )
    _check_columns(model, X, "X")
    if isinstance(X, pd.DataFrame) and getattr(model, "feature_names_in_", None) is not None:
        X = X[list(model.feature_names_in_)]
        names = list(map(str, model.feature_names_in_))
    data = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"Expected a 2D table to explain, got shape {data.shape}.")
    if names is None or len(names) != data.shape[1]:
        names = [f"x{i}" for i in range(data.shape[1])]
    explained = shap.TreeExplainer(model)(data)
    values = np.asarray(explained.values, dtype=np.float64)
    base = np.broadcast_to(np.asarray(explained.base_values, dtype=np.float64),
                           values.shape[:1] + values.shape[2:])
    if values.ndim == 2:  # binary: log-odds of classes_[1]; class 0 is its negative
        values = np.stack([-values, values], axis=-1)
        base = np.stack([-base, base], axis=-1)
    return shap.Explanation(
        values, base_values=np.array(base), data=data,
        feature_names=_readable_names(names), output_names=list(model.classes_.tolist()),
    )


# -- gradient explainer ------------------------------------------------------
def _softmax(logits):
    return torch.softmax(logits, dim=1)


class _FixedInputsModel(nn.Module):
    """Explained outputs as a function of one tabular input, the other inputs fixed.

    ``fixed`` holds the row's other inputs (and presence flags) with a batch
    dimension of 1; they are repeated along the batch of the tabular input.
    ``output`` maps the network's outputs to what is explained: class
    probabilities by default, the risk score of a survival model.
    """

    def __init__(self, module, name, output=_softmax):
        super().__init__()
        self.module = module
        self.name = name
        self.output = output
        self.fixed = {}

    def forward(self, x):
        n = x.shape[0]
        inputs = {k: v.expand(n, *v.shape[1:]) for k, v in self.fixed.items()}
        inputs[self.name] = x
        return self.output(self.module(**inputs))


def _tabular_modality(model, modality):
    """Name of the explained input of the network and its fitted TabularModality."""
    specs = model.get_input_modalities()
    tabular = [n for n, m in specs.items() if isinstance(m, TabularModality)]
    if modality is None:
        if len(tabular) == 1:
            return tabular[0], specs[tabular[0]]
        if not tabular:
            raise ValueError(
                f"{type(model).__name__} has no tabular modality to explain (modalities: "
                f"{list(specs)}); shap_values explains tabular features."
            )
        raise ValueError(
            f"{type(model).__name__} has several tabular modalities {tabular}; choose "
            "one with modality=."
        )
    if modality not in specs:
        raise ValueError(
            f"Unknown modality {modality!r}; the modalities of {type(model).__name__} "
            f"are {list(specs)}."
        )
    if not isinstance(specs[modality], TabularModality):
        raise ValueError(
            f"Modality {modality!r} is a {type(specs[modality]).__name__}; shap_values "
            f"explains tabular modalities only: {tabular}."
        )
    return modality, specs[modality]


def _present(source):
    return np.fromiter((source.present(i) for i in range(len(source))), bool, len(source))


def _row_labels(X, n):
    return list(X.index) if isinstance(X, pd.DataFrame) else list(range(n))


def _model_inputs(model, X, name, what):
    """Dataset of X, the explained block and the rows where it is present."""
    _check_columns(model, X, what)
    dataset = model.make_dataset(X)
    source = dataset.sources[name]
    return dataset, source.array, _present(source)


def _background(model, name, background, array, present, n_background, rng):
    """Background rows of the explained block: from ``background``, else from X."""
    where = "X"
    if background is not None:
        _, array, present = _model_inputs(model, background, name, "background")
        where = "background"
    rows = np.flatnonzero(present)
    if rows.size == 0:
        raise ValueError(f"No row of {where} holds the modality {name!r} for the background.")
    if rows.size > n_background:
        rows = np.sort(rng.choice(rows, n_background, replace=False))
    return array[torch.as_tensor(rows)]


def _fixed_inputs(dataset, i, name, device):
    """The inputs of row ``i`` other than ``name``, with a batch dimension of 1."""
    inputs, _ = dataset[i]
    return {k: torch.as_tensor(v).unsqueeze(0).to(device)
            for k, v in inputs.items() if k != name}


def _gradient_explanation(model, X, background, modality, n_background, n_samples,
                          batch_size, random_state):
    name, tab = _tabular_modality(model, modality)
    rng = check_random_state(random_state)
    dataset, array, present = _model_inputs(model, X, name, "X")
    if not present.all():
        labels = _row_labels(X, len(present))
        missing = [labels[i] for i in np.flatnonzero(~present)][:10]
        raise ValueError(
            f"The modality {name!r} is missing (all its columns NaN) in "
            f"{int((~present).sum())} row(s) of X, e.g. rows {missing}; its features do "
            "not enter the prediction there. Explain rows where it is present."
        )
    bg = _background(model, name, background, array, present, n_background, rng)
    device = model.device_
    module = model.net_.module_
    # what is explained: class probabilities, or a survival model's risk
    output, output_names = getattr(model, "explained_output", lambda: (_softmax, list(
        model.classes_.tolist())))()
    wrapper = _FixedInputsModel(module, name, output)
    bg = bg.to(device)
    n, n_features = array.shape
    n_classes = len(output_names)
    values = np.zeros((n, n_features, n_classes))
    base = np.zeros((n, n_classes))
    seeds = rng.randint(np.iinfo(np.int32).max, size=max(n, 1))
    state = np.random.get_state()  # shap seeds numpy's global generator
    try:
        with eval_mode(module):
            wrapper.eval()  # the wrapper's own flag (shap reads it); module restored after
            for i in range(n):
                wrapper.fixed = _fixed_inputs(dataset, i, name, device)
                with torch.no_grad():
                    base[i] = wrapper(bg).mean(dim=0).double().cpu().numpy()
                if i == 0:
                    explainer = shap.GradientExplainer(wrapper, bg, batch_size=batch_size)
                row = array[i:i + 1].to(device)
                phi = explainer.shap_values(row, nsamples=n_samples, rseed=int(seeds[i]))
                values[i] = np.asarray(phi, dtype=np.float64).reshape(n_features, n_classes)
    finally:
        np.random.set_state(state)
    return shap.Explanation(
        values, base_values=base, data=array.numpy().astype(np.float64),
        feature_names=_readable_names(tab.get_feature_names_out()),
        output_names=output_names,
    )


def _check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive int.")


def shap_values(estimator, X, *, modality=None, background=None, n_background=100,
                n_samples=200, batch_size=50, random_state=None):
    """SHAP values of the tabular features of a fitted classifier.

    Two explainers, chosen from the estimator (or the final step of a
    :class:`~sklearn.pipeline.Pipeline`, whose earlier steps are applied to
    X with ``transform``):

    - an ``xgboost.XGBClassifier``: :class:`shap.TreeExplainer` (exact,
      path-dependent). It explains the margin: the log-odds of a class
      against the others for two classes, the per-class logit for more.
      ``base_values + values.sum(axis=1)`` equals
      ``predict(X, output_margin=True)`` (for two classes, the column of
      ``classes_[1]``; the column of ``classes_[0]`` is its negative).
    - :class:`~skmultimodal.TabularMLPClassifier`,
      :class:`~skmultimodal.IntermediateFusionClassifier` and
      :class:`~skmultimodal.CrossAttentionFusionClassifier`:
      :class:`shap.GradientExplainer` (expected gradients) on the inputs of
      one tabular modality, in its preprocessed space (standardised numbers,
      one-hot categories), explaining the predicted probabilities. The other
      modalities of a fusion model (images, other tables, presence flags)
      are held fixed at each row's own values: each row is explained with
      the network seen as a function of this modality alone. ``base_values``
      is then the mean probability over the background rows, the row's other
      modalities fixed, and ``base_values + values.sum(axis=1)`` approaches
      ``predict_proba(X)`` as ``n_samples`` grows (expected gradients are a
      sampling estimate).

    Parameters
    ----------
    estimator : estimator
        A fitted estimator of one of the kinds above.
    X : DataFrame or array-like of shape (n_samples, n_columns)
        Rows to explain, with the columns ``estimator`` was fitted on.
    modality : str, default=None
        Tabular modality to explain (fusion classifiers); None takes the only
        tabular modality and is an error when there are several.
    background : DataFrame, default=None
        Rows like X (all the columns the estimator needs) whose explained
        modality forms the reference distribution of the gradient explainer.
        None draws them from X. Unused by the tree explainer.
    n_background : int, default=100
        Largest number of background rows, drawn at random when more are
        available.
    n_samples : int, default=200
        Samples of the expected-gradients estimate per row (gradient
        explainer); more samples make ``base + sum`` closer to the
        probability.
    batch_size : int, default=50
        Samples per forward/backward pass of the gradient explainer.
    random_state : int, RandomState instance or None, default=None
        Seeds the background draw and the expected-gradients sampling.

    Returns
    -------
    explanation : shap.Explanation
        - ``values``: ndarray of shape (n_samples, n_features, n_classes), one
          column per class of ``estimator.classes_`` (for a binary XGBoost
          model the class-0 column is the negative of the class-1 column);
        - ``base_values``: ndarray of shape (n_samples, n_classes);
        - ``data``: ndarray of shape (n_samples, n_features), the explained
          inputs as the model sees them (after the Pipeline's steps, or after
          the modality's scaling and one-hot encoding);
        - ``feature_names``: the names of those inputs: the Pipeline steps'
          ``get_feature_names_out`` or the modality's (e.g. ``"age"``,
          ``"grade_3"``), ``<transformer>__`` prefixes dropped when the names
          stay unique;
        - ``output_names``: the class labels; for the survival models of
          :mod:`skmultimodal.survival`, ``["risk"]``: one column explaining
          the risk score their ``predict`` gives.

        One class is a slice on the last axis:
        ``explanation[:, :, k]`` with ``k = list(estimator.classes_).index(label)``
        (string labels also slice by name: ``explanation[:, :, "malignant"]``),
        which :func:`plot_shap_summary` and :func:`plot_shap_bar` take via
        ``target``.

    Raises
    ------
    TypeError
        For an unsupported estimator.
    sklearn.exceptions.NotFittedError
        For an unfitted estimator.
    ValueError
        For an unknown or non-tabular ``modality``, several tabular
        modalities and no ``modality``, or rows where the modality is
        missing.
    KeyError
        When X or ``background`` lack columns the estimator was fitted on.

    Examples
    --------
    >>> from skmultimodal import TabularMLPClassifier
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.inspection import shap_values
    >>> X, y = make_multimodal_classification(100, n_features=5, random_state=0)
    >>> X = X.drop(columns="image")
    >>> clf = TabularMLPClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> sv = shap_values(clf, X.iloc[:3], n_samples=50, random_state=0)
    >>> sv.values.shape, sv.feature_names[:2], sv.output_names
    ((3, 5, 2), ['tab_0', 'tab_1'], [0, 1])
    """
    _check_int(n_background, "n_background")
    _check_int(n_samples, "n_samples")
    _check_int(batch_size, "batch_size")
    _check_supported(final_step(estimator), estimator)
    check_is_fitted(estimator)
    model, X_model, names = _unwrap(estimator, X)
    if _is_xgboost(model):
        return _tree_explanation(model, X_model, names, modality)
    check_is_fitted(model, "net_")
    if background is not None:
        if not isinstance(background, pd.DataFrame) and isinstance(X, pd.DataFrame):
            raise TypeError(
                f"background must be a DataFrame like X, got {type(background).__name__}."
            )
        background = _unwrap(estimator, background, what="background")[1]
    return _gradient_explanation(model, X_model, background, modality, n_background,
                                 n_samples, batch_size, random_state)
