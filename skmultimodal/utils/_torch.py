"""Small torch helpers shared by the estimators: devices, seeding, optimisers."""

import contextlib
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def resolve_device(device):
    """Map "auto" to "cuda" when a GPU is present, else "cpu"; validate others."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available.")
    return str(dev)


def loadable_device(device):
    """Device to use for a model loaded from disk: CUDA falls back to the CPU.

    A model trained on a GPU and loaded on a machine without one predicts on
    the CPU (with a warning) instead of failing.
    """
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"The model was fitted on {device!r} but CUDA is not available here; "
            "using the CPU instead.",
            UserWarning,
        )
        return "cpu"
    return device


def resolve_seed(random_state):
    """Return an int seed drawn from ``random_state`` (int, RandomState or None)."""
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def torch_seed(seed, device="cpu"):
    """Seed torch inside the block and restore the global RNG state after it."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def resolve_optimizer(optimizer):
    """Map an optimiser name ("adam", "adamw", "sgd") or class to a class."""
    if isinstance(optimizer, str):
        try:
            return _OPTIMIZERS[optimizer.lower()]
        except KeyError:
            raise ValueError(
                f"optimizer={optimizer!r} is not supported; use one of "
                f"{sorted(_OPTIMIZERS)} or a torch.optim.Optimizer subclass."
            ) from None
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise ValueError(
        f"optimizer={optimizer!r} must be a name ({sorted(_OPTIMIZERS)}) or a "
        "torch.optim.Optimizer subclass."
    )


def to_numpy(tensor):
    """Detach a tensor to a numpy array on the CPU."""
    return tensor.detach().cpu().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
