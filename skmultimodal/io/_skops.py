"""Saving and loading fitted models in the skops format, without pickle.

skops (:mod:`skops.io`) stores an object as a zip archive holding a JSON
description of the object tree and ``.npy`` arrays, read back with
``allow_pickle=False``: loading a file creates only objects of the types the
caller trusts and runs no code from the file.

skops cannot store torch modules or tensors. :func:`dump` therefore saves a
copy of the estimator in which every fitted network is replaced by a record
made of plain data (``NetRecord`` for the skorch net ``net_`` of the
network classifiers, ``ModuleRecord`` for the backbone of
:class:`~skmultimodal.ImageEmbedder`): the module's state dict as numpy
arrays, the training history as lists and dicts, and the few net settings
that do not follow from the estimator's parameters. :func:`load` rebuilds
each network from the estimator's own parameters (as ``fit`` does, on the
estimator's device, the CPU where CUDA is absent) and loads the stored state
dict into it, checking that every parameter name and shape matches. The
estimator object itself is never changed: its pickling (joblib, ``clone``,
Dask, multiprocessing) is untouched.
"""

import copy
import os

import numpy as np
import skops.io as sio
import torch
from sklearn.base import BaseEstimator
from skops.io.exceptions import UntrustedTypesFoundException
from skorch import NeuralNet
from skorch.history import History

__all__ = ["ModuleRecord", "NetRecord", "UntrustedTypesError", "dump", "load",
           "trusted_types"]


# -- records of fitted networks ---------------------------------------------
def _to_numpy(tensor):
    """CPU numpy copy of a tensor; dtypes numpy lacks (bfloat16) become float32."""
    tensor = tensor.detach().cpu()
    try:
        return tensor.numpy().copy()
    except TypeError:
        return tensor.float().numpy()


def _state_arrays(module):
    return {name: _to_numpy(value) for name, value in module.state_dict().items()}


def _as_tensors(arrays):
    """A stored state dict (arrays) as tensors; tensors are kept as they are."""
    return {name: value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
            for name, value in arrays.items()}


def _load_state(module, arrays, what):
    """Load a stored state dict into ``module``, names and shapes checked."""
    state = _as_tensors(arrays)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The weights stored for {what} do not fit the network rebuilt from "
            f"its parameters: {exc}"
        ) from None


