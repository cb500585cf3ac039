"""Callbacks the library's networks train with."""

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler
from torch.utils.data import Subset


def _bn_layers(module):
    """Batch norms that update running statistics when ``module`` trains.

    The module is put in training mode to find them (batch norms of frozen
    encoders stay in evaluation mode there), then back in its former mode.
    """
    was_training = module.training
    module.train()
    bns = [m for m in module.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
           and m.training and m.track_running_stats]
    module.train(was_training)
    return bns


def _bn_after_dropout(module, bns):
    """Whether one of ``bns`` is registered after an active dropout layer.

    Registration order follows the forward pass in sequential blocks (an MLP's
    Linear, BatchNorm, activation, Dropout, Linear, BatchNorm...): such a batch
    norm sees dropout's noise in training but not in evaluation.
    """
    ids = {id(bn) for bn in bns}
    seen_dropout = False
    for m in module.modules():
        if isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0:
            seen_dropout = True
        elif seen_dropout and id(m) in ids:
            return True
    return False


class RecalibrateBatchNorm(Callback):
    """Batch-norm running statistics computed for the final weights.

    Running statistics are exponential averages over the last few batches,
    started from mean 0 and variance 1; when the weights still move quickly
    (small data sets, few epochs) they lag behind the weights, and
    evaluation-mode predictions can collapse to one class while
    training-mode ones are fine. Once training ends, this callback resets
    them and recomputes exact (cumulative) averages with one no-grad pass of
    the final weights (as ``torch.optim.swa_utils.update_bn``), with dropout
    and modality dropout off, over a fixed random share of the training rows:
    a quarter of them by default, but at least two batches. Batch means and
    variances of a quarter of the rows are close to those of all rows, and
    the pass then costs about a twelfth of an epoch instead of a third.
    Batch norms of frozen encoders (kept in evaluation mode by their module)
    are left alone.

    With ``during_last_epoch=True`` the statistics are instead accumulated
    during the last epoch, at no extra cost: when it starts they are reset,
    and its training batches give a cumulative average (``momentum=None``).
    Those batches ran with the weights of the whole epoch, not the final
    ones: on small data sets trained for few epochs, where the weights still
    move a lot within an epoch, evaluation-mode accuracy is then lower than
    with the pass (``benchmarks/results/default_speed.md``). The pass is run
    anyway when the last epoch's statistics do not fit the weights kept or
    may be poor: training of one epoch; training stopped before
    ``max_epochs`` or weights restored from an earlier epoch (``load_best``
    of early stopping: the statistics are checked against those at the end
    of the last epoch); a batch norm after a dropout layer (an MLP with
    several hidden layers and dropout: the statistics would include
    dropout's noise).

    Parameters
    ----------
    max_batches : int or None, default=None
        Pass over at most this many batches of the training rows; None:
        ``share`` of the rows, at least two batches. The rows are a random
        subset (seeded, the same at every fit) when the training set is
        larger.
    share : float in (0, 1], default=0.25
        Share of the training rows of the pass when ``max_batches`` is None;
        1 uses every row.
    during_last_epoch : bool, default=False
        Accumulate the statistics during the last epoch when possible, and
        run the pass only where they do not fit (see above).
    """

    def __init__(self, max_batches=None, share=0.25, during_last_epoch=False):
        self.max_batches = max_batches
        self.share = share
        self.during_last_epoch = during_last_epoch

    def _rows(self, net, X):
        dataset = net.get_dataset(X)
        batch_size = getattr(net, "iterator_valid__batch_size", None) or net.batch_size
        if self.max_batches is not None:
            n_rows = self.max_batches * batch_size
        elif self.share >= 1:
            return dataset
        else:
            n_rows = max(2 * batch_size, int(np.ceil(self.share * len(dataset))))
        if len(dataset) <= n_rows:
            return dataset
        rows = np.random.RandomState(0).choice(len(dataset), n_rows, replace=False)
        return Subset(dataset, np.sort(rows).tolist())

    # -- statistics of the last epoch ------------------------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.collected_ = None  # (epoch, batch norms, their statistics at its end)
        self._collecting = None
        self._last_epoch = len(net.history) + int(net.max_epochs)

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)  # skorch has added this epoch's row
        if (not self.during_last_epoch or epoch != self._last_epoch
                or int(net.max_epochs) < 2):
            return
        module = net.module_
        bns = _bn_layers(module)
        if not bns or _bn_after_dropout(module, bns):
            return
        self._collecting = (epoch, bns, [bn.momentum for bn in bns])
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the epoch's batches

    def on_epoch_end(self, net, **kwargs):
        self._stop_collecting(net, finished=True)

    def _stop_collecting(self, net, finished):
        if self._collecting is None:
            return
        epoch, bns, momenta = self._collecting
        self._collecting = None
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
        if finished and all(int(bn.num_batches_tracked) > 0 for bn in bns):
            self.collected_ = (epoch, bns, [
                (bn.running_mean.clone(), bn.running_var.clone()) for bn in bns])

    def _collected_statistics_in_use(self, net):
        """Whether the module holds the statistics of its last epoch's weights."""
        if self.collected_ is None:
            return False
        epoch, bns, stats = self.collected_
        if len(net.history) != epoch or net.history[-1, "epoch"] != epoch:
            return False
        # load_best (or any restored state) replaces the statistics too
        return all(torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
                   for bn, (mean, var) in zip(bns, stats))

    # -- the extra pass ----------------------------------------------------
    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._stop_collecting(net, finished=False)
        collected = self._collected_statistics_in_use(net)
        self.collected_ = None
        if X is None or collected:
            return
        self.recalibrate(net, X)

    def recalibrate(self, net, X):
        """Recompute the statistics with one no-grad pass over the rows of ``X``."""
        module = net.module_
        bns = _bn_layers(module)
        module.eval()
        if not bns:
            return
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


class FitLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` that lets go of its scheduler when training ends.

    A torch scheduler replaces its optimiser's ``step`` by a wrapper that
    counts the steps; under Accelerate that optimiser is a plain object whose
    wrapped ``step`` cannot be pickled. A new scheduler is made at the start
    of every fit, so when training ends the wrapper and the scheduler are
    dropped and the fitted estimator pickles.
    """

    def on_train_end(self, net, **kwargs):
        self.lr_scheduler_ = None
        for name in getattr(net, "_optimizers", ()):
            optimizer = getattr(net, name + "_", None)
            step = vars(optimizer).get("step") if hasattr(optimizer, "__dict__") else None
            if getattr(step, "_wrapped_by_lr_sched", False):
                del optimizer.step
