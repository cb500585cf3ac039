"""Resolving and loading backbone weights: torchvision names, state-dict files, or a
fitted pretrainer (any object with a ``pretrained_state_dict()`` method)."""
import math
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torchvision.models import WeightsEnum

from ._attention import CBAM, ECA

__all__ = ["resolve_weights", "load_state_dict_file", "load_weights", "weights_stem"]

#: Architectures with torchvision pretrained weights.
_TORCHVISION_ARCHS = ("resnet18", "resnet50")
#: Keys under which checkpoints commonly wrap the state dict.
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
#: Common key prefixes stripped from every key (DataParallel, wrappers).
_PREFIXES = ("module.", "backbone.")
#: A torchvision weights name: "IMAGENET1K_V1" or "ResNet18_Weights.IMAGENET1K_V1".
_NAME_RE = re.compile(r"^(\w+_Weights\.)?\w+$")
#: How many keys an error message lists.
_SHOW = 5
#: The reason inside torch's message for a file that weights_only=True refuses.
_UNPICKLER_REASON = re.compile(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|$)", re.DOTALL)


def _weights_enum(arch):
    if arch not in _TORCHVISION_ARCHS:
        raise ValueError(
            f"no pretrained weights exist for {arch!r}; pass weights=None or a path "
            "to a state-dict file saved with torch.save(model.state_dict())"
        )
    return torchvision.models.get_model_weights(arch)


def _available(enum):
    return ", ".join(enum.__members__)


def _is_pretrainer(weights):
    """Whether ``weights`` is a pretrainer: an object handing over a state dict."""
    return not isinstance(weights, (str, os.PathLike, Mapping, WeightsEnum)) and callable(
        getattr(weights, "pretrained_state_dict", None))


def _pretrained(weights):
    """The state dict a pretrainer hands over, and how messages name it."""
    source = f"the fitted {type(weights).__name__}"
    state_dict = weights.pretrained_state_dict()  # unfitted: its own NotFittedError
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"{type(weights).__name__}.pretrained_state_dict() returned a "
            f"{type(state_dict).__name__}; weights= needs a state dict (a mapping of "
            "names to tensors)"
        )
    return state_dict, source


def resolve_weights(weights, *, arch):
    """Resolve a ``weights`` argument into what to load.

    Parameters
    ----------
    weights : None, str, os.PathLike, torchvision WeightsEnum, dict or pretrainer
        - ``None``: random initialisation.
        - a torchvision weights name for ``arch``: ``"IMAGENET1K_V1"``,
          ``"IMAGENET1K_V2"``, ``"DEFAULT"`` (case-insensitive), or
          ``"ResNet18_Weights.IMAGENET1K_V1"``;
        - a member of the architecture's torchvision ``WeightsEnum``
          (e.g. ``ResNet18_Weights.IMAGENET1K_V1``);
        - a path to a file saved with ``torch.save(state_dict)``. A string is
          taken as a path when it names an existing file or does not look like
          a weights name (it holds a path separator or a file suffix);
        - a state dict (a mapping of names to tensors);
        - a fitted pretrainer: any object with a ``pretrained_state_dict()``
          method returning a state dict, such as a fitted
          :class:`skmultimodal.ContrastivePretrainer`.
    arch : str
        Architecture name, e.g. ``"resnet18"`` or ``"simple_cnn"``.

    Returns
    -------
    resolved : None, WeightsEnum, pathlib.Path or dict
        ``None``, the torchvision weights member, the path, or the mapping
        (a pretrainer's state dict).

    Raises
    ------
    ValueError
        If a name or member does not belong to ``arch`` (the message lists the
        available names), or ``arch`` has no pretrained weights.
    sklearn.exceptions.NotFittedError
        If a pretrainer is not fitted (raised by the pretrainer).
    FileNotFoundError
        If a path does not name an existing file.
    TypeError
        If ``weights`` is of none of the accepted types.
    """
    if weights is None or isinstance(weights, Mapping):
        return weights
    if _is_pretrainer(weights):
        return _pretrained(weights)[0]
    if isinstance(weights, WeightsEnum):
        enum = _weights_enum(arch)
        if not isinstance(weights, enum):
            raise ValueError(
                f"{weights!r} are weights for another architecture; {arch!r} accepts "
                f"{enum.__name__}: {_available(enum)}"
            )
        return weights
    if isinstance(weights, str) and not os.path.isfile(weights) and _NAME_RE.match(weights):
        enum = _weights_enum(arch)
        prefix, _, name = weights.rpartition(".")
        member = enum.__members__.get(name.upper())
        if member is None or (prefix and prefix != enum.__name__):
            raise ValueError(
                f"unknown weights {weights!r} for {arch!r}; available torchvision weights "
                f"are {_available(enum)} (or pass a path to an existing state-dict file)"
            )
        return member
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights file not found: {str(path)!r}")
        return path
    raise TypeError(
        "weights must be None, a torchvision weights name or member, a path to a "
        f"state-dict file, a state dict, or a fitted pretrainer (an object with a "
        f"pretrained_state_dict() method); got {type(weights).__name__}"
    )