def _plain(value):
    """History values as plain Python data (tensors and numpy scalars unwrapped)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = _to_numpy(value)
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class ModuleRecord:
    """Portable record of a torch module: its state dict as numpy arrays.

    Stands, in a skops file, for the backbone ``backbone_`` of a fitted
    :class:`~skmultimodal.ImageEmbedder`; :func:`load` rebuilds the backbone
    from the estimator's parameters and loads ``state`` into it.

    Parameters
    ----------
    state : dict of str to ndarray
        The module's state dict (parameters and buffers), on the CPU.
    """

    def __init__(self, state):
        self.state = state

    def parameters(self):
        """The stored arrays as CPU tensors (as ``torch.nn.Module.parameters``).

        The estimator's own ``__getstate__`` looks at its backbone's
        parameters to move a CUDA backbone to the CPU; a record is always
        on the CPU.
        """
        return (torch.from_numpy(np.asarray(a)) for a in self.state.values())


class NetRecord:
    """Portable record of a fitted skorch net (``net_``) of a network classifier.

    Parameters
    ----------
    module_state : dict of str to ndarray
        State dict of the torch module ``net_.module_`` (the module inside
        a ``torch.compile`` wrapper), on the CPU.
    history : list of dict
        The training history (``net_.history``) as plain lists and dicts.
    n_classes : int
        Output width of the network.
    batch_size : int
        The net's batch size (the estimator's, bounded by the training rows).
    drop_last : bool
        Whether training dropped a last batch of one sample.
    criterion_weight : ndarray or None
        Class weights of the cross-entropy loss.
    precomputed : dict of str to str
        Frozen image encoders that take precomputed backbone outputs (fits
        with ``memory``), with what they take ("pooled" or "features").
    """

    def __init__(self, module_state, history, n_classes, batch_size, drop_last,
                 criterion_weight=None, precomputed=None):
        self.module_state = module_state
        self.history = history
        self.n_classes = n_classes
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.criterion_weight = criterion_weight
        self.precomputed = precomputed or {}


def _net_record(net):
    from ..fusion._base import _unwrap

    module = _unwrap(net.module_)
    encoders = getattr(module, "encoders", {})
    weight = net.get_params().get("criterion__weight")
    return NetRecord(
        module_state=_state_arrays(module),
        history=_plain(net.history.to_list()),
        n_classes=len(net.classes),
        batch_size=int(net.batch_size),
        drop_last=bool(net.get_params().get("iterator_train__drop_last", False)),
        criterion_weight=None if weight is None else _to_numpy(torch.as_tensor(weight)),
        precomputed={name: enc.precomputed for name, enc in encoders.items()
                     if getattr(enc, "precomputed", None)},
    )


def _without_pretrained(net):
    """Set the module's ``weights`` arguments to None; return the old values.

    The rebuilt module gets its weights from the file, so pretrained weights
    are neither downloaded nor read from a local path that may not exist
    where the file is loaded.
    """
    params = net.get_params()
    saved = {}
    encoder = params.get("module__encoder")  # the image classifier's encoder spec
    if encoder and encoder.get("weights") is not None:
        saved["module__encoder"] = encoder
        net.set_params(module__encoder=dict(encoder, weights=None))
    specs = params.get("module__modalities")  # the fusion networks' specs
    if specs and any(s.get("weights") is not None for s in specs):
        saved["module__modalities"] = specs
        net.set_params(module__modalities=[dict(s, weights=None) for s in specs])
    return saved


def _rebuild_net(estimator, record):
    """The fitted skorch net of ``estimator`` from a ``NetRecord``."""
    from ..fusion._base import _unwrap

    n_classes = int(record.n_classes)
    # Building the module draws random initial weights: keep the global RNG.
    with torch.random.fork_rng(devices=[]):
        net = estimator._build_net(n_classes, int(record.batch_size), 0, None,
                                   np.arange(n_classes))
        params = {"batch_size": int(record.batch_size),
                  "iterator_train__drop_last": bool(record.drop_last)}
        if record.criterion_weight is not None:
            params["criterion__weight"] = torch.as_tensor(
                np.asarray(record.criterion_weight), dtype=torch.float32)
        net.set_params(**params)
        saved = _without_pretrained(net)
        net.initialize()
    # what the module was built from, as in the fitted net (no re-initialisation)
    vars(net).update(saved)
    module = _unwrap(net.module_)
    for name, output in record.precomputed.items():
        module.encoders[name].use_precomputed(output)
    _load_state(module, record.module_state, type(estimator).__name__)
    net.history = History(record.history)
    return net


def _rebuild_backbone(embedder, record):
    """The frozen backbone of an ImageEmbedder from a ``ModuleRecord``."""
    from ..nn._registry import build_backbone

    # The stem comes from the stored weights, not from the fit's weights file,
    # which the machine that loads the model may not have.
    state = _as_tensors(record.state)
    modality = copy.copy(embedder.modality_)
    modality.weights = state
    spec = {**modality.encoder_spec(), "weights": None}
    with torch.random.fork_rng(devices=[]):
        backbone = build_backbone(spec)
    _load_state(backbone, state, type(embedder).__name__)
    return backbone.eval().requires_grad_(False)


# -- walking an object tree -------------------------------------------------
class _Stored:
    """How one fitted attribute of a library estimator is stored in a file.

    ``live(value)`` tells the fitted value (a net, a module) from its stored
    form, which ``stored(value)`` recognises; ``save(value, portable)``
    gives the stored form (``portable`` converts nested objects) and
    ``rebuild(estimator, value)`` the fitted value again.
    """

    def __init__(self, owner, live, stored, save, rebuild):
        self.owner = owner
        self.live = live
        self.stored = stored
        self.save = save
        self.rebuild = rebuild


def _stored_attributes():
    """{attribute name: _Stored} for the fitted attributes skops cannot store."""
    from sklearn.utils import Bunch

    from ..estimators import ImageEmbedder
    from ..estimators._base import BaseNetClassifier
    from ..fusion import LateFusionClassifier

    return {
        "net_": _Stored(
            BaseNetClassifier, lambda v: isinstance(v, NeuralNet),
            lambda v: isinstance(v, NetRecord),
            lambda v, portable: _net_record(v), _rebuild_net),
        "backbone_": _Stored(
            ImageEmbedder, lambda v: isinstance(v, torch.nn.Module),
            lambda v: isinstance(v, ModuleRecord),
            lambda v, portable: ModuleRecord(_state_arrays(v)), _rebuild_backbone),
        # a Bunch, which skops does not trust by default, of estimators_
        # by name: stored as a plain dict
        "named_estimators_": _Stored(
            LateFusionClassifier, lambda v: isinstance(v, Bunch),
            lambda v: type(v) is dict,
            lambda v, portable: {k: portable(e) for k, e in v.items()},
            lambda est, v: Bunch(**v)),
    }


def _portable(obj, memo, attributes):
    """``obj`` with the fitted attributes skops cannot store in stored form.

    The objects holding such attributes, and the estimators and containers
    above them, are shallow-copied; everything else is shared with ``obj``,
    which is left unchanged.
    """
    key = id(obj)
    if key in memo:
        return memo[key]
    memo[key] = obj  # a cycle back to obj keeps obj

    def portable(value):
        return _portable(value, memo, attributes)

    out = obj
    if isinstance(obj, BaseEstimator) and hasattr(obj, "__dict__"):
        state, changed = {}, False
        for name, value in vars(obj).items():
            how = attributes.get(name)
            if how is not None and isinstance(obj, how.owner) and how.live(value):
                new = how.save(value, portable)
            else:
                new = portable(value)
            changed |= new is not value
            state[name] = new
        if changed:
            out = object.__new__(type(obj))
            vars(out).update(state)
    elif isinstance(obj, dict):
        items = {k: portable(v) for k, v in obj.items()}
        if any(items[k] is not obj[k] for k in items):
            out = copy.copy(obj)
            out.update(items)
    elif isinstance(obj, list):
        items = [portable(v) for v in obj]
        if any(a is not b for a, b in zip(items, obj)):
            out = copy.copy(obj)
            out[:] = items
    elif type(obj) is tuple:
        items = tuple(portable(v) for v in obj)
        if any(a is not b for a, b in zip(items, obj)):
            out = items
    memo[key] = out
    return out


def _restore(obj, seen, attributes):
    """Rebuild, in place, the fitted attributes of the estimators in a loaded tree."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, BaseEstimator) and hasattr(obj, "__dict__"):
        # what is inside first: a net is rebuilt from its estimator's fitted
        # attributes
        for value in list(vars(obj).values()):
            _restore(value, seen, attributes)
        for name, value in list(vars(obj).items()):
            how = attributes.get(name)
            if how is not None and isinstance(obj, how.owner) and how.stored(value):
                setattr(obj, name, how.rebuild(obj, value))
    elif isinstance(obj, dict):
        for value in obj.values():
            _restore(value, seen, attributes)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _restore(value, seen, attributes)


