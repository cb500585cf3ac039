"""BreastMNIST at 28 px: the default ImageClassifier against the published recipe.

Protocol: the official MedMNIST v2 split of BreastMNIST (546 train / 78 val /
156 test ultrasound images, 28x28 greyscale, benign+normal vs malignant).
Every model is fitted on the 546 training images only, with ``image_size=28``
and ``backbone="resnet18"``; the 78 validation images are scored but never
used by the fits, and nothing is tuned on the test split. Test ROC AUC and
accuracy (threshold 0.5 on the malignant probability), mean +- std over the
seeds, and the wall time of ``fit``.

Rows (``--models`` picks among the library's):

- ``defaults``: ``ImageClassifier(backbone="resnet18", image_size=28,
  random_state=seed)``, every other parameter at its default (AdamW,
  warm-up + cosine schedule, label smoothing 0.1, 30 epochs, the light
  augmentation preset, and at 28 px the small-image ResNet stem: 3x3 first
  convolution of stride 1, no max-pooling).
- ``defaults + augment=False``: the same without augmentation (the default
  before the light preset).
- ``defaults + augment='ultrasound'``: the same with the ultrasound preset.
- ``defaults + augment=True``: the same with the generic preset (flips,
  rotation, brightness and contrast jitter).
- ``..., tta=True``: the same fitted models, predicting with the
  horizontal-flip test-time augmentation (no extra fit).
- ``previous defaults (torchvision stem, 15 epochs)``: the settings before
  the training recipe and the stem changed (torchvision's 7x7 stride-2 stem
  and max-pooling, Adam, constant lr 1e-3, batch 32, no weight decay, no
  augmentation, no label smoothing), 15 epochs.
- ``plain PyTorch, MedMNIST recipe`` (``--plain-loop``): a hand-written loop,
  torchvision ResNet-18 with MedMNIST's 28 px stem (1-channel 3x3 first
  convolution of stride 1, no max-pooling), Adam lr 1e-3, batch 128,
  cross-entropy, lr x0.1 at 50% and 75% of ``--plain-epochs`` (100 in
  MedMNIST v2), inputs scaled to [-1, 1], no augmentation. MedMNIST v2
  reports ResNet-18 (28): AUC 0.901, ACC 0.863 (one run).

Run from the repository root::

    python benchmarks/bench_breastmnist.py --data-home /work/shared/data
    python benchmarks/bench_breastmnist.py --quick    # smoke run: 1 seed, 2 epochs

Writes ``breastmnist.md`` (the table) and ``breastmnist.csv`` (one row per
model and seed) in ``--output-dir`` (default ``benchmarks/results/``).
"""

import argparse
import csv
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _scores(y, proba):
    from sklearn.metrics import accuracy_score, roc_auc_score

    return roc_auc_score(y, proba), accuracy_score(y, (proba >= 0.5).astype(int))


#: The library's rows: name -> ImageClassifier parameters (besides image_size=28,
#: backbone="resnet18" and random_state), and whether a tta=True row follows.
LIBRARY_MODELS = {
    "defaults": ({}, True),
    "defaults + augment=False": ({"augment": False}, True),
    "defaults + augment='ultrasound'": ({"augment": "ultrasound"}, True),
    "defaults + augment=True": ({"augment": True}, True),
    "previous defaults (torchvision stem, 15 epochs)": (dict(
        backbone_params={"stem": "imagenet"}, max_epochs=15, batch_size=32, lr=1e-3,
        optimizer="adam", weight_decay=0.0, lr_schedule=None, label_smoothing=0.0,
        augment=False), False),
}


def _library_rows(data, seed, names, epochs=None):
    """Fit the library's models named in ``names``; yield result rows."""
    from skmultimodal import ImageClassifier

    for name in names:
        params, with_tta = LIBRARY_MODELS[name]
        params = dict(params, **({} if epochs is None else {"max_epochs": epochs}))
        clf = ImageClassifier(backbone="resnet18", image_size=28, random_state=seed, **params)
        start = time.perf_counter()
        clf.fit(*data["train"])
        fit_s = time.perf_counter() - start
        for label, tta in [(name, False)] + ([(f"{name}, tta=True", True)] if with_tta else []):
            clf.set_params(tta=tta)
            row = {"model": label, "seed": seed, "epochs": clf.max_epochs,
                   "fit_s": round(fit_s, 1)}
            for split in ("val", "test"):
                X, y = data[split]
                auc, acc = _scores(y, clf.predict_proba(X)[:, 1])
                row[f"{split}_auc"], row[f"{split}_acc"] = round(auc, 4), round(acc, 4)
            yield row


