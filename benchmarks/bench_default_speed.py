"""Default ``ImageClassifier.fit`` against a plain PyTorch loop slicing a tensor.

The configuration of the training-speed question: a ResNet-18 (random
initialisation) trained for 2 epochs with Adam, batches of 64, on 512
in-memory RGB uint8 images of 64 pixels (the network's input size: no
resizing), on the CPU with one torch thread.

- ``plain``: the images are converted to one normalised float tensor
  (ImageNet statistics), then each epoch draws a permutation and slices
  batches out of that tensor; the conversion is inside the timed region.
- ``default``: ``ImageClassifier(backbone="resnet18", image_size=64,
  batch_size=64, max_epochs=2, device="cpu", random_state=0).fit(images, y)``
  with the plain loop's training recipe (Adam, no weight decay, no
  augmentation, constant learning rate, plain cross-entropy: ``RECIPE``,
  for the parameters that exist) and every other parameter at its default:
  the default data path, ``num_workers="auto"`` and the batch-norm
  recalibration.

Both run in the same process, alternating (the order swaps at every repeat),
after one untimed warm-up each. The ratio is plain time / default time (1:
the library is as fast as the plain loop); every figure is the median of
``--repeats`` runs, and each repeat's ratio is also given. Results go to
``benchmarks/results/default_speed.{md,json}``.

Usage::

    python benchmarks/bench_default_speed.py              # 3 repeats
    python benchmarks/bench_default_speed.py --profile    # cProfile of one default fit
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RESULTS_DIR,
    Timer,
    machine_info,
    median,
    synthetic_images,
    write_json,
)

from skmultimodal import ImageClassifier, ImageModality  # noqa: E402
from skmultimodal.nn import ImageClassifierModule  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
SEED = 0


def make_data(n, size):
    images = synthetic_images(n, size, channels=3, seed=SEED)
    y = np.arange(n) % 2
    return images, y


def plain_fit(images, y, args):
    """Hand-written loop; returns the module in evaluation mode."""
    torch.manual_seed(SEED)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    if tuple(x.shape[-2:]) != (args.image_size, args.image_size):
        x = TF.resize(x, [args.image_size, args.image_size], antialias=True)
    x = TF.normalize(x, IMAGENET_MEAN, IMAGENET_STD).contiguous()
    yt = torch.as_tensor(y, dtype=torch.long)
    # the network the estimator builds (the same ResNet stem for this image size)
    module = ImageClassifierModule(n_classes=2, encoder=ImageModality(
        backbone="resnet18", image_size=args.image_size, channels=3).encoder_spec())
    optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(SEED)
    n = len(yt)
    for _ in range(args.epochs):
        module.train()
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, args.batch_size):
            idx = perm[start:start + args.batch_size]
            if len(idx) < 2:
                continue
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(module(image=x[idx]), yt[idx])
            loss.backward()
            optimizer.step()
    return module.eval()


#: The plain loop's training recipe, for the estimator parameters that have
#: one (each only where the installed version has the parameter).
RECIPE = dict(optimizer="adam", weight_decay=0.0, augment=False, lr_schedule=None,
              label_smoothing=0.0, tta=False)


def recipe(**params):
    """``params`` plus the plain loop's recipe, for ``ImageClassifier``."""
    known = ImageClassifier().get_params()
    return {**{k: v for k, v in RECIPE.items() if k in known}, **params}


def default_fit(images, y, args):
    return ImageClassifier(**recipe(
        backbone="resnet18", image_size=args.image_size, batch_size=args.batch_size,
        max_epochs=args.epochs, lr=args.lr, device="cpu", random_state=SEED)).fit(images, y)


RUNNERS = {"plain": plain_fit, "default": default_fit}


def run(args):
    images, y = make_data(args.n_images, args.source_size)
    warm = argparse.Namespace(**{**vars(args), "epochs": 1})
    for name, fit in RUNNERS.items():  # warm-up, not timed
        fit(images[:args.batch_size], y[:args.batch_size], warm)
    times = {name: [] for name in RUNNERS}
    cpu = {name: [] for name in RUNNERS}
    ratios = []
    for rep in range(args.repeats):
        order = list(RUNNERS) if rep % 2 == 0 else list(RUNNERS)[::-1]
        for name in order:
            with Timer() as t:
                RUNNERS[name](images, y, args)
            times[name].append(t.seconds)
            cpu[name].append(t.cpu_seconds)
            print(f"  rep {rep} {name:8s} {t.seconds:7.2f} s (CPU {t.cpu_seconds:.2f} s)",
                  flush=True)
        ratios.append(times["plain"][-1] / times["default"][-1])
        print(f"  rep {rep} ratio plain/default {ratios[-1]:.3f}", flush=True)
    return times, cpu, ratios


# -- accuracy of the batch-norm statistics ------------------------------------
#: name -> keyword arguments of RecalibrateBatchNorm (None: recalibrate_bn=False)
ACCURACY_MODES = {
    "pass, a quarter of the rows (default)": dict(),
    "pass, every row": dict(share=1.0),
    "last epoch": dict(during_last_epoch=True),
    "none (exponential averages)": None,
}


