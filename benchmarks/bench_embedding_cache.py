"""Embedding cache benchmark: grid search with a frozen ResNet-18, with and without ``memory``.

A grid search over 4 head settings x 5 folds (and the refit) with a frozen
image encoder runs the encoder on every image of every fit without a cache;
with ``memory=<folder>`` each image is encoded once. Two set-ups:

(a) ``Pipeline(ImageEmbedder(resnet18), StandardScaler, LogisticRegression)``,
    grid over ``C`` (4 values);
(b) ``IntermediateFusionClassifier`` with a frozen ResNet-18 image modality,
    grid over ``head_hidden_sizes`` x ``dropout`` (4 settings).

Data: BUSI (``skmultimodal.datasets.load_busi``, a stratified subsample of
``--n-images`` images, 3 classes) from ``--data-home`` / ``SKMULTIMODAL_DATA``
when present, else synthetic images. The encoder is a ResNet-18 with a
seeded random initialisation saved to a local state-dict file
(``weights=<file>``; nothing is downloaded). Each variant runs twice in the
same process: ``memory=None``, then ``memory=<fresh temporary folder>``. The
script counts the images that go through the encoder and the seconds spent
in it, and checks that ``cv_results_["mean_test_score"]`` is identical.

Run from the repository root::

    python benchmarks/bench_embedding_cache.py --data-home /work/shared/data
    python benchmarks/bench_embedding_cache.py --quick     # smoke run, about a minute
"""

import argparse
import os
import platform
import shutil
import tempfile
import time
import warnings

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmultimodal
from skmultimodal import ImageEmbedder
from skmultimodal.datasets import load_busi, make_multimodal_classification
from skmultimodal.fusion import IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality
from skmultimodal.nn import ResNetBackbone, get_backbone


class EncoderMeter:
    """Count the images run through ResNet backbones and the time spent there."""

    def __init__(self):
        self.images = 0
        self.seconds = 0.0
        self._original = ResNetBackbone.forward_features

    def __enter__(self):
        meter, original = self, self._original

        def timed(backbone, x):
            start = time.perf_counter()
            out = original(backbone, x)
            meter.seconds += time.perf_counter() - start
            meter.images += x.shape[0]
            return out

        ResNetBackbone.forward_features = timed
        return self

    def __exit__(self, *exc):
        ResNetBackbone.forward_features = self._original


def load_data(args):
    try:
        bunch = load_busi(data_home=args.data_home)
    except (FileNotFoundError, OSError) as exc:
        print(f"BUSI not available ({exc}); using synthetic images")
        X, y = make_multimodal_classification(args.n_images, image_size=args.image_size,
                                              n_channels=3, random_state=0)
        return X[["image"]], y, "image", f"synthetic ({args.image_size} px arrays)"
    X, y = bunch.data, bunch.target
    if args.n_images < len(X):
        X, _, y, _ = train_test_split(X, y, train_size=args.n_images, stratify=y,
                                      random_state=0)
    return X.reset_index(drop=True), y, "image_path", "BUSI (256 px PNG files)"


def embedder_search(column, weights, args, memory):
    pipe = make_pipeline(
        ImageEmbedder(column, backbone="resnet18", weights=weights,
                      image_size=args.image_size, batch_size=32, device="cpu",
                      random_state=0, memory=memory),
        StandardScaler(), LogisticRegression(max_iter=1000))
    return pipe, {"logisticregression__C": [0.001, 0.01, 0.1, 1.0]}


def fusion_search(column, weights, args, memory):
    clf = IntermediateFusionClassifier(
        [("us", ImageModality(column, backbone="resnet18", weights=weights,
                              freeze_backbone=True, image_size=args.image_size))],
        embed_dim=64, max_epochs=args.epochs, batch_size=32, lr=1e-3, num_workers=0,
        device="cpu", random_state=0, memory=memory)
    return clf, {"head_hidden_sizes": [(32,), (64,)], "dropout": [0.1, 0.3]}


def run(name, make, X, y, column, weights, args):
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    results = {}
    for label in ("no cache", "cache"):
        folder = tempfile.mkdtemp(prefix="embcache_") if label == "cache" else None
        estimator, grid = make(column, weights, args, folder)
        with EncoderMeter() as meter, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            start = time.perf_counter()
            search = GridSearchCV(estimator, grid, cv=cv, n_jobs=1).fit(X, y)
            wall = time.perf_counter() - start
        size = 0
        if folder is not None:
            size = sum(os.path.getsize(os.path.join(d, f))
                       for d, _, fs in os.walk(folder) for f in fs)
            shutil.rmtree(folder)
        results[label] = dict(wall=wall, images=meter.images, encoder=meter.seconds,
                              scores=search.cv_results_["mean_test_score"], size=size)
        print(f"  {name:9s} {label:8s}: wall {wall:7.1f} s, encoder {meter.seconds:7.1f} s "
              f"on {meter.images:6d} images" + (f", cache {size / 1e6:.1f} MB" if size else ""),
              flush=True)
    a, b = results["no cache"], results["cache"]
    diff = float(np.max(np.abs(a["scores"] - b["scores"])))
    print(f"  {name:9s} speed-up: wall x{a['wall'] / b['wall']:.1f}, encoder time "
          f"x{a['encoder'] / max(b['encoder'], 1e-9):.1f}, encoder images "
          f"x{a['images'] / max(b['images'], 1):.1f}; mean_test_score identical: "
          f"{diff == 0.0} (max abs diff {diff:.2g})", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--n-images", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[], choices=["embedder", "fusion"])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 40 images at 32 px, 3 folds, 1 epoch")
    args = parser.parse_args()
    if args.quick:
        args.n_images, args.image_size, args.folds, args.epochs = 40, 32, 3, 1
    torch.set_num_threads(args.torch_threads)
    X, y, column, source = load_data(args)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}; "
          f"python {platform.python_version()}, torch {torch.__version__}, "
          f"scikit-learn {sklearn.__version__}, skmultimodal {skmultimodal.__version__}")
    print(f"data: {source}, {len(X)} images at {args.image_size} px, classes "
          f"{dict(zip(*np.unique(y, return_counts=True)))}; grid 4 settings x "
          f"{args.folds} folds + refit; frozen ResNet-18 (seeded random weights "
          "from a local state-dict file)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "resnet18.pt")
        torch.manual_seed(0)
        torch.save(get_backbone("resnet18").state_dict(), weights)
        if "embedder" not in args.skip:
            run("embedder", embedder_search, X, y, column, weights, args)
        if "fusion" not in args.skip:
            run("fusion", fusion_search, X, y, column, weights, args)


if __name__ == "__main__":
    main()