def _plain_loop_row(data, seed, epochs):
    """The MedMNIST v2 recipe in a hand-written PyTorch loop."""
    import torch
    import torchvision

    torch.manual_seed(seed)
    net = torchvision.models.resnet18(num_classes=2)
    # MedMNIST's ResNet-18 for 28 px images: 3x3 first convolution, no max-pooling
    net.conv1 = torch.nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = torch.nn.Identity()

    def tensor(X):
        if hasattr(X, "iloc"):  # a DataFrame of image cells
            X = np.stack(X.iloc[:, 0].to_list())
        return torch.from_numpy(np.asarray(X, dtype=np.float32) / 127.5 - 1.0)[:, None]

    X, y = tensor(data["train"][0]), torch.as_tensor(data["train"][1])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    milestones = [int(0.5 * epochs), int(0.75 * epochs)]
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), 128):
            rows = order[i:i + 128]
            if len(rows) < 2:
                continue
            optimizer.zero_grad()
            loss_fn(net(X[rows]), y[rows]).backward()
            optimizer.step()
        scheduler.step()
    fit_s = time.perf_counter() - start
    net.eval()
    row = {"model": f"plain PyTorch, MedMNIST recipe ({epochs} epochs)", "seed": seed,
           "epochs": epochs, "fit_s": round(fit_s, 1)}
    with torch.no_grad():
        for split in ("val", "test"):
            Xs, ys = data[split]
            proba = torch.softmax(net(tensor(Xs)), dim=1)[:, 1].numpy()
            auc, acc = _scores(ys, proba)
            row[f"{split}_auc"], row[f"{split}_acc"] = round(auc, 4), round(acc, 4)
    return row


def _run_task(task, data, epochs, plain_epochs, threads):
    """The result rows of one seed and model: the library's, or the plain loop."""
    import torch

    torch.set_num_threads(threads)
    seed, kind = task
    rows = (_library_rows(data, seed, [kind], epochs) if kind in LIBRARY_MODELS
            else [_plain_loop_row(data, seed, epochs or plain_epochs)])
    done = []
    for row in rows:  # printed as soon as each model is scored
        print(row, flush=True)
        done.append(row)
    return done


def _summary(rows):
    """Markdown table of mean +- std per model, in the order first seen."""
    names = list(dict.fromkeys(r["model"] for r in rows))
    lines = ["| model | epochs | seeds | test ROC AUC | test accuracy | val ROC AUC | "
             "val accuracy | fit time (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in names:
        sub = [r for r in rows if r["model"] == name]

        def ms(key, digits=3):
            v = np.array([r[key] for r in sub], dtype=float)
            return f"{v.mean():.{digits}f} ± {v.std(ddof=1) if len(v) > 1 else 0:.{digits}f}"

        lines.append(f"| {name} | {sub[0]['epochs']} | {len(sub)} | {ms('test_auc')} | "
                     f"{ms('test_acc')} | {ms('val_auc')} | {ms('val_acc')} | "
                     f"{ms('fit_s', 0)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder of the data sets (default: $SKMULTIMODAL_DATA)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(LIBRARY_MODELS),
                        choices=list(LIBRARY_MODELS), metavar="MODEL",
                        help=f"library rows to fit (default: all of {list(LIBRARY_MODELS)})")
    parser.add_argument("--plain-loop", action="store_true",
                        help="also run the hand-written PyTorch loop (MedMNIST recipe)")
    parser.add_argument("--plain-epochs", type=int, default=100)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="seeds fitted in parallel processes (fit times then "
                             "include the contention)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: first seed, 2 epochs, results not written")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    import torch

    from skmultimodal.datasets import load_breastmnist

    torch.set_num_threads(args.torch_threads)
    if args.data_home:
        os.environ["SKMULTIMODAL_DATA"] = str(args.data_home)
    data = {s: load_breastmnist(split=s, return_X_y=True) for s in ("train", "val", "test")}
    seeds = args.seeds[:1] if args.quick else args.seeds
    epochs = 2 if args.quick else None
    tasks = [(seed, name) for name in args.models for seed in seeds]
    if args.plain_loop:
        tasks += [(seed, "plain") for seed in seeds]
    run = partial(_run_task, data=data, epochs=epochs, plain_epochs=args.plain_epochs,
                  threads=args.torch_threads)
    if args.n_jobs == 1:
        results = map(run, tasks)
    else:
        from concurrent.futures import ProcessPoolExecutor

        results = ProcessPoolExecutor(args.n_jobs).map(run, tasks)
    rows = [row for task_rows in results for row in task_rows]
    order = list(dict.fromkeys(r["model"] for r in rows))
    rows.sort(key=lambda r: (order.index(r["model"]), r["seed"]))
    table = _summary(rows)
    print(table)
    if args.quick:
        return
    args.output_dir.mkdir(parents=True, exist_ok=True)
    with open(args.output_dir / "breastmnist.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    command = "python benchmarks/bench_breastmnist.py " + " ".join(sys.argv[1:])
    (args.output_dir / "breastmnist.md").write_text(
        "# BreastMNIST, ResNet-18 at 28 px\n\n"
        f"Command: `{command.strip()}`; torch threads: {args.torch_threads} per "
        f"process, {args.n_jobs} process(es); "
        f"load average at the end: {load}; {os.cpu_count()} CPU cores, no GPU.\n"
        "Fitted on the 546 training images; mean ± std over seeds "
        f"{', '.join(map(str, seeds))}. Published (MedMNIST v2, ResNet-18 (28)): "
        "test AUC 0.901, accuracy 0.863.\n\n" + table + "\n"
    )


if __name__ == "__main__":
    main()
