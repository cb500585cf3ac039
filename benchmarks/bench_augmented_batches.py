"""Data path of augmented in-memory images: prepared once per fit, or read row by row.

In-memory images are converted and resized once per fit into one tensor; with
augmentation each batch then augments and normalises its rows afresh
(``ImageSource.batch``). This script times one epoch of a DataLoader over the
training data set alone (no network), with the light augmentation preset,
both ways: the prepared tensor (the default) and reading every row again at
every epoch (the path before, kept for files and DataLoader workers). The
first epoch of the prepared path includes building the tensor.

Usage::

    python benchmarks/bench_augmented_batches.py
    python benchmarks/bench_augmented_batches.py --n-images 2048 --source-size 512
"""

import argparse
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from skmultimodal.data import ImageSource
from skmultimodal.data._dataset import MultimodalDataset, collate_batch
from skmultimodal.modalities import ImageModality


def epoch_times(images, size, fast, epochs, batch_size):
    transform = ImageModality("image", image_size=size, channels=images.shape[-1],
                              augment="light").make_transform(train=True)
    src = ImageSource(images, transform)
    if not fast:
        src._stackable = False  # read every row at every epoch
    ds = MultimodalDataset({"image": src}, y=np.arange(len(images)) % 2)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, collate_fn=collate_batch,
                        generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for _ in loader:
            pass
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-images", type=int, default=512)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--source-sizes", type=int, nargs="+", default=[64, 256])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"{args.n_images} RGB uint8 images, light augmentation, batches of "
          f"{args.batch_size}, {args.threads} torch thread(s); seconds per epoch\n")
    print("| source size | output size | prepared: first epoch | prepared: later epochs "
          "(median) | row by row (median) | row by row / prepared |")
    print("|---|---|---|---|---|---|")
    for source in args.source_sizes:
        images = rng.integers(0, 256, (args.n_images, source, source, 3), dtype=np.uint8)
        fast = epoch_times(images, args.image_size, True, args.epochs, args.batch_size)
        slow = epoch_times(images, args.image_size, False, args.epochs, args.batch_size)
        later, rows = float(np.median(fast[1:])), float(np.median(slow))
        print(f"| {source} | {args.image_size} | {fast[0]:.2f} | {later:.2f} | {rows:.2f} "
              f"| {rows / later:.2f} |")


if __name__ == "__main__":
    main()
