"""Three regularisers screened for fusion on interaction tasks: two penalties, weight averaging.

On ``make_multimodal_classification(interaction=True)`` (see
``bench_interactions.py``) the fusion defaults fall short of the best possible
accuracy because the table holds 36 pure-noise columns next to the 4
informative ones: with the 4 informative columns alone, the same defaults do
much better (``bench_interactions.py --n-features 4``). This script measures
three candidate remedies, added to the defaults of
``IntermediateFusionClassifier`` (or ``CrossAttentionFusionClassifier``)
through skorch callbacks, so that no library code changes:

- ``l1``: an L1 penalty ``strength * sum |W|`` on the first linear layer of
  every tabular encoder, its gradient ``strength * sign(W)`` added to the
  layer's gradient before each optimiser step (the same as adding the
  penalty to the loss). It favours networks that read few input columns.
- ``group``: a scale-invariant group penalty on the input columns,
  ``strength * sum_j ||W[:, j]|| / ||W||`` (between 1 for a layer reading
  one column and the square root of the number of columns for one reading
  all equally), added in the same way; batch norm after the layer makes
  the layer's scale irrelevant, so only a penalty on its shape can select.
- ``swa``: the weights averaged over the last ``strength`` epochs (stochastic
  weight averaging with the default learning rate), then the batch-norm
  statistics recomputed for the averaged weights by the estimator's usual
  pass.

Tasks (``--tasks``):

- ``interaction``: the task of ``bench_interactions.py`` (600 rows, 16 px
  images, 40 tabular columns, ``--noise``), seeds 0-2, 3 stratified folds
  each, held-out accuracy, and the informative columns' share of the
  squared weights of the tabular first layer (0.1 when the layer does not
  tell the 4 informative columns from the 36 others).
- ``metabric`` (needs the data, ``SKMULTIMODAL_DATA`` or ``--data-home``):
  Luminal vs Basal/Her2 from the clinical columns + 489 genes, the encoders of
  ``bench_fusion_metabric.py``, ``StratifiedKFold(5, shuffle=True,
  random_state=0)``, fold ROC AUC and average precision. A check that a
  remedy for noise columns does not hurt a wide block of weak but real
  features.

A strength of 0 is the estimator's defaults. Usage::

    python benchmarks/bench_fusion_regularisers.py --regulariser l1 --strengths 0 0.01 0.03 0.1
    python benchmarks/bench_fusion_regularisers.py --regulariser l1 --strengths 0.03 --noise 0.5
    python benchmarks/bench_fusion_regularisers.py --regulariser swa --strengths 5 10
    python benchmarks/bench_fusion_regularisers.py --regulariser group --strengths 0.1 0.3 1
    python benchmarks/bench_fusion_regularisers.py --tasks metabric --regulariser l1 \\
        --strengths 0 0.003 0.03

Rows are appended to ``benchmarks/results/fusion_regularisers.csv``
(``--output``).
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bench_interactions import MODELS, make_task, modalities
from bench_modality_dropout import metabric_data
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from skorch.callbacks import Callback

RESULTS = Path(__file__).parent / "results" / "fusion_regularisers.csv"


def _tabular_first_layers(module):
    """The first linear layer of each tabular encoder of a fusion network."""
    return [enc.net[0].weight for enc in module.encoders.values()
            if enc.kind == "tabular" and len(enc.net) > 0]


def l1_penalty(weight):
    """``sum |W|``: its gradient, ``sign(W)``, favours reading few input columns."""
    return weight.abs().sum()


def group_penalty(weight):
    """``sum_j ||W[:, j]|| / ||W||``, the input columns' norms over the layer's."""
    return weight.norm(dim=0).sum() / weight.norm()


PENALTIES = {"l1": l1_penalty, "group": group_penalty}


class TabularPenalty(Callback):
    """Add the gradient of ``strength * penalty(W)`` to each tabular first layer.

    Applied before each optimiser step, the same as adding the penalty to the
    loss.
    """

    def __init__(self, penalty, strength):
        self.penalty = penalty
        self.strength = strength

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=False,
                         **kwargs):
        for weight in _tabular_first_layers(net.module_):
            if weight.grad is None:
                continue
            with torch.enable_grad():
                w = weight.detach().requires_grad_()
                (grad,) = torch.autograd.grad(self.penalty(w), w)
            weight.grad.add_(grad, alpha=self.strength)


def informative_share(est, n_informative=4):
    """Share of the tabular first layer's squared weights on the informative columns."""
    weight = _tabular_first_layers(est.net_.module_)[0].detach()
    return float(weight[:, :n_informative].square().sum() / weight.square().sum())


