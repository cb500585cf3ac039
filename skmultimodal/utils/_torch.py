"""Small torch helpers shared by the estimators: devices, seeding, optimisers,
DataLoader workers and the training-speed options."""

import contextlib
import functools
import numbers
import os
import threading
import warnings

import numpy as np
import torch
from joblib import parallel_config
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


#: Held by the fit running in this process: torch's random generator is global.
_SEED_LOCK = threading.RLock()


@contextlib.contextmanager
def torch_seed(seed, device="cpu"):
    """Seed torch inside the block and restore the global RNG state after it.

    torch's random generator (weight initialisation, dropout, augmentation)
    is global to the process, so two seeded blocks running in threads of one
    process would draw from each other's sequence. The blocks therefore run
    one at a time (a re-entrant lock: a fit may fit other estimators inside
    it); a thread that has to wait is told once. Processes (joblib's default
    loky backend, Dask workers) run in parallel as before.

    joblib calls inside the block (a ``ColumnTransformer`` fitting its
    columns, say) run sequentially, in this thread: the block never waits on
    tasks that other threads would have to run, which could be waiting on
    this lock (a Dask worker thread that secedes, for instance).
    """
    if not _SEED_LOCK.acquire(blocking=False):
        _warn_threads_once()
        _SEED_LOCK.acquire()
    try:
        devices = []
        if str(device).startswith("cuda") and torch.cuda.is_available():
            devices = [torch.device(device).index or 0]
        with torch.random.fork_rng(devices=devices), parallel_config(backend="sequential"):
            torch.manual_seed(seed)
            yield
    finally:
        _SEED_LOCK.release()


@functools.cache
def _warn_threads_once():
    warnings.warn(
        "Another fit is running in a thread of this process. torch's random "
        "generator is global to the process, so fits in threads (e.g. joblib's "
        "threading backend) run one after the other to stay reproducible. For "
        "parallel fits use processes: joblib's default 'loky' backend or Dask.",
        UserWarning, stacklevel=4,
    )


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


PRECISIONS = (None, "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_MAX_AUTO_WORKERS = 8


def resolve_num_workers(num_workers, device):
    """Number of DataLoader worker processes for ``num_workers`` on ``device``.

    ``"auto"`` gives 0 on the CPU (worker processes do not pay for small CPU
    jobs, whose cores already compute) and ``min(8, os.cpu_count())`` on a
    GPU; an int >= 0 is used as is.
    """
    if isinstance(num_workers, str) and num_workers == "auto":
        if str(device).startswith("cuda"):
            return min(_MAX_AUTO_WORKERS, os.cpu_count() or 1)
        return 0
    if (isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral)
            or num_workers < 0):
        raise ValueError(f"num_workers={num_workers!r} must be 'auto' or an int >= 0.")
    return int(num_workers)


def check_precision(precision, device=None):
    """Validate ``precision`` (None, "bf16" or "fp16"), for ``device`` if given.

    "fp16" needs CUDA (it trains with a gradient scaler); "bf16" runs on the
    CPU and on GPUs that support it. Returns the autocast dtype or None.
    """
    if precision is None:
        return None
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r} is not supported; use None, 'bf16' or 'fp16'."
        )
    if device is None:
        return _AUTOCAST_DTYPES[precision]
    cuda = str(device).startswith("cuda")
    if precision == "fp16":
        if not cuda:
            raise ValueError(
                f"precision='fp16' needs a CUDA device, but the device is {device!r}; "
                "use precision='bf16' on the CPU."
            )
        return torch.float16
    if cuda and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"precision='bf16' is not supported by the GPU of device {device!r}; "
            "use precision='fp16'."
        )
    return torch.bfloat16


def autocast(precision, device_type):
    """``torch.autocast`` context for ``precision`` on ``device_type`` (no-op for None)."""
    if precision is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, dtype=check_precision(precision))


def compile_kwargs(compile):
    """Map the ``compile`` parameter (bool or dict) to skorch's arguments.

    Returns a dict with skorch's ``compile`` flag and its ``compile__<arg>``
    arguments of :func:`torch.compile`.
    """
    if isinstance(compile, (bool, np.bool_)):
        return {"compile": bool(compile)}
    if isinstance(compile, dict):
        bad = [k for k in compile if not isinstance(k, str) or not k]
        if bad:
            raise ValueError(
                f"compile={compile!r} must map torch.compile argument names (str) to "
                f"values; bad keys: {bad}."
            )
        if not hasattr(torch, "compile"):  # pragma: no cover - torch < 2
            raise ValueError("compile needs torch >= 2.0 (torch.compile).")
        return {"compile": True, **{f"compile__{k}": v for k, v in compile.items()}}
    raise ValueError(
        f"compile={compile!r} must be a bool or a dict of torch.compile keyword "
        "arguments, e.g. {'mode': 'max-autotune'}."
    )


def check_accelerator(accelerator, device, precision):
    """Validate the ``accelerator`` parameter against ``device`` and ``precision``.

    An ``accelerate.Accelerator`` places the model and the batches itself and
    owns mixed precision (its ``mixed_precision`` argument), so ``device``
    must be left at "auto" (or None) and ``precision`` at None.
    """
    if accelerator is None:
        return None
    if not all(hasattr(accelerator, a) for a in ("prepare", "autocast", "device")):
        raise ValueError(
            f"accelerator={accelerator!r} must be None or an accelerate.Accelerator."
        )
    if device not in (None, "auto"):
        raise ValueError(
            f"device={device!r} cannot be combined with an accelerator, which places "
            "the model itself; leave device='auto'."
        )
    if precision is not None:
        raise ValueError(
            f"precision={precision!r} cannot be combined with an accelerator; set "
            f"mixed precision on it instead: Accelerator(mixed_precision={precision!r})."
        )
    return accelerator


@contextlib.contextmanager
def eval_mode(module):
    """Evaluation mode inside the block, the module's former mode after it.

    Batch norms use their running statistics and dropout is off; a module
    that was training trains again after the block, also after an error.
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
