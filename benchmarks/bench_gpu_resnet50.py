"""ResNet-50 training on a GPU: images/s and the share of time spent waiting on data.

``ImageClassifier(backbone="resnet50", image_size=224)`` is trained from
in-memory uint8 arrays and from PNG files, with the default settings and with
the GPU options (``precision``, ``channels_last``, ``num_workers``,
``cache_images``). For each run the script prints training images/s (epochs
after the first, so that start-up, compilation and the first decoding are not
counted), the fraction of the epoch the training loop spent waiting for the
next batch (the time between the end of one batch and the start of the next,
with CUDA synchronised at the end of each batch), the peak GPU memory and the
fit's wall time.

Usage::

    python benchmarks/bench_gpu_resnet50.py                       # needs CUDA
    python benchmarks/bench_gpu_resnet50.py --device cpu --quick  # smoke run
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS_DIR,
    PeakMemory,
    machine_info,
    markdown_table,
    synthetic_images,
    write_csv,
    write_images,
    write_json,
)

from skmultimodal import ImageClassifier  # noqa: E402


class DataWait(Callback):
    """Time the loop waits for each batch, and epoch times, in training."""

    def __init__(self, device):
        self.device = device

    def _sync(self):
        if str(self.device).startswith("cuda"):
            torch.cuda.synchronize()

    def on_train_begin(self, net, **kwargs):
        self.epochs = []  # (epoch seconds, waiting seconds, images)

    def on_epoch_begin(self, net, **kwargs):
        self._epoch_start = self._last_end = time.perf_counter()
        self._wait, self._images = 0.0, 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self._wait += time.perf_counter() - self._last_end

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self._sync()
            self._images += len(batch[1])
            self._last_end = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        self._sync()
        self.epochs.append((time.perf_counter() - self._epoch_start, self._wait,
                            self._images))


CONFIGS = {
    "default": {},
    "bf16+channels_last": dict(precision="bf16", channels_last=True),
    "bf16+channels_last+cache": dict(precision="bf16", channels_last=True,
                                     cache_images=True),
}


def run(X, y, args, source, name, options):
    wait = DataWait(args.device)
    clf = ImageClassifier(
        backbone="resnet50", weights=None, image_size=args.image_size,
        max_epochs=args.epochs, batch_size=args.batch_size, lr=1e-3,
        device=args.device, random_state=0, num_workers=args.num_workers,
        callbacks=[("data_wait", wait)], recalibrate_bn=False, **options,
    )
    with PeakMemory(args.device) as mem:
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
    timed = clf.net_.callbacks_  # the fitted copy of the callback
    wait = dict(timed)["data_wait"]
    later = wait.epochs[1:] or wait.epochs  # skip the first epoch when there are more
    seconds = sum(e[0] for e in later)
    return {
        "source": source, "config": name, "images": len(y),
        "train_img_s": sum(e[2] for e in later) / seconds,
        "data_wait_share": sum(e[1] for e in later) / seconds,
        "first_epoch_s": wait.epochs[0][0], "fit_wall_s": fit_s,
        "peak_gpu_mib": mem.peak_cuda_mib, "peak_rss_mib": mem.peak_rss_mib,
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-images", type=int, default=2048)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--source-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--num-workers", default="auto",
                   type=lambda v: v if v == "auto" else int(v))
    p.add_argument("--device", default="cuda")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 32 images of 64 px, 2 epochs, batch 16")
    p.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    if args.quick:
        args.n_images, args.image_size, args.source_size = 32, 64, 72
        args.epochs, args.batch_size = 2, 16
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No CUDA device here: this benchmark measures GPU training. Run it on a "
              "machine with a GPU, or with --device cpu --quick as a smoke run.")
        return 0
    configs = dict(CONFIGS)
    if not args.device.startswith("cuda"):  # no fp16/bf16 tensor cores to measure
        configs = {"default": {}, "cache": dict(cache_images=True)}
    info = machine_info()
    if args.device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(args.device)
    print("machine:", info)
    images = synthetic_images(args.n_images, args.source_size)
    y = np.arange(args.n_images) % 2
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = write_images(images, folder)
        for source, X in (("arrays", images), ("png", np.array(paths, dtype=object))):
            for name, options in configs.items():
                row = run(X, y, args, source, name, options)
                rows.append(row)
                print(f"{source:6s} {name:26s} {row['train_img_s']:8.1f} img/s, "
                      f"waiting on data {100 * row['data_wait_share']:5.1f} %, "
                      f"fit {row['fit_wall_s']:.1f} s", flush=True)
    columns = [("source", "X", 0), ("config", "options", 0),
               ("train_img_s", "train img/s", 1), ("data_wait_share", "waiting on data", 3),
               ("first_epoch_s", "first epoch s", 1), ("fit_wall_s", "fit wall s", 1),
               ("peak_gpu_mib", "peak GPU MiB", 0), ("peak_rss_mib", "peak RSS MiB", 0)]
    print(markdown_table(rows, columns))
    tag = "_quick" if args.quick else ""
    device = "cuda" if args.device.startswith("cuda") else "cpu"
    write_csv(rows, args.output_dir / f"gpu_resnet50_{device}{tag}.csv")
    write_json({"machine": info, "settings": vars(args) | {"output_dir": str(args.output_dir)},
                "runs": rows}, args.output_dir / f"gpu_resnet50_{device}{tag}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
