"""Shared machinery of the library's classifiers: validation, labels, seeding, skorch."""

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import _safe_indexing
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    column_or_1d,
)
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from ..data import MultimodalDataset
from ..data._dataset import ImageCache, ImageSource, collate_batch
from ..utils._constraints import TRAINING
from ..utils._messages import shown
from ..utils._torch import (
    check_accelerator,
    check_precision,
    compile_kwargs,
    loadable_device,
    resolve_device,
    resolve_num_workers,
    resolve_optimizer,
    resolve_seed,
    torch_seed,
)
from ._callbacks import FitLRScheduler, RecalibrateBatchNorm, StopOnNonFiniteLoss
from ._net import AcceleratedNetClassifier, NetClassifier


@dataclass
class PreparedInput:
    """X validated and read, modality by modality, before it becomes data sources.

    What ``_prepare_X`` of every network estimator returns and what
    ``_fit_preprocessing`` and ``_make_sources`` take.

    Attributes
    ----------
    data : dict
        Per input of the network: image cells (an object array of paths or
        arrays, or an image stack) or a table (a DataFrame).
    n_rows : int
    labels : list or None
        Row labels (the DataFrame index) for error messages; None: positions.
    missing : dict of str to ndarray of bool
        Rows where a modality is missing (fusion estimators only).
    fitting : bool
        Whether these are the training rows of ``fit``.
    """

    data: dict
    n_rows: int
    labels: list = None
    missing: dict = field(default_factory=dict)
    fitting: bool = False


def encode_labels(y, n_rows, who):
    """Validate classification labels; return ``(classes, y_encoded)``.

    Parameters
    ----------
    y : array-like of shape (n_rows,) or None
    n_rows : int
        Rows of X.
    who : str
        The estimator's name, for the messages.

    Returns
    -------
    classes : ndarray
        The sorted distinct labels.
    y_encoded : ndarray of int
        Each label's position in ``classes``.
    """
    if y is None:
        raise ValueError(f"{who} requires y to be passed, but the target y is None.")
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)} labels.")
    classes, y_enc = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{who} needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes[0]!r}."
        )
    return classes, y_enc


def check_not_empty(n_rows, what):
    """Raise a ValueError saying that X has no rows, and what needs them."""
    if n_rows == 0:
        raise ValueError(f"X has 0 rows (found array with 0 sample(s)); {what}.")


def drop_zero_weight_rows(X, y, sample_weight, uniform_is_none=True):
    """Validate ``sample_weight``; return X, y and weights without the 0-weight rows.

    With ``uniform_is_none``, returns ``sample_weight=None`` when every
    remaining weight is the same (a uniform weight does not change the
    networks' weighted mean loss), so that equal weights train exactly as no
    weights. An empty X is an error.
    """
    try:
        n_rows = _num_samples(X)
    except TypeError:  # not a table: _prepare_X says what X must be
        return X, y, sample_weight
    check_not_empty(n_rows, "fit needs at least 2 rows of 2 classes")
    if sample_weight is None:
        return X, y, None
    sample_weight = _check_sample_weight(sample_weight, np.empty((n_rows, 0)),
                                         dtype=np.float64, ensure_non_negative=True)
    keep = np.flatnonzero(sample_weight > 0)
    if len(keep) < n_rows:
        X = _safe_indexing(X, keep)
        y = None if y is None else _safe_indexing(np.asarray(y), keep)
        sample_weight = sample_weight[keep]
    if uniform_is_none and np.all(sample_weight == sample_weight[0]):
        return X, y, None
    return X, y, sample_weight


class WarmupCosine:
    """Learning-rate factor of step ``i``: linear warm-up, then cosine decay to 0.

    The factor rises linearly from ``1 / warmup_steps`` to 1 over the first
    ``warmup_steps`` optimiser steps, then follows half a cosine down to 0 at
    ``total_steps`` (and stays there). A ``torch.optim.lr_scheduler.LambdaLR``
    multiplies the base learning rate by it; a class rather than a closure,
    so that fitted estimators can be pickled.

    Parameters
    ----------
    total_steps : int
    warmup_steps : int
    """

    def __init__(self, total_steps, warmup_steps):
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return 0.5 * (1.0 + np.cos(np.pi * progress))


