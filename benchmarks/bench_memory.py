"""Peak memory of one training epoch on 1,000 vs 10,000 images: paths vs arrays.

``ImageClassifier`` reads image files lazily, one item at a time, so training
on a column of file paths should need the same memory whatever the number of
images. This script writes greyscale PNG files to a temporary folder, then
trains a tiny SimpleCNN for one epoch (32 px, batch 64) in a fresh
subprocess per setting, and reports that subprocess's peak resident memory:

- ``paths``: X is the list of PNG paths (decoded batch by batch);
- ``arrays``: the same images are first read into one in-memory uint8 stack,
  which is what grows with the number of images (for contrast).

Each child measures itself without psutil: ``ru_maxrss`` (peak RSS over its
life, imports included) and the peak RSS during ``fit`` alone (the kernel's
VmHWM after a reset through /proc/self/clear_refs, Linux). Results go to
``benchmarks/results/memory.csv`` and ``memory.json``.

Usage::

    python benchmarks/bench_memory.py            # 1,000 and 10,000 images
    python benchmarks/bench_memory.py --quick    # 200 and 2,000 images (< 1 min)
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RESULTS_DIR,
    machine_info,
    markdown_table,
    peak_rss_mib,
    reset_peak_rss,
    rss_mib,
    synthetic_images,
    write_csv,
    write_images,
    write_json,
)

CHUNK = 1000


def write_dataset(folder, n, size):
    """Write ``n`` greyscale PNG files of ``size`` px in chunks; return the paths."""
    paths = []
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        images = synthetic_images(count, size, channels=1, seed=start)
        paths += write_images(images, folder, "png", prefix=f"c{start // CHUNK:03d}")
    return paths


# -- child: one training epoch, measuring itself ---------------------------
def child(args):
    import numpy as np
    import torch

    from skmultimodal import ImageClassifier
    from skmultimodal.data._io import read_image

    torch.set_num_threads(args.threads)
    paths = sorted(str(p) for p in Path(args.folder).glob("*.png"))[: args.n]
    if len(paths) != args.n:
        raise SystemExit(f"expected {args.n} PNG files in {args.folder}, found {len(paths)}")
    y = np.arange(args.n) % 2
    start = time.perf_counter()
    if args.input == "arrays":
        X = np.stack([read_image(p) for p in paths])
    else:
        X = paths
    load_s = time.perf_counter() - start
    rss_before = rss_mib()
    reset_peak_rss()
    clf = ImageClassifier(backbone="simple_cnn", image_size=args.image_size, channels=1,
                          normalize=None, max_epochs=1, batch_size=args.batch_size,
                          backbone_params={"channels": (16, 32), "convs_per_block": 1},
                          device="cpu", random_state=0)
    start = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - start
    result = dict(
        input=args.input, n_images=args.n, load_s=load_s, fit_s=fit_s,
        rss_before_fit_mib=rss_before, peak_rss_fit_mib=peak_rss_mib(),
        rss_after_fit_mib=rss_mib(),
        ru_maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        input_mib=(X.nbytes / 2**20 if args.input == "arrays" else None),
        train_img_s=args.n / fit_s,
    )
    print("RESULT " + json.dumps(result), flush=True)


def run_child(args, input_kind, n, folder):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--input", input_kind,
           "--n", str(n), "--folder", str(folder), "--image-size", str(args.image_size),
           "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {input_kind} n={n} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


# -- parent -----------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000],
                   help="numbers of images to compare")
    p.add_argument("--source-size", type=int, default=128, help="size of the PNG files")
    p.add_argument("--image-size", type=int, default=32, help="network input size")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="200 and 2,000 images of 64 px")
    p.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    # internal: run as the measured child
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--input", choices=("paths", "arrays"), help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick and not args.child:
        args.sizes, args.source_size = [200, 2000], 64
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args)
    info = machine_info(args.threads)
    print("machine:", info, flush=True)
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        write_dataset(folder, max(args.sizes), args.source_size)
        print(f"wrote {max(args.sizes)} PNG files of {args.source_size} px in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        for input_kind in ("paths", "arrays"):
            for n in args.sizes:
                res = run_child(args, input_kind, n, folder)
                res.update(source_size=args.source_size, image_size=args.image_size,
                           batch_size=args.batch_size, threads=args.threads)
                rows.append(res)
                print(f"  {input_kind:6s} n={n:6d}: peak RSS in fit "
                      f"{res['peak_rss_fit_mib']:.0f} MiB (before fit "
                      f"{res['rss_before_fit_mib']:.0f} MiB), ru_maxrss "
                      f"{res['ru_maxrss_mib']:.0f} MiB, fit {res['fit_s']:.1f} s", flush=True)
    growth = []
    for input_kind in ("paths", "arrays"):
        rs = sorted((r for r in rows if r["input"] == input_kind), key=lambda r: r["n_images"])
        lo, hi = rs[0], rs[-1]
        growth.append(dict(
            input=input_kind, n_small=lo["n_images"], n_large=hi["n_images"],
            ru_maxrss_growth_mib=hi["ru_maxrss_mib"] - lo["ru_maxrss_mib"],
            fit_peak_growth_mib=hi["peak_rss_fit_mib"] - lo["peak_rss_fit_mib"],
        ))
    info["wall_s"] = time.perf_counter() - start
    info["command"] = " ".join(["python", "benchmarks/bench_memory.py", *sys.argv[1:]])
    suffix = "_quick" if args.quick else ""
    write_csv(rows, args.output_dir / f"memory{suffix}.csv")
    write_json({"machine": info, "settings": {k: str(v) for k, v in vars(args).items()},
                "runs": rows, "growth": growth}, args.output_dir / f"memory{suffix}.json")
    print()
    print(markdown_table(rows, [
        ("input", "input", 0), ("n_images", "images", 0), ("input_mib", "array MiB", 1),
        ("rss_before_fit_mib", "RSS before fit MiB", 0),
        ("peak_rss_fit_mib", "peak RSS in fit MiB", 0),
        ("ru_maxrss_mib", "ru_maxrss MiB", 0), ("fit_s", "fit s", 1),
        ("train_img_s", "train img/s", 0)]))
    print()
    print(markdown_table(growth, [
        ("input", "input", 0), ("n_small", "from", 0), ("n_large", "to", 0),
        ("ru_maxrss_growth_mib", "ru_maxrss growth MiB", 1),
        ("fit_peak_growth_mib", "fit peak growth MiB", 1)]))
    print(f"\ntotal wall time {info['wall_s']:.0f} s; results in {args.output_dir}")


if __name__ == "__main__":
    main()