# -- trusted types ----------------------------------------------------------
def _type_name(cls):
    """``"<module>.<class>"``, the name skops gives a type."""
    return f"{cls.__module__}.{cls.__name__}"


def trusted_types():
    """Return the names of the library's own types that :func:`load` trusts.

    These are the classes of skmultimodal that a saved model may contain:
    the public estimators, the modality specifications
    (:class:`~skmultimodal.ImageModality`, :class:`~skmultimodal.ImageBagModality`,
    :class:`~skmultimodal.TabularModality`) and the records of fitted
    networks (``NetRecord``, ``ModuleRecord``), the survival
    estimators of :mod:`skmultimodal.survival` with the two scikit-survival
    classes their fitted baseline is made of (``BreslowEstimator`` and
    ``StepFunction``: arrays only). Names are given as skops reports them,
    ``"<defining module>.<class>"``. Besides them,
    :func:`load` trusts only what skops trusts by default (builtins, numpy,
    most scikit-learn estimators) and the types passed as ``trusted``.

    Returns
    -------
    names : list of str
        Sorted type names.

    Examples
    --------
    >>> from skmultimodal.io import trusted_types
    >>> "skmultimodal.estimators._image.ImageClassifier" in trusted_types()
    True
    """
    from sksurv.functions import StepFunction
    from sksurv.linear_model.coxph import BreslowEstimator

    from ..modalities import ImageBagModality, ImageModality, TabularModality
    from ..survival import (
        CrossAttentionFusionSurvival,
        IntermediateFusionSurvival,
        TabularMLPSurvival,
    )
    from ..utils.discovery import all_estimators

    classes = [cls for _, cls in all_estimators()]
    classes += [ImageModality, ImageBagModality, TabularModality, NetRecord, ModuleRecord,
                TabularMLPSurvival, IntermediateFusionSurvival, CrossAttentionFusionSurvival,
                BreslowEstimator, StepFunction]
    return sorted({_type_name(cls) for cls in classes})


def _trusted_names(trusted):
    if trusted is None:
        return set()
    if isinstance(trusted, (bool, str, type)):
        raise TypeError(
            "trusted must be a list of type names (str) or types, e.g. "
            "trusted=['xgboost.sklearn.XGBClassifier'], never True: review the "
            "types that load() reports as untrusted before trusting them."
        )
    names = set()
    for item in trusted:
        if isinstance(item, type):
            names.add(_type_name(item))
        elif isinstance(item, str):
            names.add(item)
        else:
            raise TypeError(
                f"trusted must hold type names (str) or types, got {item!r}."
            )
    return names


