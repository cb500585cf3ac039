"""Callbacks the library's networks train with."""

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.data import Subset


class RecalibrateBatchNorm(Callback):
    """Recompute batch-norm running statistics once training ends.

    Running statistics are exponential averages over the last few batches;
    when the weights still move quickly (small data sets, few epochs) they
    lag behind the weights, and evaluation-mode predictions can collapse to
    one class while training-mode ones are fine. This callback resets them
    and recomputes exact averages over the training set with the final
    weights (as ``torch.optim.swa_utils.update_bn``), with dropout and
    modality dropout off. Batch norms of frozen encoders (kept in evaluation
    mode by their module) are left alone.

    Parameters
    ----------
    max_batches : int or None, default=None
        Use at most this many batches: a random subset of the training rows
        (seeded, the same at every fit) when the training set is larger;
        None uses every row.
    """

    def __init__(self, max_batches=None):
        self.max_batches = max_batches

    def _rows(self, net, X):
        dataset = net.get_dataset(X)
        if self.max_batches is None:
            return dataset
        batch_size = getattr(net, "iterator_valid__batch_size", None) or net.batch_size
        n_rows = self.max_batches * batch_size
        if len(dataset) <= n_rows:
            return dataset
        rows = np.random.RandomState(0).choice(len(dataset), n_rows, replace=False)
        return Subset(dataset, np.sort(rows).tolist())

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if X is None:
            return
        module = net.module_
        module.train()
        bns = [m for m in module.modules()
               if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
               and m.training and m.track_running_stats]
        if not bns:
            module.eval()
            return
        module.eval()
        saved = [bn.momentum for bn in bns]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average
            bn.train()
        try:
            with torch.no_grad():
                for Xi, _ in net.get_iterator(self._rows(net, X), training=False):
                    first = next(iter(Xi.values())) if isinstance(Xi, dict) else Xi
                    if len(first) > 1:
                        net.infer(Xi)
        finally:
            for bn, momentum in zip(bns, saved):
                bn.momentum = momentum
            module.eval()


class StopOnNonFiniteLoss(Callback):
    """Stop training with a clear error once a batch's loss is NaN or infinite.

    A non-finite loss poisons the weights at the next optimiser step; every
    later prediction would be NaN. The error names the epoch, the batch and
    the likely causes.
    """

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is None or bool(torch.isfinite(loss).all()):
            return
        epoch = len(net.history)
        batches = net.history[-1].get("batches", []) if epoch else []
        phase = "training" if training else "validation"
        raise FloatingPointError(
            f"The {phase} loss became {float(loss.detach().float().mean())} at "
            f"epoch {epoch}, batch {len(batches)}. Likely causes: a learning rate "
            f"too high for this network (lr={net.lr}), input values far outside the "
            "range seen so far (check the images' intensity_range and the tables' "
            "scaling), an fp16 overflow (precision='fp16': try 'bf16' or None), "
            "or pretrained weights that are not finite. Training was stopped."
        )
