"""Can the fusion estimators' defaults learn an interaction between modalities?

The task is ``make_multimodal_classification(interaction=True)``: the label is
the sign of the product of an image latent and a tabular latent, so each
modality alone is at chance and the evidence is not a sum of per-modality
evidence. Each seed draws a data set (600 rows, 16 x 16 images, 40 tabular
columns of which 4 informative, noise 0.1), and the model is scored by 3-fold
stratified cross-validation (held-out and training accuracy per fold). The
image modality is a SimpleCNN on the raw grey images, everything else is the
estimator's defaults unless ``--params`` overrides them. ``--additive`` runs
the generator's default (additive) problem instead, as a check that a change
does not hurt it.

Usage::

    python benchmarks/bench_interactions.py --model intermediate
    python benchmarks/bench_interactions.py --model cross_attention --seeds 0 1 2
    python benchmarks/bench_interactions.py --noise 0.5   # the generator's default
    python benchmarks/bench_interactions.py --model intermediate --label kronecker \\
        --params '{"fusion": "kronecker", "lr": 0.003, "lr_schedule": "warmup_cosine"}'
    python benchmarks/bench_interactions.py --model intermediate --additive

Rows are appended to ``benchmarks/results/interactions.csv`` (``--output``).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import (
    CrossAttentionFusionClassifier,
    IntermediateFusionClassifier,
)
from skmultimodal.modalities import ImageModality, TabularModality

MODELS = {
    "intermediate": IntermediateFusionClassifier,
    "cross_attention": CrossAttentionFusionClassifier,
}
RESULTS = Path(__file__).parent / "results" / "interactions.csv"


def make_task(seed, n_samples, image_size, n_features, additive, noise):
    return make_multimodal_classification(
        n_samples, image_size=image_size, n_features=n_features,
        interaction=not additive, noise=noise, random_state=seed)


def modalities(image_size, n_features):
    return [
        ("img", ImageModality("image", backbone="simple_cnn", image_size=image_size,
                              channels=1)),
        ("tab", TabularModality([f"tab_{i}" for i in range(n_features)])),
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), default="intermediate")
    p.add_argument("--params", default="{}",
                   help="JSON dict of estimator parameters overriding the defaults "
                        "(nested ones too, e.g. tab__dropout)")
    p.add_argument("--label", default="defaults", help="name of the configuration")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-samples", type=int, default=600)
    p.add_argument("--image-size", type=int, default=16)
    p.add_argument("--n-features", type=int, default=40)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--noise", type=float, default=0.1,
                   help="the generator's noise: the best accuracy possible on the "
                        "interaction task is about 0.97 at 0.1, 0.86 at 0.5")
    p.add_argument("--additive", action="store_true",
                   help="the generator's default additive task instead")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    params = json.loads(args.params)
    task = "additive" if args.additive else "interaction"

    rows = []
    for seed in args.seeds:
        X, y = make_task(seed, args.n_samples, args.image_size, args.n_features,
                         args.additive, args.noise)
        cv = StratifiedKFold(args.folds, shuffle=True, random_state=seed)
        for fold, (train, test) in enumerate(cv.split(X, y)):
            est = MODELS[args.model](modalities(args.image_size, args.n_features),
                                     random_state=seed).set_params(**params)
            t0 = time.time()
            est.fit(X.iloc[train], y[train])
            wall = time.time() - t0
            row = dict(task=task, noise=args.noise, model=args.model, label=args.label,
                       params=json.dumps(params, sort_keys=True), seed=seed, fold=fold,
                       test_accuracy=est.score(X.iloc[test], y[test]),
                       train_accuracy=est.score(X.iloc[train], y[train]),
                       epochs=est.n_iter_, fit_s=round(wall, 1))
            rows.append(row)
            print(f"{task} {args.model} [{args.label}] seed {seed} fold {fold}: "
                  f"test {row['test_accuracy']:.3f} train {row['train_accuracy']:.3f} "
                  f"({wall:.0f} s)", flush=True)
    frame = pd.DataFrame(rows)
    acc = frame["test_accuracy"]
    print(f"mean {acc.mean():.3f}, min {acc.min():.3f}, "
          f"folds >= 0.85: {int((acc >= 0.85).sum())}/{len(acc)}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, mode="a", header=not out.exists(), index=False)
    return frame


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