def _hub_file(weights):
    """Path where torch hub caches (and looks for) the file of ``weights``."""
    filename = os.path.basename(urlparse(weights.url).path)
    return os.path.join(torch.hub.get_dir(), "checkpoints", filename)


def _load_hub(weights):
    """State dict of torchvision ``weights``, from the hub cache or the web."""
    try:
        return weights.get_state_dict(progress=False, check_hash=False, weights_only=True)
    except OSError as err:  # URLError, HTTPError, timeouts, unwritable cache
        raise RuntimeError(
            f"could not download the torchvision weights {weights!r} from {weights.url} "
            f"({err}). Without internet access, place that file at {_hub_file(weights)!r} "
            "(the torch hub cache, set by TORCH_HOME), or pass weights= a path to a local "
            "state-dict file instead."
        ) from err


def _check_finite(state_dict, source):
    """Refuse a state dict holding NaN or infinite values."""
    bad = [
        key for key, value in state_dict.items()
        if (value.is_floating_point() or value.is_complex())
        and not bool(torch.isfinite(value).all())
    ]
    if bad:
        more = f" ... ({len(bad)} in all)" if len(bad) > _SHOW else ""
        raise ValueError(
            f"{source} holds NaN or infinite values in {bad[:_SHOW]}{more}: the weights "
            "are corrupt or come from a diverged training run; save them again from a "
            "model whose parameters are finite"
        )


def _read_problem(path, err):
    """What an exception of ``torch.load`` says about the file ``path``."""
    if path.stat().st_size == 0:
        return "is empty (0 bytes)"
    if isinstance(err, pickle.UnpicklingError):
        # torch wraps the unpickler's reason in paragraphs of advice
        reason = _UNPICKLER_REASON.search(str(err))
        reason = reason.group(1) if reason else str(err).strip().splitlines()[0]
        return (
            "is not a state dict that torch.load can read with weights_only=True "
            f"({reason.split('. ')[0]})"
        )
    return (
        "is truncated or corrupt, or not a file saved with torch.save "
        f"({type(err).__name__}: {err or 'no further detail'})"
    )