def accuracy(args):
    """Held-out accuracy of small fits by how the batch-norm statistics are made.

    ``make_multimodal_classification`` images (greyscale, 32 px, class
    separation 1.0), 96 training and 400 test rows, ResNet-18, batches of 32,
    2 and 3 epochs, 5 seeds: the setting in which statistics left to the
    exponential averages make evaluation-mode predictions collapse.
    """
    from skmultimodal.datasets import make_multimodal_classification
    from skmultimodal.estimators import _base, _callbacks

    rows = []
    original = _base.RecalibrateBatchNorm
    for seed in range(args.accuracy_seeds):
        X, y = make_multimodal_classification(496, image_size=32, image_share=1.0,
                                              class_sep=1.0, random_state=seed)
        images = np.stack(X["image"].to_list())
        train, test = slice(0, 96), slice(96, None)
        for epochs in (2, 3):
            for mode, kwargs in ACCURACY_MODES.items():
                _base.RecalibrateBatchNorm = (
                    lambda max_batches, kw=kwargs: _callbacks.RecalibrateBatchNorm(
                        max_batches, **kw))
                try:
                    clf = ImageClassifier(**recipe(
                        backbone="resnet18", image_size=32, channels=1, batch_size=32,
                        max_epochs=epochs, recalibrate_bn=kwargs is not None, device="cpu",
                        random_state=seed))
                    clf.fit(images[train], y[train])
                finally:
                    _base.RecalibrateBatchNorm = original
                pred = clf.predict(images[test])
                rows.append(dict(seed=seed, epochs=epochs, mode=mode,
                                 accuracy=float(np.mean(pred == y[test])),
                                 majority_share=float(max(np.mean(pred == c)
                                                          for c in np.unique(y)))))
                print(f"  accuracy seed {seed} {epochs} epochs {mode:38s} "
                      f"{rows[-1]['accuracy']:.3f} (share of the most predicted class "
                      f"{rows[-1]['majority_share']:.2f})", flush=True)
    return rows


def accuracy_lines(rows):
    lines = ["| epochs | statistics | mean test accuracy | min | runs with one class "
             "predicted for > 90 % of rows |", "|---|---|---|---|---|"]
    for epochs in sorted({r["epochs"] for r in rows}):
        for mode in ACCURACY_MODES:
            rs = [r for r in rows if r["epochs"] == epochs and r["mode"] == mode]
            acc = [r["accuracy"] for r in rs]
            collapsed = sum(r["majority_share"] > 0.9 for r in rs)
            lines.append(f"| {epochs} | {mode} | {np.mean(acc):.3f} | {min(acc):.3f} | "
                         f"{collapsed} / {len(rs)} |")
    return lines


def profile(args):
    import cProfile
    import io
    import pstats

    images, y = make_data(args.n_images, args.source_size)
    default_fit(images[:args.batch_size], y[:args.batch_size],
                argparse.Namespace(**{**vars(args), "epochs": 1}))
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    default_fit(images, y, args)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(25)
    stats.print_stats(r"skmultimodal/data|torch/utils/data|_callbacks", 25)
    print(buf.getvalue())


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-images", type=int, default=512)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--source-size", type=int, default=None,
                   help="size of the stored images (default: the image size)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--accuracy-seeds", type=int, default=5,
                   help="seeds of the accuracy check (0: skip it)")
    p.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--tag", default="", help="suffix of the result file names")
    args = p.parse_args(argv)
    if args.source_size is None:
        args.source_size = args.image_size
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.profile:
        profile(args)
        return
    info = machine_info(args.threads)
    print(f"{args.n_images} images {args.source_size} px -> {args.image_size} px, "
          f"{args.epochs} epochs, batch {args.batch_size}, {args.threads} thread(s)",
          flush=True)
    times, cpu, ratios = run(args)
    acc = accuracy(args) if args.accuracy_seeds else []
    plain, default = median(times["plain"]), median(times["default"])
    summary = dict(plain_s=plain, default_s=default, ratio=plain / default,
                   ratio_of_medians=plain / default, median_of_ratios=median(ratios),
                   plain_cpu_s=median(cpu["plain"]), default_cpu_s=median(cpu["default"]),
                   ratio_cpu=median(cpu["plain"]) / median(cpu["default"]))
    command = " ".join(["python", "benchmarks/bench_default_speed.py", *sys.argv[1:]])
    info["command"] = command
    name = f"default_speed{args.tag}"
    write_json({"machine": info, "settings": {k: str(v) for k, v in vars(args).items()},
                "summary": summary, "times_s": times, "cpu_s": cpu, "ratios": ratios,
                "accuracy": acc},
               args.output_dir / f"{name}.json")
    lines = [
        "# Default ImageClassifier.fit vs a plain PyTorch loop",
        "",
        f"`{command}` on {info['cpu']} ({info['cpu_count']} cores, shared), torch "
        f"{info['torch']}, {args.threads} torch thread(s): ResNet-18, "
        f"{args.n_images} in-memory {args.source_size} px RGB images -> "
        f"{args.image_size} px, batch {args.batch_size}, {args.epochs} epochs, Adam.",
        "",
        "| run | median fit s | median CPU s | fit s per repeat |",
        "|---|---|---|---|",
    ]
    for key in RUNNERS:
        per = ", ".join(f"{t:.2f}" for t in times[key])
        lines.append(f"| {key} | {median(times[key]):.2f} | {median(cpu[key]):.2f} | {per} |")
    lines += [
        "",
        f"plain / default (ratio of the medians): **{summary['ratio']:.3f}**; "
        f"per repeat: {', '.join(f'{r:.3f}' for r in ratios)} "
        f"(median {summary['median_of_ratios']:.3f}); in CPU time: "
        f"{summary['ratio_cpu']:.3f}.",
        "",
    ]
    if acc:
        lines += ["## Batch-norm statistics and small-data accuracy", "",
                  accuracy.__doc__.split("\n\n")[1].replace("\n    ", " ").strip(), "",
                  *accuracy_lines(acc), ""]
    (args.output_dir / f"{name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
