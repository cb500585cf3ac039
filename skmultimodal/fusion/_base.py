"""Shared base of the fusion classifiers: modality lists, validation, sources."""

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import Callback

from ..data import ArraySource, ImageSource, MultimodalDataset
from ..data._bags import ArrayBagSource, ImageBagSource
from ..data._transforms import resolve_augmentation
from ..estimators._base import BaseNetClassifier, PreparedInput
from ..estimators._cache import check_memory, encode_source
from ..modalities import ImageBagModality, ImageModality, TabularModality
from ..modalities._image import check_column_present
from ..modalities._multimodal import MultimodalMixin
from ..modalities._tabular import as_frame
from ..utils._messages import shown


def _rows_text(labels, mask, limit=10):
    return shown([labels[i] for i in np.flatnonzero(mask)], limit)


def _unwrap(module):
    """The fusion network inside ``torch.compile`` or data-parallel wrappers."""
    for attr in ("_orig_mod", "module"):
        inner = getattr(module, attr, None)
        if isinstance(inner, torch.nn.Module):
            return _unwrap(inner)
    return module


#: Smallest batch of instances a frozen bag encoder is run on when precomputing.
BAG_ENCODING_BATCH = 128


def precomputed_output(module, name):
    """What the frozen encoder ``name`` of ``module`` takes once precomputed."""
    return "pooled" if module.encoders[name].kind == "image_bag" else module.encoder_output


def _encode_bags(net, src, store, **options):
    """An :class:`ArrayBagSource` of the instance embeddings of the bags of ``src``."""
    cells, labels, counts = [], [], []
    for i in range(len(src)):
        instances = src.instances(i)
        cells.extend(instances)
        row = i if src.row_labels is None else src.row_labels[i]
        labels.extend([row] * len(instances))
        counts.append(len(instances))
    flat = np.empty(len(cells), dtype=object)
    flat[:] = cells
    features, _ = encode_source(net, ImageSource(flat, src.transform, labels), output="pooled",
                                store=store, **options)
    arrays = np.split(np.asarray(features), np.cumsum(counts)[:-1]) if counts else []
    return ArrayBagSource(arrays, net.num_features, src.max_instances, src.train)


def precompute_sources(module, sources, names, store, *, batch_size, num_workers=0,
                       precision=None, channels_last=False):
    """Replace the image sources ``names`` by their frozen encoders' outputs.

    Each image source becomes an :class:`~skmultimodal.data.ArraySource` of
    what the fusion network's encoder of that modality gives
    (``module.encoder_output``: pooled embeddings or feature maps), read from
    or written to ``store`` (None: computed, not cached). Missing rows hold
    the output for the placeholder image and keep their presence flag. A bag
    source becomes an :class:`~skmultimodal.data._bags.ArrayBagSource` of the
    embeddings of its instances, each instance encoded once (and cached by
    its content).

    Returns
    -------
    sources : dict
        A new dict; the other sources are unchanged.
    """
    out = dict(sources)
    options = dict(batch_size=batch_size, num_workers=num_workers, precision=precision,
                   channels_last=channels_last)
    for name in names:
        src = sources[name]
        net = module.encoders[name].net
        if isinstance(src, ImageBagSource):
            # batch_size counts bags: encode their instances in larger batches
            bag_options = dict(options, batch_size=max(int(batch_size), BAG_ENCODING_BATCH))
            out[name] = _encode_bags(net, src, store, **bag_options)
            continue
        if not isinstance(src, ImageSource):  # already precomputed
            continue
        features, _ = encode_source(net, src, output=module.encoder_output, store=store,
                                    **options)
        out[name] = ArraySource(features, present=[src.present(i) for i in range(len(src))])
    return out


class PrecomputeFrozenEncoders(Callback):
    """Run frozen image encoders once per image, then train on their outputs.

    At the start of training (the module initialised, its random state
    consumed as without this callback), the image sources ``names`` of the
    training and validation datasets are replaced by the outputs of the
    module's own frozen encoders (read from or written to ``store``), and the
    encoders are switched to precomputed inputs
    (:meth:`~skmultimodal.nn.ModalityEncoder.use_precomputed`), so that the
    forward passes skip them. The torch random state is left untouched.

    Parameters
    ----------
    names : list of str
        Image modalities with a frozen, non-augmented encoder.
    store : skmultimodal.estimators._cache.EmbeddingStore or None
    batch_size : int, default=64
    """

    def __init__(self, names, store=None, batch_size=64):
        self.names = names
        self.store = store
        self.batch_size = batch_size

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        module = _unwrap(net.module_)
        datasets = [ds for ds in net.get_split_datasets(X, y)
                    if isinstance(ds, MultimodalDataset)]
        device = next(module.encoders[self.names[0]].net.parameters()).device
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            for ds in datasets:
                ds.sources = precompute_sources(
                    module, ds.sources, self.names, self.store,
                    batch_size=self.batch_size,
                    num_workers=getattr(net, "iterator_valid__num_workers", 0),
                    precision=getattr(net, "precision", None),
                    channels_last=getattr(net, "channels_last", False),
                )
        for name in self.names:
            module.encoders[name].use_precomputed(precomputed_output(module, name))