class UntrustedTypesError(UntrustedTypesFoundException):
    """A skops file holds types that are neither trusted by default nor by the caller.

    Attributes
    ----------
    untrusted : list of str
        The names of the refused types.
    """

    def __init__(self, untrusted):
        self.untrusted = sorted(untrusted)
        super().__init__(self.untrusted)
        hint = (
            "skmultimodal.io.load trusts the library's own types "
            "(skmultimodal.io.trusted_types()) and the types skops trusts by "
            f"default, not {self.untrusted}. These come from outside the library "
            "(a model you put inside a LateFusionClassifier, a callback, an "
            "augmentation, scikit-learn internals that skops does not trust); "
            "loading an object of an unknown type can run its code. If you "
            "know where the file comes from and each of these types is one you "
            "expect it to hold, load it with "
            f"load(file, trusted={self.untrusted!r}). skops.io.visualize(file) "
            "shows where each object sits in the file."
        )
        self.args = (f"{self.args[0]}\n\n{hint}",)

    def __reduce__(self):
        return type(self), (self.untrusted,)


# -- public API -------------------------------------------------------------
def dump(estimator, file):
    """Save a fitted (or unfitted) estimator in the skops format.

    Unlike pickle and joblib files, a skops file runs no code when it is
    loaded with :func:`load`, which creates only objects of trusted types:
    it is the format for sharing models. The fitted networks are stored as
    their weights (state dicts as numpy arrays) with the training history;
    :func:`load` rebuilds them from the estimator's parameters. The
    optimiser's state, the callbacks' state and the accelerator are not
    stored: a loaded model predicts, explains and can be refitted exactly as
    the original, but resuming its training by hand (``net_.partial_fit``)
    starts from a fresh optimiser. See ``docs/persistence.md``.

    Parameters
    ----------
    estimator : estimator
        Any skmultimodal estimator, or a scikit-learn estimator or pipeline
        holding them (e.g. the pipeline of
        :func:`~skmultimodal.fusion.make_stacking_ensemble`). The object is
        not modified.
    file : str, path or binary file object
        Where to write; ``.skops`` is the conventional suffix.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.datasets import make_classification
    >>> from skmultimodal import TabularMLPClassifier
    >>> from skmultimodal.io import dump, load
    >>> X, y = make_classification(60, n_features=5, random_state=0)
    >>> clf = TabularMLPClassifier(hidden_layer_sizes=(8,), max_epochs=2,
    ...                            random_state=0, device="cpu").fit(X, y)
    >>> path = Path(tempfile.mkdtemp()) / "model.skops"
    >>> dump(clf, path)
    >>> loaded = load(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    portable = _portable(estimator, {}, _stored_attributes())
    sio.dump(portable, file)


def _read(file):
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return f.read()
    if isinstance(file, (bytes, bytearray)):
        raise TypeError("load reads a path or a binary file object, not bytes; "
                        "wrap them in io.BytesIO.")
    return file.read()


def load(file, *, trusted=None):
    """Load an estimator saved with :func:`dump`.

    The file is checked before anything is created: every type it holds
    must be one of the library's own types (:func:`trusted_types`), one that
    skops trusts by default (builtins, numpy, most scikit-learn estimators),
    or one listed in ``trusted``. Otherwise :class:`UntrustedTypesError` is
    raised, naming the other types. The fitted networks are then rebuilt
    from the estimator's parameters on its device (the CPU for a model
    trained on a GPU when no GPU is available here) and their weights
    loaded.

    Parameters
    ----------
    file : str, path or binary file object
        A file written by :func:`dump`.
    trusted : list of str or type, default=None
        Further types to trust, by name as the error message (or
        :func:`skops.io.get_untrusted_types`) reports them, e.g.
        ``["xgboost.sklearn.XGBClassifier"]``, or as classes. Only trust
        types you expect the file to hold, from a source you trust: loading
        an object of a type runs that type's code.

    Returns
    -------
    estimator : object
        The estimator, of the same type and parameters as the one dumped,
        predicting the same probabilities on the same device.

    Raises
    ------
    UntrustedTypesError
        If the file holds types that are not trusted; nothing is loaded.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import make_classification
    >>> from skmultimodal.fusion import LateFusionClassifier
    >>> from skmultimodal.io import dump, load
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(60, n_features=4, random_state=0)
    >>> clf = LateFusionClassifier([("tab", LogisticRegression(), None)]).fit(X, y)
    >>> buffer = io.BytesIO()
    >>> dump(clf, buffer)
    >>> _ = buffer.seek(0)
    >>> load(buffer).predict(X[:3]).tolist() == clf.predict(X[:3]).tolist()
    True
    """
    allowed = set(trusted_types()) | _trusted_names(trusted)
    data = _read(file)
    untrusted = sio.get_untrusted_types(data=data)
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise UntrustedTypesError(refused)
    # exactly the reviewed types: never trusted=True
    obj = sio.loads(data, trusted=sorted(untrusted))
    _restore(obj, set(), _stored_attributes())
    return obj