class WeightAveraging(Callback):
    """Average the parameters over the last ``n_epochs`` epochs, then load the average."""

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs

    def on_train_begin(self, net, **kwargs):
        self.average_, self.count_ = None, 0

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= net.max_epochs - self.n_epochs:
            return
        params = [p.detach() for p in net.module_.parameters()]
        if self.average_ is None:
            self.average_, self.count_ = [p.clone() for p in params], 1
            return
        self.count_ += 1
        for avg, p in zip(self.average_, params):
            avg.add_((p - avg) / self.count_)

    def on_train_end(self, net, **kwargs):
        if self.average_ is None:
            return
        with torch.no_grad():
            for avg, p in zip(self.average_, net.module_.parameters()):
                p.copy_(avg)


def callbacks(regulariser, strength):
    if strength == 0:
        return None
    if regulariser in PENALTIES:
        return [TabularPenalty(PENALTIES[regulariser], strength)]
    return [WeightAveraging(int(strength))]


def interaction_task(args, strength):
    rows = []
    for seed in args.seeds:
        X, y = make_task(seed, 600, 16, 40, False, args.noise)
        cv = StratifiedKFold(3, shuffle=True, random_state=seed)
        for fold, (train, test) in enumerate(cv.split(X, y)):
            est = MODELS[args.model](modalities(16, 40), random_state=seed,
                                     callbacks=callbacks(args.regulariser, strength))
            t0 = time.time()
            est.fit(X.iloc[train], y[train])
            rows.append(dict(task="interaction", noise=args.noise, seed=seed, fold=fold,
                             accuracy=est.score(X.iloc[test], y[test]),
                             train_accuracy=est.score(X.iloc[train], y[train]),
                             informative_share=informative_share(est),
                             fit_s=round(time.time() - t0, 1)))
            print(f"interaction noise {args.noise} {args.regulariser} {strength} seed "
                  f"{seed} fold {fold}: accuracy {rows[-1]['accuracy']:.3f}, informative share "
                  f"{rows[-1]['informative_share']:.2f}", flush=True)
    return rows


def metabric_task(args, strength):
    X, y, modalities = metabric_data(args.data_home)
    rows = []
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        est = MODELS[args.model](modalities(), embed_dim=64, random_state=0,
                                 callbacks=callbacks(args.regulariser, strength))
        t0 = time.time()
        est.fit(X.iloc[train], y[train])
        proba = est.predict_proba(X.iloc[test])[:, 1]
        rows.append(dict(task="metabric", seed=0, fold=fold,
                         roc_auc=roc_auc_score(y[test], proba),
                         average_precision=average_precision_score(y[test], proba),
                         fit_s=round(time.time() - t0, 1)))
        print(f"metabric {args.regulariser} {strength} fold {fold}: ROC AUC "
              f"{rows[-1]['roc_auc']:.4f} AP {rows[-1]['average_precision']:.4f}", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", default=["interaction"],
                   choices=["interaction", "metabric"])
    p.add_argument("--model", choices=sorted(MODELS), default="intermediate")
    p.add_argument("--regulariser", choices=["l1", "group", "swa"], default="l1")
    p.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.03],
                   help="L1 strengths, or numbers of epochs averaged; 0 = the defaults")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--data-home", default=None)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    rows = []
    for strength in args.strengths:
        new = []
        if "interaction" in args.tasks:
            new += interaction_task(args, strength)
        if "metabric" in args.tasks:
            new += metabric_task(args, strength)
        rows += [dict(r, model=args.model, regulariser=args.regulariser,
                      strength=strength) for r in new]
    frame = pd.DataFrame(rows)
    metrics = [m for m in ("accuracy", "roc_auc", "average_precision") if m in frame]
    print(frame.groupby(["task", "regulariser", "strength"])[metrics]
          .agg(["mean", "std", "min"]).round(4))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # the tasks have different columns: align them
        frame = pd.concat([pd.read_csv(out), frame], ignore_index=True)
    frame.to_csv(out, index=False)
    return frame


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
