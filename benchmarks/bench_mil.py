"""Multiple-instance learning with a frozen encoder: epochs with and without the embedding cache.

``ImageBagClassifier(freeze_backbone=True)`` trains only the pooling and the
head, but without ``memory`` the frozen ResNet-18 still runs on every tile of
every bag at every epoch. With ``memory=<folder>`` each tile is encoded once
(cached on disk by its content) and the epochs run the pooling and the head on
the cached embeddings; a later fit on the same tiles (another fold, another
pooling, another grid-search candidate) reads the cache instead of encoding.

Data: ``make_bag_classification`` (synthetic bags of 32 x 32 grey tiles with
one or two key instances, given to a 3-channel ResNet-18 as arrays), by
default 1,000 bags of 50 tiles (50,000 tiles). The encoder is a ResNet-18
with ``weights=None`` (random initialisation: nothing can be downloaded
here); its cost per tile does not depend on the weights. Three fits in one
process, each measured with ``PeakMemory`` (peak RSS) and a counter of the
tiles run through the backbone:

1. ``memory=<empty temporary folder>``, gated-attention pooling: encodes
   every tile once, then trains;
2. the same folder, attention pooling (another candidate): reads the cache;
3. ``memory=None``, gated-attention pooling: the frozen backbone runs on
   every tile at every epoch (``--no-memory-epochs``, default 1: each such
   epoch costs a full encoder pass, about 4 minutes here, and they are all
   alike).

Fits 1 and 3 train the same network from the same seed, so their training
losses per epoch must agree (checked on the epochs both ran, and printed). Seconds per epoch are
skorch's ``history[:, "dur"]``; the encoding (or cache reading) of fits 1 and
2 happens once before the first epoch and is the fit wall time minus the
epochs.

Run from the repository root::

    python benchmarks/bench_mil.py            # 1,000 bags x 50 tiles, about 12 min
    python benchmarks/bench_mil.py --quick    # smoke run: 100 bags x 10 tiles, < 1 min

Results go to ``benchmarks/results/mil_cache.csv``, ``mil_cache.json`` and
``mil_cache.md`` (``--tag`` appends to the names).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RESULTS_DIR,
    PeakMemory,
    machine_info,
    markdown_table,
    write_csv,
    write_json,
)

import skmultimodal  # noqa: E402
from skmultimodal import ImageBagClassifier  # noqa: E402
from skmultimodal.datasets import make_bag_classification  # noqa: E402
from skmultimodal.nn import ResNetBackbone  # noqa: E402


class EncoderMeter:
    """Count the tiles run through ResNet backbones and the seconds spent there."""

    def __init__(self):
        self.tiles = 0
        self.seconds = 0.0
        self._original = ResNetBackbone.forward_features

    def __enter__(self):
        meter, original = self, self._original

        def timed(backbone, x):
            start = time.perf_counter()
            out = original(backbone, x)
            meter.seconds += time.perf_counter() - start
            meter.tiles += x.shape[0]
            return out

        ResNetBackbone.forward_features = timed
        return self

    def __exit__(self, *exc):
        ResNetBackbone.forward_features = self._original


def folder_mib(folder):
    """Size in MiB of the files under ``folder``."""
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, files in os.walk(folder) for f in files) / 2**20


def fit_once(label, X, y, args, pooling, memory, epochs):
    clf = ImageBagClassifier(
        "bag", pooling=pooling, backbone="resnet18", weights=None, freeze_backbone=True,
        image_size=args.tile_size, channels=3, max_epochs=epochs,
        batch_size=args.batch_size, num_workers=0, device="cpu", random_state=0,
        memory=memory)
    with EncoderMeter() as meter, PeakMemory("cpu") as mem, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        wall = time.perf_counter() - start
    durations = [float(d) for d in clf.net_.history[:, "dur"]]
    losses = [float(v) for v in clf.net_.history[:, "train_loss"]]
    row = {
        "run": label,
        "pooling": pooling,
        "memory": "none" if memory is None else "folder",
        "epochs": len(durations),
        "fit_wall_s": wall,
        "s_per_epoch": float(np.mean(durations)),
        "before_epochs_s": wall - sum(durations),
        "tiles_encoded": meter.tiles,
        "encoder_s": meter.seconds,
        "peak_rss_mib": mem.peak_rss_mib,
        "rss_increase_mib": mem.rss_increase_mib,
        "cache_mib": folder_mib(memory) if memory is not None else None,
        "train_loss": losses,
    }
    print(f"  {label:32s} wall {wall:7.1f} s, {row['s_per_epoch']:6.2f} s/epoch, "
          f"{row['before_epochs_s']:6.1f} s before the epochs, {meter.tiles:7d} tiles "
          f"encoded ({meter.seconds:6.1f} s), peak RSS {mem.peak_rss_mib:6.0f} MiB",
          flush=True)
    return row


COLUMNS = [
    ("run", "fit", None),
    ("epochs", "epochs", 0),
    ("s_per_epoch", "s / epoch", 2),
    ("before_epochs_s", "encode or read cache (s)", 1),
    ("fit_wall_s", "fit wall (s)", 1),
    ("tiles_encoded", "tiles encoded", 0),
    ("encoder_s", "in the encoder (s)", 1),
    ("peak_rss_mib", "peak RSS (MiB)", 0),
    ("rss_increase_mib", "RSS increase in fit (MiB)", 0),
    ("cache_mib", "cache on disk (MiB)", 1),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bags", type=int, default=1000)
    parser.add_argument("--tiles", type=int, default=50, help="tiles per bag")
    parser.add_argument("--tile-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--no-memory-epochs", type=int, default=1,
                        help="epochs of the fit without memory (each costs a full "
                        "encoder pass over every tile)")
    parser.add_argument("--batch-size", type=int, default=16, help="bags per batch")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100 bags of 10 tiles, 2 epochs")
    parser.add_argument("--output-dir", default=str(RESULTS_DIR))
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    if args.quick:
        args.n_bags, args.tiles, args.epochs, args.no_memory_epochs = 100, 10, 2, 2
        args.tag = args.tag or "_quick"
    torch.set_num_threads(args.torch_threads)
    command = "python benchmarks/bench_mil.py " + " ".join(sys.argv[1:])

    start = time.perf_counter()
    X, y = make_bag_classification(
        args.n_bags, min_instances=args.tiles, max_instances=args.tiles,
        image_size=args.tile_size, n_tabular=0, n_informative=0, random_state=0)
    X = X[["bag"]]
    n_tiles = int(sum(len(b) for b in X["bag"]))
    info = machine_info(args.torch_threads)
    print(f"machine: {info['cpu']}, {info['cpu_count']} CPUs, torch threads "
          f"{torch.get_num_threads()}, load average {info.get('load_average')}; torch "
          f"{info['torch']}, skmultimodal {skmultimodal.__version__}")
    print(f"data: {args.n_bags} bags x {args.tiles} tiles = {n_tiles} tiles of "
          f"{args.tile_size} px (made in {time.perf_counter() - start:.1f} s); frozen "
          f"ResNet-18 (weights=None), {args.epochs} epochs with memory, "
          f"{args.no_memory_epochs} without, batch {args.batch_size} bags",
          flush=True)

    rows = []
    folder = tempfile.mkdtemp(prefix="milcache_")
    try:
        rows.append(fit_once("1. memory, empty cache", X, y, args, "gated_attention",
                             folder, args.epochs))
        rows.append(fit_once("2. memory, cache filled (other pooling)", X, y, args,
                             "attention", folder, args.epochs))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows.append(fit_once("3. no memory (backbone every epoch)", X, y, args,
                         "gated_attention", None, args.no_memory_epochs))

    common = min(len(rows[0]["train_loss"]), len(rows[2]["train_loss"]))
    loss_a, loss_b = rows[0]["train_loss"][:common], rows[2]["train_loss"][:common]
    same_loss = np.allclose(loss_a, loss_b, rtol=1e-4, atol=1e-6)
    loss_diff = float(np.max(np.abs(np.subtract(loss_a, loss_b))))
    speedup = rows[2]["s_per_epoch"] / rows[0]["s_per_epoch"]
    table = markdown_table(rows, COLUMNS)
    total = time.perf_counter() - start
    notes = [
        f"Command: `{command.strip()}`",
        f"{args.n_bags} bags x {args.tiles} tiles = {n_tiles} tiles of {args.tile_size} px "
        f"(make_bag_classification, random_state=0); ImageBagClassifier(backbone='resnet18', "
        f"weights=None, freeze_backbone=True, channels=3, image_size={args.tile_size}, "
        f"batch_size={args.batch_size}, random_state=0); max_epochs={args.epochs} with "
        f"memory, {args.no_memory_epochs} without (every epoch without memory runs the "
        "backbone on every tile, so one is enough to time it).",
        f"Machine: {info['cpu']}, {info['cpu_count']} CPUs (shared; load average at the "
        f"end {[round(v, 2) for v in os.getloadavg()]}), {args.torch_threads} torch "
        f"thread(s), torch {info['torch']}, skmultimodal {skmultimodal.__version__}. "
        f"Total wall time {total:.0f} s.",
    ]
    summary = (f"Epoch time without memory / with memory: x{speedup:.0f}. "
               f"Training losses of fits 1 and 3 (first {common} epoch(s)) equal: {same_loss} "
               f"(max abs difference {loss_diff:.2g}).")
    text = "\n".join(["# MIL: frozen encoder with and without the embedding cache", "",
                      "  \n".join(notes), "", table, "", summary, ""])
    print("\n" + table + "\n\n" + summary)

    out = Path(args.output_dir)
    name = f"mil_cache{args.tag}"
    write_csv([{k: v for k, v in r.items() if k != "train_loss"} for r in rows],
              out / f"{name}.csv")
    write_json({"command": command.strip(), "args": vars(args), "machine": info,
                "n_tiles": n_tiles, "rows": rows, "same_train_loss": bool(same_loss),
                "max_train_loss_diff": loss_diff, "total_wall_s": total},
               out / f"{name}.json")
    (out / f"{name}.md").write_text(text)
    print(f"wrote {out / name}.csv, .json, .md")


if __name__ == "__main__":
    main()