#: Share of the optimiser steps spent warming up (warm-up cosine and one-cycle).
WARMUP_FRACTION = 0.05


def lr_schedule_policy(lr_schedule, lr, total_steps):
    """The torch scheduler class and arguments of ``lr_schedule`` over ``total_steps``.

    Parameters
    ----------
    lr_schedule : {"warmup_cosine", "onecycle", "constant"} or None
        "warmup_cosine": linear warm-up over the first 5% of the steps, then
        cosine decay to 0 at the last step. "onecycle":
        :class:`torch.optim.lr_scheduler.OneCycleLR` peaking at ``lr`` after
        5% of the steps. "constant" or None: no schedule.
    lr : float
        The peak learning rate.
    total_steps : int
        Optimiser steps the schedule spans.

    Returns
    -------
    policy : (type, dict) or None
        ``policy[0](optimizer, **policy[1])`` is the scheduler, stepped once
        per optimiser step; None for a constant learning rate.
    """
    if lr_schedule is None or lr_schedule == "constant":
        return None
    total = max(1, int(total_steps))
    warmup = max(1, int(round(WARMUP_FRACTION * total)))
    if lr_schedule == "warmup_cosine":
        return torch.optim.lr_scheduler.LambdaLR, {"lr_lambda": WarmupCosine(total, warmup)}
    if lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR, {
            "max_lr": float(lr), "total_steps": total + 1, "pct_start": warmup / total}
    raise ValueError(
        f"lr_schedule={lr_schedule!r} is not supported; use 'warmup_cosine', "
        "'onecycle', 'constant' or None."
    )


def make_lr_scheduler(lr_schedule, lr, max_epochs, batches_per_epoch):
    """The skorch ``LRScheduler`` callback of ``lr_schedule`` (stepped per batch).

    Parameters
    ----------
    lr_schedule : {"warmup_cosine", "onecycle", "constant"} or None
        See :func:`lr_schedule_policy`.
    lr : float
        The peak learning rate.
    max_epochs, batches_per_epoch : int
        The schedule spans ``max_epochs * batches_per_epoch`` steps (early
        stopping may end training before its end).

    Returns
    -------
    scheduler : skorch.callbacks.LRScheduler or None
        It records the learning rate of every batch in the history as
        ``"event_lr"``; None for a constant learning rate.
    """
    total = int(max_epochs) * max(1, int(batches_per_epoch))
    policy = lr_schedule_policy(lr_schedule, lr, total)
    if policy is None:
        return None
    return FitLRScheduler(policy=policy[0], **policy[1], step_every="batch")


def check_finite_proba(proba, module, X):
    """Raise FloatingPointError, naming the rows and the cause, on non-finite rows."""
    bad = ~np.isfinite(proba).all(axis=1)
    if not bad.any():
        return
    labels = list(X.index) if hasattr(X, "index") else list(range(len(proba)))
    rows = [labels[i] for i in np.flatnonzero(bad)]
    weights_ok = all(bool(torch.isfinite(p).all()) for p in module.parameters())
    cause = ("the inputs of these rows drive the network out of float32's range"
             if weights_ok else
             "the network's weights are not finite (training diverged, or the "
             "pretrained weights hold NaN or infinity)")
    raise FloatingPointError(
        f"The network gave probabilities that are not finite for {len(rows)} row(s): "
        f"{shown(rows)}. Likely cause: {cause}."
    )


class BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Base class of classifiers that own a skorch ``NeuralNetClassifier``.

    The estimator stores its parameters only; ``fit`` validates X and y,
    encodes the labels, seeds torch from ``random_state``, builds
    ``self.net_`` around the torch module of the subclass and trains it.

    Subclasses implement:

    - ``_prepare_X(X, reset)``: validate X, return a :class:`PreparedInput`;
    - ``_fit_preprocessing(prepared)``: fit preprocessing (optional);
    - ``_make_sources(prepared, train, raw_images=False)``: dict of data sources;
    - ``_module_spec(n_classes)``: ``(module_class, module_kwargs)``.

    :meth:`get_input_modalities` and :meth:`make_dataset` are the hooks
    through which inspection (Grad-CAM, SHAP, attention maps) reads what the
    network reads; the network's ``image_backbone(name)`` gives the backbone
    of an image input.

    Common parameters (set by subclasses' ``__init__``): ``max_epochs``,
    ``batch_size``, ``lr``, ``optimizer``, ``weight_decay``, ``lr_schedule``
    (see :func:`make_lr_scheduler`), ``class_weight``, ``label_smoothing``
    (cross-entropy classifiers), ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``callbacks``, ``device``, ``random_state``,
    ``verbose`` and optionally the training-speed options ``num_workers``
    (default 0 when absent), ``precision``, ``channels_last``, ``compile``,
    ``cache_images`` and ``accelerator`` (see ``docs/performance.md``).
    """

    _with_presence = False
    _parameter_constraints = dict(TRAINING)

    #: The values of estimators that do not declare these parameters, or that
    #: were pickled before they did: a constant learning rate, no smoothing.
    lr_schedule = None
    label_smoothing = 0.0

    # -- hooks ---------------------------------------------------------
    def _prepare_X(self, X, reset):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_preprocessing(self, prepared):
        """Fit preprocessing on the training rows (nothing by default)."""

    def _make_sources(self, prepared, train, raw_images=False):  # pragma: no cover
        raise NotImplementedError

    def _module_spec(self, n_classes):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -------------------------------------------------------
    def _criterion_weight(self, y_enc):
        if self.class_weight is None:
            return None
        classes = np.arange(len(self.classes_))
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight names unknown classes {sorted(unknown, key=str)}.")
            weight = np.array([self.class_weight.get(c, 1.0) for c in self.classes_])
        elif self.class_weight == "balanced":
            weight = compute_class_weight("balanced", classes=classes, y=y_enc)
        else:
            raise ValueError(
                f"class_weight={self.class_weight!r} must be None, 'balanced' or a dict."
            )
        return torch.as_tensor(weight, dtype=torch.float32)

    def _check_common_params(self):
        """Parameters: their constraints, then what the constraints cannot say."""
        self._validate_params()
        resolve_optimizer(self.optimizer)
        if self.label_smoothing and not issubclass(
                self._criterion(), torch.nn.CrossEntropyLoss):
            raise ValueError(
                f"label_smoothing={self.label_smoothing!r} applies to the "
                f"cross-entropy loss only; {type(self).__name__} trains with "
                f"{self._criterion().__name__}: set label_smoothing=0."
            )
        compile_kwargs(getattr(self, "compile", False))
        check_accelerator(getattr(self, "accelerator", None), self.device,
                          getattr(self, "precision", None))

    def _resolve_device(self):
        """The training device: the accelerator's, else ``device`` resolved."""
        accelerator = getattr(self, "accelerator", None)
        device = resolve_device(self.device) if accelerator is None else str(
            accelerator.device)
        check_precision(getattr(self, "precision", None), device)
        return device

    def _cached(self, sources, caches):
        """``sources`` reading through ``caches`` (one per image source, created in
        ``caches`` on first use) when ``cache_images``; else ``sources``."""
        if not getattr(self, "cache_images", False):
            return sources
        return {name: src.with_cache(caches.setdefault(name, ImageCache()))
                if isinstance(src, ImageSource) else src for name, src in sources.items()}

    # -- what the network learns (the survival estimators override these) ----
    #: dtype of the targets the network is trained on
    _target_dtype = torch.long

    def _encode_targets(self, y, n_rows):
        """Targets of the network and its number of outputs; sets ``classes_``."""
        self.classes_, y_enc = encode_labels(y, n_rows, type(self).__name__)
        return y_enc, len(self.classes_)

    def _criterion(self):
        """The training loss (a torch module class)."""
        return torch.nn.CrossEntropyLoss

    def _stratify_by(self, y_enc):
        """Labels the early-stopping validation split is stratified on."""
        return y_enc

    def _net_params(self):
        """Further parameters of the skorch net (e.g. callbacks to turn off)."""
        return {}

    def _split_validation(self, train_ds, eval_sources, y_enc, seed):
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=self.validation_fraction, random_state=seed
        )
        strata = self._stratify_by(y_enc)
        try:
            tr, va = next(splitter.split(np.zeros(len(strata)), strata))
        except ValueError as exc:
            raise ValueError(
                f"Cannot hold out a stratified validation_fraction="
                f"{self.validation_fraction} for early stopping: {exc}"
            ) from None
        return train_ds.subset(tr), train_ds.subset(va, sources=eval_sources)

    def _make_callbacks(self):
        callbacks = [("stop_on_non_finite_loss", StopOnNonFiniteLoss())]
        for cb in self.callbacks or []:
            callbacks.append(copy.deepcopy(cb))
        if self.early_stopping:
            callbacks.append(
                ("early_stopping",
                 EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change,
                               load_best=True))
            )
        # exact batch-norm statistics for the final weights (see the callback)
        recalibrate = getattr(self, "recalibrate_bn", True)
        if isinstance(recalibrate, (bool, np.bool_)):
            max_batches = None if recalibrate else 0
        else:
            max_batches = int(recalibrate)
        if max_batches != 0:
            callbacks.append(("recalibrate_bn", RecalibrateBatchNorm(max_batches)))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _build_net(self, n_classes, n_train, seed, valid_ds, y_enc, weighted=False):
        module, module_kwargs = self._module_spec(n_classes)
        optimizer = resolve_optimizer(self.optimizer)
        batch_size = int(min(self.batch_size, n_train))
        num_workers = resolve_num_workers(getattr(self, "num_workers", 0), self.device_)
        cuda = self.device_.startswith("cuda")
        kwargs = {f"module__{k}": v for k, v in module_kwargs.items()}
        kwargs.update(compile_kwargs(getattr(self, "compile", False)))
        accelerator = getattr(self, "accelerator", None)
        if accelerator is None:
            net_class = NetClassifier
            kwargs["device"] = self.device_
        else:
            net_class = AcceleratedNetClassifier
            kwargs["accelerator"] = accelerator
            # the accelerator moves the module and the batches itself
            kwargs["device"] = None if accelerator.device_placement else self.device_
            # the epoch table through accelerator.print (main process) if verbose
            kwargs["callbacks__print_log__sink"] = "auto" if self.verbose else print
        if optimizer is torch.optim.SGD:
            kwargs["optimizer__momentum"] = 0.9
        weight = self._criterion_weight(y_enc)
        if weight is not None:
            kwargs["criterion__weight"] = weight
        label_smoothing = float(self.label_smoothing)
        if label_smoothing:
            kwargs["criterion__label_smoothing"] = label_smoothing
        if weighted:
            # per-row losses, averaged with the sample weights (NetClassifier.get_loss)
            kwargs["criterion__reduction"] = "none"
        kwargs.update(self._net_params())
        for it in ("iterator_train", "iterator_valid"):
            kwargs[f"{it}__collate_fn"] = collate_batch
            kwargs[f"{it}__num_workers"] = num_workers
            kwargs[f"{it}__pin_memory"] = cuda
            if num_workers > 0:
                # workers (and what they cache) live across epochs
                kwargs[f"{it}__persistent_workers"] = True
        # A last batch of one sample breaks batch normalisation in training.
        drop_last = n_train > batch_size and n_train % batch_size == 1
        batches_per_epoch = n_train // batch_size if drop_last else -(-n_train // batch_size)
        callbacks = self._make_callbacks()
        scheduler = make_lr_scheduler(self.lr_schedule, self.lr,
                                      self.max_epochs, batches_per_epoch)
        if scheduler is not None:
            callbacks.insert(1, ("lr_scheduler", scheduler))
        return net_class(
            module=module,
            criterion=self._criterion(),
            optimizer=optimizer,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            train_split=None if valid_ds is None else predefined_split(valid_ds),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            # A DataLoader draws its base seed from its generator, else from
            # torch's global one: prediction must not consume the global
            # generator, which a fit in another thread may be drawing from.
            iterator_valid__generator=torch.Generator(),
            iterator_train__drop_last=drop_last,
            callbacks=callbacks,
            classes=np.arange(n_classes),
            precision=getattr(self, "precision", None),
            channels_last=getattr(self, "channels_last", False),
            verbose=int(bool(self.verbose)),
            **kwargs,
        )

    # -- public API ----------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train the network on X and y.

        Parameters
        ----------
        X : see the class documentation
        y : array-like of shape (n_samples,)
            Class labels of any type (strings, ints, {-1, 1}, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the training loss (combined
            with ``class_weight`` by multiplication; the loss of a batch is
            the weighted mean of its rows' losses). Rows of weight 0 are left
            out of the fit altogether, preprocessing included, as if they
            were absent. None, or equal weights, train as without weights.

        Returns
        -------
        self : object
        """
        self._check_common_params()
        X, y, sample_weight = drop_zero_weight_rows(X, y, sample_weight)
        prepared = self._prepare_X(X, reset=True)
        y_enc, n_outputs = self._encode_targets(y, prepared.n_rows)
        self.device_ = self._resolve_device()
        seed = resolve_seed(self.random_state)
        with torch_seed(seed, self.device_):
            self._fit_preprocessing(prepared)
            sources = self._make_sources(prepared, train=True)
            # image caches live for this fit only (never in clones or pickles)
            caches = {}
            dataset = MultimodalDataset(
                self._cached(sources, caches), y_enc, self._with_presence,
                sample_weight=sample_weight, target_dtype=self._target_dtype,
            )
            valid_ds = None
            if self.early_stopping:
                dataset, valid_ds = self._split_validation(
                    dataset,
                    self._cached(self._make_sources(prepared, train=False), caches),
                    y_enc, seed,
                )
            self.net_ = self._build_net(n_outputs, len(dataset), seed, valid_ds,
                                        y_enc, weighted=sample_weight is not None)
            try:
                self.net_.fit(dataset, y=None)
            finally:
                for cache in caches.values():
                    cache.clear()
                # the fitted net keeps its validation rows (predefined split):
                # not the tensor their in-memory images were prepared into
                for ds in (dataset, valid_ds):
                    if hasattr(ds, "clear_prepared"):
                        ds.clear_prepared()
        self.n_iter_ = len(self.net_.history)
        return self

    def get_input_modalities(self):
        """The fitted modalities the network reads, by input name.

        The names are those of the network's inputs and of the sources of
        :meth:`make_dataset`: ``{"image": ImageModality}`` for the image
        classifier, ``{"tabular": TabularModality}`` for the tabular one,
        the named ``modalities_`` of the fusion classifiers.

        Returns
        -------
        modalities : dict of str to ImageModality or TabularModality
        """
        check_is_fitted(self, "net_")
        return self._input_modalities()

    def _input_modalities(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def make_dataset(self, X, *, raw_images=False):
        """The torch dataset the fitted network reads for the rows X.

        Rows are validated as in ``predict``; each item is ``(inputs,
        target)`` with ``inputs`` the keyword arguments of the network's
        ``forward`` (one tensor per input, and ``<name>_present`` flags for
        the fusion networks). Inspection tools (Grad-CAM, SHAP, attention
        maps) read the network's input through this method.

        Parameters
        ----------
        X : see the class documentation
        raw_images : bool, default=False
            Give images for every image input, also where ``memory=`` makes
            the network read precomputed embeddings of a frozen encoder.

        Returns
        -------
        dataset : skmultimodal.data.MultimodalDataset
        """
        check_is_fitted(self, "net_")
        prepared = self._prepare_X(X, reset=False)
        check_not_empty(prepared.n_rows,
                        f"{type(self).__name__} needs at least one row to predict")
        return MultimodalDataset(
            self._make_sources(prepared, train=False, raw_images=raw_images), None,
            self._with_presence,
        )

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)

        Raises
        ------
        FloatingPointError
            If the network gives probabilities that are not finite (never
            returned silently).
        """
        dataset = self.make_dataset(X)  # checks that the estimator is fitted
        proba = np.mean([np.asarray(self.net_.predict_proba(view), dtype=np.float64)
                         for view in self._test_time_views(dataset)], axis=0)
        check_finite_proba(proba, self.net_.module_, X)
        return proba / proba.sum(axis=1, keepdims=True)

    def _test_time_views(self, dataset):
        """The datasets whose predictions are averaged (test-time augmentation)."""
        return [dataset]

    def predict(self, X):
        """Predicted class labels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __setstate__(self, state):
        # skorch itself moves a CUDA-trained net_ to the CPU when no GPU is here
        if "device_" in state:
            state["device_"] = loadable_device(state["device_"])
        self.__dict__.update(state)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy; labels never seen in fit are an error."""
        check_is_fitted(self, "net_")
        unseen = np.setdiff1d(np.unique(column_or_1d(y)), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels never seen in fit: {unseen.tolist()}; known "
                f"classes are {self.classes_.tolist()}."
            )
        return super().score(X, y, sample_weight=sample_weight)