class BaseFusionClassifier(MultimodalMixin, BaseNetClassifier):
    """Base of the multimodal classifiers whose modalities are fused in one network.

    ``modalities`` is a list of ``(name, modality)`` pairs, as the
    ``transformers`` of :class:`~sklearn.compose.ColumnTransformer`: each
    modality is an :class:`~skmultimodal.modalities.ImageModality` (a column
    of image paths or arrays) or a
    :class:`~skmultimodal.modalities.TabularModality` (a group of columns).
    Nested parameters are reached with ``<name>__<param>``, e.g.
    ``set_params(us__backbone="simple_cnn")``.

    X is a pandas DataFrame. A 2-D numeric array is also accepted when all
    modalities are tabular (its columns are then named 0..n-1). As for any
    scikit-learn estimator, X at predict time has the columns seen in fit,
    in the same order.

    A modality may be missing in a row (image cell None/NaN, or every column
    of a tabular modality NaN); the network sees a presence flag
    ``<name>_present`` per modality. A row where every modality is missing is
    an error.

    With ``memory`` set (a folder or a :class:`joblib.Memory`), the image
    modalities with ``freeze_backbone=True`` and no augmentation are encoded
    once per image before training, through an on-disk cache shared by later
    fits, cross-validation folds and grid-search candidates (see
    :func:`~skmultimodal.estimators._cache.encode_source`); the rest of the network
    trains on these outputs and the frozen encoders are skipped in its
    forward passes. The results are those of ``memory=None``.

    Subclasses implement ``_module_spec`` and ``_check_fusion_params``.
    """

    _with_presence = True
    _supports_missing_modalities = True

    # -- validation -----------------------------------------------------
    def _check_fusion_params(self):  # pragma: no cover - overridden
        """Validate the fusion-specific parameters (subclasses)."""

    def _validate_modalities(self):
        names = self._check_modality_names()
        for name, modality in self.modalities:
            if not isinstance(modality, (ImageModality, TabularModality)):
                raise TypeError(
                    f"Modality {name!r} is a {type(modality).__name__}; expected an "
                    "ImageModality, ImageBagModality or TabularModality instance."
                )
            if isinstance(modality, ImageModality):
                modality.check_params()
            else:
                modality._validate_params()
        clashes = [n for n in names if f"{n}_present" in names]
        if clashes:
            raise ValueError(f"Modality names {clashes} clash with '<name>_present' of others.")
        if any("." in n for n in names):
            raise ValueError(f"Modality names must not contain '.': {names}")
        return names

    def _fitted_modality_columns(self):
        check_is_fitted(self, "modalities_")
        return {name: [modality.column] if isinstance(modality, ImageModality)
                else list(modality.columns_)
                for name, modality in self.modalities_.items()}

    def _input_modalities(self):
        return dict(self.modalities_)

    def _required_columns(self, modalities):
        """Columns X must hold for ``modalities`` (fitted or not)."""
        columns = []
        for modality in modalities.values():
            if isinstance(modality, ImageModality):
                columns.append(modality.column)
            elif hasattr(modality, "columns_"):
                columns.extend(modality.columns_)
            elif modality.columns is not None:
                cols = modality.columns
                columns.extend([cols] if isinstance(cols, (str, numbers.Integral)) else cols)
        return [c for c in columns if c is not None]

    def _check_frame(self, X, reset, modalities):
        if isinstance(X, pd.DataFrame):
            # Missing columns first: a KeyError naming them beats sklearn's
            # generic feature-name mismatch.
            check_column_present(X, self._required_columns(modalities))
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        if (all(isinstance(m, TabularModality) for m in modalities.values())
                and (sparse.issparse(X) or not isinstance(X, (pd.Series, dict, str)))):
            X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
            return as_frame(X)
        raise TypeError(
            f"{type(self).__name__} expects X to be a pandas DataFrame holding the "
            f"modalities' columns, got {type(X).__name__}."
        )

    def _prepare_X(self, X, reset):
        if reset:
            for attr in ("modalities_", "feature_names_in_", "n_features_in_"):
                self.__dict__.pop(attr, None)
            self._validate_modalities()
            self._check_fusion_params()
            check_memory(getattr(self, "memory", None))
            modalities = dict(self.modalities)  # unfitted: fitted by _fit_preprocessing
        else:
            check_is_fitted(self, "modalities_")
            modalities = self.modalities_
        frame = self._check_frame(X, reset, modalities)
        labels = list(frame.index)
        data, missing = {}, {}
        for name, modality in modalities.items():
            if isinstance(modality, ImageModality):  # bags of images too
                cells, _ = modality.cells_from_frame(frame, allow_missing=True)
                data[name] = cells
                missing[name] = modality.missing_mask(cells)
            else:
                missing[name] = modality.missing_rows(frame)
                data[name] = frame
        if len(frame) and missing:
            none = np.logical_and.reduce(list(missing.values()))
            if none.any():
                raise ValueError(
                    f"{int(none.sum())} row(s) have every modality missing "
                    f"({list(missing)}): rows {_rows_text(labels, none)}. Each row needs "
                    "at least one modality."
                )
        return PreparedInput(data, len(frame), labels, missing, fitting=reset)

    def _fit_preprocessing(self, prepared):
        fitted = {}
        for name, modality in self.modalities:
            modality = clone(modality)
            miss = prepared.missing[name]
            if miss.all():
                raise ValueError(f"Modality {name!r} is missing in every training row.")
            if isinstance(modality, TabularModality):
                modality.fit(prepared.data[name], skip_rows=miss)
            fitted[name] = modality
        self.modalities_ = fitted

    def _make_sources(self, prepared, train, raw_images=False):
        sources = self._modality_sources(prepared, train)
        if prepared.fitting or raw_images:
            return sources  # in fit, PrecomputeFrozenEncoders takes over
        module = _unwrap(self.net_.module_)
        names = [name for name, enc in module.encoders.items() if enc.precomputed]
        if not names:
            return sources
        return precompute_sources(
            module, sources, names, check_memory(getattr(self, "memory", None)),
            batch_size=self.batch_size,
            num_workers=getattr(self.net_, "iterator_valid__num_workers", 0),
            precision=getattr(self.net_, "precision", None),
            channels_last=getattr(self.net_, "channels_last", False),
        )

    def _precomputed_modalities(self):
        """Image modalities whose frozen encoder runs once per image (``memory``)."""
        names = []
        for name, modality in self.modalities_.items():
            if not (isinstance(modality, ImageModality) and modality.freeze_backbone):
                continue
            if resolve_augmentation(modality.augment) is not None:
                warnings.warn(
                    f"memory is not used for the image modality {name!r}: its "
                    f"augment={modality.augment!r} changes the images in every "
                    "epoch, so their embeddings cannot be computed once. Set "
                    f"{name}__augment=False to cache them.", UserWarning,
                )
                continue
            names.append(name)
        return names

    def _make_callbacks(self):
        callbacks = super()._make_callbacks()
        store = check_memory(getattr(self, "memory", None))
        if store is None:
            return callbacks
        names = self._precomputed_modalities()
        frozen = [m for m in self.modalities_.values()
                  if isinstance(m, ImageModality) and m.freeze_backbone]
        if not frozen:
            warnings.warn(
                "memory has no effect: no image modality has freeze_backbone=True; "
                "only the outputs of frozen image encoders are cached.",
                UserWarning,
            )
        if not names:
            return callbacks
        precompute = PrecomputeFrozenEncoders(names, store, batch_size=self.batch_size)
        return [("precompute_frozen_encoders", precompute)] + callbacks

    def _modality_sources(self, prepared, train):
        sources = {}
        for name, modality in self.modalities_.items():
            miss = prepared.missing[name]
            if isinstance(modality, ImageBagModality):
                sources[name] = modality.make_source(prepared.data[name], prepared.labels,
                                                     train=train)
            elif isinstance(modality, ImageModality):
                # Placeholders (and presence flags) only where needed: an
                # image_size=None modality without missing images still works.
                sources[name] = modality.make_source(
                    prepared.data[name], prepared.labels, train=train,
                    allow_missing=bool(miss.any()),
                )
            else:
                sources[name] = ArraySource(
                    modality.transform(prepared.data[name], skip_rows=miss), present=~miss
                )
        return sources


    def _modality_specs(self):
        """Modality specifications of the fusion network (see ``nn._fusion``)."""
        specs = []
        for name, modality in self.modalities_.items():
            specs.append({"name": name, **modality.encoder_spec()})
        return specs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags


def check_int(value, name, minimum=1):
    """Raise ValueError unless ``value`` is an int >= ``minimum``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise ValueError(f"{name}={value!r} must be an int >= {minimum}.")


def check_sizes(value, name):
    """Validate a tuple of positive ints (hidden layer sizes); return it as a tuple."""
    try:
        sizes = tuple(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} must be a tuple of positive ints.") from None
    for s in sizes:
        check_int(s, f"every entry of {name}")
    return sizes