def _unwrap(obj, source, check_finite=True):
    if not isinstance(obj, Mapping):
        raise ValueError(
            f"{source} does not hold a state dict but a {type(obj).__name__}; save one with "
            "torch.save(model.state_dict(), path)"
        )
    for key in _WRAPPER_KEYS:
        if isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    state_dict = dict(obj)
    bad = [k for k, v in state_dict.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise ValueError(
            f"{source} is not a state dict: entries {bad[:_SHOW]} are not tensors keyed by name"
        )
    if check_finite:
        _check_finite(state_dict, source)
    stripped = True
    while stripped and state_dict:
        stripped = False
        for prefix in _PREFIXES:
            if all(k.startswith(prefix) for k in state_dict):
                state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
                stripped = True
    return state_dict


def load_state_dict_file(path):
    """Read a state dict from a file saved with ``torch.save``.

    The file is read with ``torch.load(path, map_location="cpu",
    weights_only=True)``. A checkpoint wrapping the state dict under
    ``"state_dict"``, ``"model_state_dict"`` or ``"model"`` is unwrapped, and a
    prefix ``"module."`` or ``"backbone."`` shared by all keys is stripped.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    state_dict : dict of str to torch.Tensor

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty or truncated, cannot be read with
        ``weights_only=True`` (for example a whole pickled module), does not
        hold a state dict, or holds NaN or infinite values; the message names
        the file (and the first offending keys).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {str(path)!r}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (
        EOFError,
        RuntimeError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
    ) as err:
        if isinstance(err, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(
            f"weights file {str(path)!r} {_read_problem(path, err)}; copy the file "
            "again, or save weights with torch.save(model.state_dict(), path)"
        ) from err
    return _unwrap(obj, repr(str(path)))


def _peek_state_dict(path):
    """The state dict of a file, memory-mapped: its tensors' data are not read.

    Enough to look at shapes (the stem of a ResNet's weights) without reading
    the whole file, which the loading reads once more. None when the file
    cannot be read this way (an older format, or any problem):
    :func:`load_state_dict_file` then reads it and names the problem.
    """
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return _unwrap(obj, repr(str(path)), check_finite=False)
    except Exception:  # noqa: BLE001 - the full reader says what is wrong
        return None


def adapt_input_conv(in_channels, weight):
    """Adapt a 3-channel first-convolution weight to ``in_channels`` channels.

    As timm's ``adapt_input_conv``: for one channel the RGB weights are summed;
    otherwise they are repeated to ``in_channels`` and scaled by
    ``3 / in_channels``.

    Parameters
    ----------
    in_channels : int
        Wanted number of input channels.
    weight : torch.Tensor of shape (out, 3, kh, kw)
        Pretrained weight.

    Returns
    -------
    torch.Tensor of shape (out, in_channels, kh, kw)
    """
    dtype = weight.dtype
    weight = weight.float()
    if in_channels == 1:
        weight = weight.sum(dim=1, keepdim=True)
    elif in_channels != 3:
        repeat = math.ceil(in_channels / 3)
        weight = weight.repeat(1, repeat, 1, 1)[:, :in_channels] * (3 / in_channels)
    return weight.to(dtype)


def _attention_keys(model):
    keys = set()
    for name, module in model.named_modules():
        if isinstance(module, (ECA, CBAM)):
            keys.update(f"{name}.{k}" for k in module.state_dict())
    return keys


def _describe(keys):
    keys = sorted(keys)
    more = f" ... ({len(keys)} in all)" if len(keys) > _SHOW else ""
    return f"{keys[:_SHOW]}{more}"


def _load_into(model, state_dict, source):
    own = model.state_dict()
    sd = {k: v for k, v in state_dict.items()
          if not any(k.startswith(p) for p in getattr(model, "ignored_prefixes", ()))}
    conv_key = f"{getattr(model, 'first_conv', '')}.weight"
    if conv_key in sd and conv_key in own:
        src, dst = sd[conv_key], own[conv_key]
        if src.dim() == 4 and src.shape[1] == 3 and src.shape[1] != dst.shape[1] \
                and src.shape[0] == dst.shape[0] and src.shape[2:] == dst.shape[2:]:
            sd[conv_key] = adapt_input_conv(dst.shape[1], src)
    attn_keys = _attention_keys(model)
    allowed = {k for k in own if k.endswith("num_batches_tracked")}
    if not attn_keys & sd.keys():  # a plain (attention-free) state dict
        allowed |= attn_keys
    missing = own.keys() - sd.keys() - allowed
    unexpected = sd.keys() - own.keys()
    mismatched = {k for k in sd.keys() & own.keys() if sd[k].shape != own[k].shape}
    if missing or unexpected or mismatched:
        if conv_key in mismatched and sd[conv_key].dim() == 4 \
                and sd[conv_key].shape[2:] != own[conv_key].shape[2:]:
            raise ValueError(
                f"weights from {source} have a {_kernel(sd[conv_key])} first convolution "
                f"(stem {_stem_of(sd[conv_key])!r}) but {type(model).__name__} has a "
                f"{_kernel(own[conv_key])} one (stem {getattr(model, 'stem', None)!r}); "
                f"build it with stem={_stem_of(sd[conv_key])!r} (backbone_params="
                f"{{'stem': {_stem_of(sd[conv_key])!r}}})"
            )
        if conv_key in mismatched and sd[conv_key].dim() == 4 \
                and sd[conv_key].shape[1] != own[conv_key].shape[1]:
            raise ValueError(
                f"weights from {source} take {sd[conv_key].shape[1]} input channel(s) but "
                f"{type(model).__name__} takes {own[conv_key].shape[1]}; build it with "
                f"channels={sd[conv_key].shape[1]} (the channels the weights were "
                "trained on)"
            )
        parts = []
        if missing:
            parts.append(f"missing keys {_describe(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_describe(unexpected)}")
        if mismatched:
            parts.append(f"keys with other shapes {_describe(mismatched)}")
        hint = ""
        if source.startswith("the fitted "):
            hint = (f"; build the model with the backbone, attention, channels and "
                    f"backbone_params that {source.split()[-1]} was fitted with")
        raise ValueError(
            f"weights from {source} do not fit {type(model).__name__} "
            f"(arch={getattr(model, 'arch', None)!r}, "
            f"attention={getattr(model, 'attention', None)!r}): " + "; ".join(parts) + hint
        )
    for key in own.keys() - sd.keys():  # allowed gaps keep their current values
        sd[key] = own[key]
    model.load_state_dict(sd, strict=True)


def _kernel(weight):
    return "x".join(str(int(k)) for k in weight.shape[2:])


def _stem_of(weight):
    return "small" if tuple(weight.shape[2:]) == (3, 3) else "imagenet"


def weights_stem(weights, *, arch):
    """The ResNet stem that ``weights`` were trained with.

    Parameters
    ----------
    weights : None, str, os.PathLike, torchvision WeightsEnum, dict or pretrainer
        As :func:`resolve_weights` accepts them.
    arch : str
        Architecture name.

    Returns
    -------
    stem : {"imagenet", "small"} or None
        "imagenet" for torchvision weights and state dicts whose ``conv1`` is
        7x7, "small" for a 3x3 ``conv1``, None without weights or when the
        state dict has no ``conv1.weight``.
    """
    if _is_pretrainer(weights):
        state_dict = _unwrap(*_pretrained(weights))
        weight = state_dict.get("conv1.weight")
        return None if weight is None or weight.dim() != 4 else _stem_of(weight)
    resolved = resolve_weights(weights, arch=arch)
    if resolved is None:
        return None
    if isinstance(resolved, WeightsEnum):
        return "imagenet"
    if isinstance(resolved, Path):
        state_dict = _peek_state_dict(resolved)
        if state_dict is None:
            state_dict = load_state_dict_file(resolved)
    else:
        state_dict = _unwrap(resolved, "the given state dict")
    weight = state_dict.get("conv1.weight")
    if weight is None or weight.dim() != 4:
        return None
    return _stem_of(weight)


def load_weights(model, weights):
    """Load ``weights`` into a backbone in place.

    Parameters
    ----------
    model : torch.nn.Module
        A backbone with an ``arch`` attribute (e.g. ``ResNetBackbone`` or
        ``SimpleCNN``).
    weights : None, str, os.PathLike, torchvision WeightsEnum, dict or pretrainer
        ``None`` (nothing is loaded); a torchvision weights name for the
        model's ``arch`` (``"IMAGENET1K_V1"``, ``"DEFAULT"``, ...,
        case-insensitive) or a member of its ``WeightsEnum``; a path to a
        file saved with ``torch.save(state_dict)``; a state dict; or a fitted
        :class:`~skmultimodal.ContrastivePretrainer`, which hands over its
        encoder. A torchvision ResNet state dict loads
        without its ``fc.*`` keys; into an attention variant, the attention
        parameters then keep their initialisation. A 3-channel first
        convolution is adapted to the model's input channels (summed for one
        channel, repeated and scaled otherwise, as timm does).

    Returns
    -------
    model : torch.nn.Module
        The same model.

    Raises
    ------
    ValueError
        If the weights are unknown for the architecture, keys are missing,
        unexpected or of other shapes (the message names some), the file is
        empty, truncated or not a state dict, or a tensor holds NaN or
        infinite values.
    sklearn.exceptions.NotFittedError
        If a pretrainer is not fitted.
    FileNotFoundError
        If a path does not name an existing file.
    RuntimeError
        If torchvision weights are neither cached nor downloadable; the message
        gives the URL and the cache path where the file can be placed.
    """
    if _is_pretrainer(weights):
        state_dict, source = _pretrained(weights)
        with torch.no_grad():
            _load_into(model, _unwrap(state_dict, source), source)
        return model
    resolved = resolve_weights(weights, arch=model.arch)
    if resolved is None:
        return model
    if isinstance(resolved, WeightsEnum):
        state_dict, source = _unwrap(_load_hub(resolved), repr(resolved)), repr(resolved)
    elif isinstance(resolved, Path):
        state_dict, source = load_state_dict_file(resolved), repr(str(resolved))
    else:
        state_dict, source = _unwrap(resolved, "the given state dict"), "the given state dict"
    with torch.no_grad():
        _load_into(model, state_dict, source)
    return model
