"""Does a finer token grid help cross-attention fusion and its maps?

Task: ``make_multimodal_classification`` (additive, two classes, 32 x 32 grey
images whose class signal sits in two known blobs, ``signal_mask``; 10
tabular columns), 3-fold stratified cross-validation per seed. Model:
``CrossAttentionFusionClassifier`` with a ResNet-18 image modality at 32 px
and otherwise default parameters, except the number of epochs. Rows differ
only in the ResNet's stem and output stride, that is in the grid of image
tokens:

- ``torchvision stem`` (``{"stem": "imagenet"}``): 1x1 grid at 32 px;
- ``torchvision stem, output_stride=8``: the same weights, ``layer3`` and
  ``layer4`` dilated, 4x4 grid;
- ``small stem`` (the default at <= 64 px: 3x3 convolution of stride 1, no
  max-pooling): 4x4 grid;
- ``small stem, output_stride=4``: 8x8 grid.

For every held-out row the benchmark records the cross-attention map and the
Grad-CAM map (both upsampled to the image) and reports the share of the map's
mass inside the signal blobs divided by the blobs' share of the image area
(1.0: no better than a uniform map), the largest token weight against the
uniform ``1 / n_tokens``, the held-out accuracy and ROC AUC, and fit time.

Run from the repository root::

    python benchmarks/bench_token_grid.py
    python benchmarks/bench_token_grid.py --quick   # 1 seed, 2 epochs, 120 rows

Writes ``benchmarks/results/token_grid.md`` and ``token_grid.csv``.
"""

import argparse
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from skmultimodal.datasets import make_multimodal_classification, signal_mask
from skmultimodal.fusion import CrossAttentionFusionClassifier
from skmultimodal.inspection import cross_attention_maps, grad_cam
from skmultimodal.modalities import ImageModality, TabularModality

RESULTS = Path(__file__).parent / "results"
IMAGE_SIZE = 32
N_FEATURES = 10
CONFIGS = {
    "torchvision stem": {"stem": "imagenet"},
    "torchvision stem, output_stride=8": {"stem": "imagenet", "output_stride": 8},
    "small stem (default)": {},
    "small stem, output_stride=4": {"stem": "small", "output_stride": 4},
}


def heat_ratio(maps, mask):
    """Mean over maps of (mass inside ``mask`` / total mass) / area share of ``mask``."""
    ratios = []
    for m in maps:
        total = float(np.sum(m))
        if total > 0:
            ratios.append(float(np.sum(m[mask])) / total / mask.mean())
    return float(np.mean(ratios)) if ratios else float("nan")


def run_fold(name, backbone_params, X, y, train, test, seed, epochs):
    model = CrossAttentionFusionClassifier(
        [("image", ImageModality("image", backbone="resnet18", image_size=IMAGE_SIZE,
                                 channels=1, backbone_params=backbone_params or None)),
         ("tab", TabularModality([f"tab_{i}" for i in range(N_FEATURES)]))],
        max_epochs=epochs, random_state=seed, device="cpu")
    start = time.perf_counter()
    model.fit(X.iloc[train], y[train])
    fit_s = time.perf_counter() - start
    X_test = X.iloc[test]
    proba = model.predict_proba(X_test)[:, 1]
    mask = signal_mask(IMAGE_SIZE, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attention = cross_attention_maps(model, X_test)
        cam = grad_cam(model, X_test, modality="image")
    n_tokens = int(np.prod(attention.grid_shape))
    return dict(
        config=name, seed=seed, grid=f"{attention.grid_shape[0]}x{attention.grid_shape[1]}",
        accuracy=float(np.mean((proba >= 0.5) == y[test])),
        roc_auc=float(roc_auc_score(y[test], proba)),
        attention_heat_ratio=heat_ratio(attention.maps, mask),
        max_token_weight=float(attention.token_maps.reshape(len(test), -1).max(1).mean()),
        uniform_weight=1.0 / n_tokens,
        grad_cam_layer=cam.layer,
        grad_cam_heat_ratio=heat_ratio(cam.heatmaps, mask),
        fit_s=round(fit_s, 1))


def summary(rows):
    frame = pd.DataFrame(rows)
    lines = ["| configuration | token grid | accuracy | ROC AUC | attention heat in signal "
             "(x area share) | max token weight (uniform) | Grad-CAM layer | Grad-CAM heat "
             "in signal (x area share) | fit s |", "|---|---|---|---|---|---|---|---|---|"]

    def ms(values, digits=3):
        v = np.asarray(values, dtype=float)
        spread = np.nanstd(v, ddof=1) if len(v) > 1 else 0.0
        return f"{np.nanmean(v):.{digits}f} ± {spread:.{digits}f}"

    for name, sub in frame.groupby("config", sort=False):
        lines.append(
            f"| {name} | {sub.grid.iloc[0]} | {ms(sub.accuracy)} | {ms(sub.roc_auc)} | "
            f"{ms(sub.attention_heat_ratio, 2)} | {sub.max_token_weight.mean():.3f} "
            f"({sub.uniform_weight.iloc[0]:.3f}) | {sub.grad_cam_layer.iloc[0]} | "
            f"{ms(sub.grad_cam_heat_ratio, 2)} | {sub.fit_s.mean():.0f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--n-samples", type=int, default=300)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--output-dir", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    if args.quick:
        args.seeds, args.n_samples, args.epochs = args.seeds[:1], 120, 2
    rows = []
    start = time.perf_counter()
    for seed in args.seeds:
        X, y = make_multimodal_classification(
            args.n_samples, image_size=IMAGE_SIZE, n_features=N_FEATURES, random_state=seed)
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed).split(X, y)
        for train, test in folds:
            for name in args.configs:
                rows.append(run_fold(name, CONFIGS[name], X, y, train, test, seed,
                                     args.epochs))
                print(rows[-1], flush=True)
    wall = time.perf_counter() - start
    table = summary(rows)
    print(table)
    if args.quick:
        return
    args.output_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.output_dir / "token_grid.csv", index=False)
    command = shlex.join(["python", "benchmarks/bench_token_grid.py", *sys.argv[1:]])
    (args.output_dir / "token_grid.md").write_text(
        "# Token grids: cross-attention fusion at 32 px\n\n"
        f"Command: `{command.strip()}`; {args.n_samples} rows, {args.folds}-fold stratified "
        f"CV per seed (seeds {', '.join(map(str, args.seeds))}), {args.epochs} epochs, "
        f"{args.torch_threads} torch thread(s), {os.cpu_count()} CPU cores (shared), no GPU; "
        f"total wall time {wall:.0f} s. Cells: mean ± std over the folds.\n\n" + table + "\n")


if __name__ == "__main__":
    main()
