"""skorch classifiers with mixed precision, channels_last and Accelerate support."""

from collections.abc import Mapping

import torch
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

from ..data._dataset import SAMPLE_WEIGHT_KEY
from ..utils._torch import autocast, loadable_device


def to_channels_last(x):
    """Put the 4-D tensors of ``x`` (a tensor, dict, list or tuple) in channels_last."""
    if isinstance(x, torch.Tensor):
        return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x
    if isinstance(x, Mapping):
        return {k: to_channels_last(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_channels_last(v) for v in x)
    return x


def to_float32(y):
    """Cast the floating tensors of a module output (tensor or tuple) to float32."""
    if isinstance(y, torch.Tensor):
        return y.float() if y.is_floating_point() else y
    if isinstance(y, (list, tuple)):
        return type(y)(to_float32(v) for v in y)
    return y


class NetClassifier(NeuralNetClassifier):
    """``NeuralNetClassifier`` with automatic mixed precision and channels_last.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNetClassifier`.
    precision : {None, "bf16", "fp16"}, default=None
        Run the forward passes (training, validation, prediction) under
        :class:`torch.autocast` with this dtype. The module outputs are cast
        back to float32, so the loss and the predicted probabilities are
        float32. "fp16" scales the loss with :class:`torch.amp.GradScaler`;
        the gradients are unscaled before ``on_grad_computed`` (gradient
        clipping callbacks see the true gradients).
    channels_last : bool, default=False
        Convert the module and every 4-D input tensor to the
        ``torch.channels_last`` memory format (faster convolutions on recent
        GPUs, above all with mixed precision).

    Attributes
    ----------
    grad_scaler_ : torch.amp.GradScaler or None
        The gradient scaler with ``precision="fp16"``, else None.
    """

    def __init__(self, *args, precision=None, channels_last=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.precision = precision
        self.channels_last = channels_last

    # -- initialisation --------------------------------------------------
    def initialize_module(self):
        """Initialise the module, in channels_last format if asked."""
        super().initialize_module()
        if self.channels_last:
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        """Initialise the optimiser, and the gradient scaler for fp16."""
        super().initialize_optimizer(*args, **kwargs)
        self.grad_scaler_ = (
            torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        )
        return self

    # -- steps -----------------------------------------------------------
    def _autocast(self):
        return autocast(self.precision, torch.device(self.device or "cpu").type)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The loss, weighted by the batch's sample weights when it has them.

        With sample weights the criterion is built with ``reduction="none"``
        and the per-row losses (already multiplied by their class weights)
        are averaged with the sample weights:
        ``sum(sw_i * cw_i * l_i) / sum(sw_i * cw_i)``, which is PyTorch's
        class-weighted mean when every sample weight is the same.
        """
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if loss.ndim == 0:
            return loss
        weight = X.get(SAMPLE_WEIGHT_KEY) if isinstance(X, Mapping) else None
        weight = torch.ones_like(loss) if weight is None else weight.to(loss)
        # the criterion has already multiplied each loss by its class weight
        norm = weight
        class_weight = getattr(self.criterion_, "weight", None)
        if class_weight is not None:
            target = to_tensor(y_true, device=loss.device).long()
            norm = weight * class_weight.to(loss)[target]
        total = norm.sum()
        return (weight * loss).sum() / torch.where(total > 0, total, torch.ones_like(total))

    def infer(self, x, **fit_params):
        """Forward pass, under autocast with ``precision``; outputs in float32."""
        if isinstance(x, Mapping) and SAMPLE_WEIGHT_KEY in x:
            x = {k: v for k, v in x.items() if k != SAMPLE_WEIGHT_KEY}
        if self.channels_last:
            x = to_channels_last(to_tensor(x, device=self.device))
        if self.precision is None:
            return super().infer(x, **fit_params)
        with self._autocast():
            y = super().infer(x, **fit_params)
        return to_float32(y)

    def _scaling(self):
        return getattr(self, "grad_scaler_", None) is not None

    def train_step_single(self, batch, **fit_params):
        """Training forward and backward pass; the fp16 loss is scaled."""
        if not self._scaling():
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        for name in self._optimizers:
            self.grad_scaler_.unscale_(getattr(self, name + "_"))
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        if not self._scaling():
            return super()._step_optimizer(step_fn)
        # GradScaler.step takes no closure: compute the gradients, then step.
        step_fn()
        for name in self._optimizers:
            self.grad_scaler_.step(getattr(self, name + "_"))
        self.grad_scaler_.update()
        return None


class AcceleratedNetClassifier(AccelerateMixin, NetClassifier):
    """:class:`NetClassifier` trained through an ``accelerate.Accelerator``.

    The accelerator places the module and the batches (``device=None``),
    handles mixed precision (its ``mixed_precision``) and distributed data
    parallel training under ``accelerate launch``. The modules are unwrapped
    after training, so the fitted net pickles; a loaded net predicts on the
    accelerator's device (the CPU where that device is not available).
    """

    def __setstate__(self, state):
        if state.get("device") is None:
            # skorch needs a device to load the modules on
            device = str(getattr(state.get("accelerator"), "device", "cpu"))
            state["device"] = loadable_device(device)
        super().__setstate__(state)
