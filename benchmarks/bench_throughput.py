"""Training and inference throughput of the library against a plain PyTorch loop.

Two models are timed, each three ways, in the same process and alternating
(the order of the three rotates from one repeat to the next):

- ``library``: the estimator (``ImageClassifier`` with a ResNet-18, or
  ``IntermediateFusionClassifier`` with a ResNet-18 image encoder and an MLP
  on ten tabular columns), ``fit`` then ``predict_proba``;
- ``plain``: a hand-written PyTorch loop (``DataLoader``, Adam,
  cross-entropy) on the *same* torch module class with the same arguments,
  reading the same in-memory uint8 images and doing the same work per item
  (to float, resize with antialiasing, ImageNet normalisation);
- ``plain_prenorm``: the same loop on tensors normalised once beforehand, so
  that the cost of per-item preprocessing shows separately.

Same data, batch size, optimiser (Adam, same lr, no weight decay), epochs,
torch threads and device everywhere. The library ends ``fit`` with one extra
no-grad pass over the training set that recomputes batch-norm statistics
(``RecalibrateBatchNorm``); its time is measured by wrapping that callback
and is reported on its own, and the library/plain ratio is given with and
without it.

A second part measures decoding: reading + preprocessing the images from PNG
files, JPEG files and in-memory arrays (dataset iteration alone, no model),
and ``ImageClassifier`` training throughput from PNG paths vs arrays.

Every figure is the median of ``--repeats`` runs. Results go to
``benchmarks/results/throughput_<device>.csv``, ``decoding_<device>.csv``
and ``throughput.json``.

Usage::

    python benchmarks/bench_throughput.py                 # full run
    python benchmarks/bench_throughput.py --quick         # smoke run (< 1 min)
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms.v2 import functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RESULTS_DIR,
    PeakMemory,
    Timer,
    machine_info,
    markdown_table,
    median,
    synthetic_images,
    write_csv,
    write_images,
    write_json,
)

from skmultimodal import ImageClassifier  # noqa: E402
from skmultimodal.data._io import read_image  # noqa: E402
from skmultimodal.estimators import _callbacks  # noqa: E402
from skmultimodal.fusion import IntermediateFusionClassifier  # noqa: E402
from skmultimodal.modalities import ImageModality, TabularModality  # noqa: E402
from skmultimodal.nn import ImageClassifierModule  # noqa: E402
from skmultimodal.nn._fusion import IntermediateFusionNet  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
N_TABULAR = 10
SEED = 0

# -- timing of the batch-norm recalibration pass ----------------------------
_RECAL_SECONDS = []
_recal_original = _callbacks.RecalibrateBatchNorm.on_train_end


def _timed_recal(self, net, *args, **kwargs):
    timer = Timer(net.device)
    try:
        with timer:
            return _recal_original(self, net, *args, **kwargs)
    finally:
        _RECAL_SECONDS.append((timer.seconds, timer.cpu_seconds))


_callbacks.RecalibrateBatchNorm.on_train_end = _timed_recal


# -- data -------------------------------------------------------------------
def make_data(n, source_size):
    """RGB uint8 images (n, S, S, 3), balanced labels and a float table."""
    rng = np.random.RandomState(SEED)
    images = synthetic_images(n, source_size, channels=3, seed=SEED)
    y = np.arange(n) % 2
    tab = rng.normal(size=(n, N_TABULAR)).astype(np.float32)
    tab[:, :2] += y[:, None]
    return images, y, tab


def preprocess(arr, size):
    """uint8 (H, W, 3) array -> normalised float (3, size, size) tensor."""
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).float().div_(255.0)
    if tuple(t.shape[-2:]) != (size, size):
        t = TF.resize(t, [size, size], antialias=True)
    return TF.normalize(t, IMAGENET_MEAN, IMAGENET_STD)


class PlainDataset(Dataset):
    """Dict items ``{"image": tensor[, "tab": tensor]}``, preprocessed per item
    (``size`` given) or taken from a stack of prepared tensors (``size=None``)."""

    def __init__(self, images, y, size=None, tab=None):
        self.images, self.size, self.tab = images, size, tab
        self.y = torch.as_tensor(y, dtype=torch.long)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        image = self.images[i] if self.size is None else preprocess(self.images[i], self.size)
        x = {"image": image}
        if self.tab is not None:
            x["tab"] = self.tab[i]
        return x, self.y[i]


# -- the two models ---------------------------------------------------------
def image_module():
    return ImageClassifierModule(n_classes=2, encoder={
        "backbone": "resnet18", "weights": None, "in_channels": 3})


def fusion_specs():
    return [
        {"name": "image", "kind": "image", "backbone": "resnet18", "attention": None,
         "weights": None, "in_channels": 3, "freeze_backbone": False},
        {"name": "tab", "kind": "tabular", "in_features": N_TABULAR,
         "hidden_layer_sizes": (64,), "dropout": 0.1, "batch_norm": True,
         "activation": "relu"},
    ]


def fusion_module():
    return IntermediateFusionNet(n_classes=2, modalities=fusion_specs(), embed_dim=128,
                                 fusion="concat", head_hidden_sizes=(128,), dropout=0.2,
                                 modality_dropout=0.1)


def library_estimator(model, args, device):
    common = dict(max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  optimizer="adam", weight_decay=0.0, device=device, random_state=SEED,
                  recalibrate_bn=args.recalibrate_bn)
    if model == "image":
        return ImageClassifier(backbone="resnet18", weights=None,
                               image_size=args.image_size, channels=3,
                               normalize="imagenet", **common)
    return IntermediateFusionClassifier(
        modalities=[
            ("image", ImageModality("image", backbone="resnet18", weights=None,
                                    image_size=args.image_size, channels=3,
                                    normalize="imagenet")),
            ("tab", TabularModality([f"tab_{i}" for i in range(N_TABULAR)])),
        ],
        embed_dim=128, head_hidden_sizes=(128,), dropout=0.2, modality_dropout=0.1,
        **common)


def library_input(model, images, tab):
    if model == "image":
        return images
    frame = pd.DataFrame(tab, columns=[f"tab_{i}" for i in range(N_TABULAR)])
    frame.insert(0, "image", pd.Series(list(images), dtype=object))
    return frame


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# -- one timed run ----------------------------------------------------------
def run_library(model, data, args, device):
    images, y, tab = data
    X = library_input(model, images, tab)
    clf = library_estimator(model, args, device)
    del _RECAL_SECONDS[:]
    with PeakMemory(device) as mem, Timer(device) as t_fit:
        clf.fit(X, y)
    epochs_s = sum(h["dur"] for h in clf.net_.history)
    with Timer(device) as t_pred:
        proba = clf.predict_proba(X)
    recal = sum(r[0] for r in _RECAL_SECONDS)
    return dict(
        fit_s=t_fit.seconds, recal_s=recal, epochs_s=epochs_s,
        fit_cpu_s=t_fit.cpu_seconds, recal_cpu_s=sum(r[1] for r in _RECAL_SECONDS),
        predict_cpu_s=t_pred.cpu_seconds,
        setup_s=t_fit.seconds - epochs_s - recal, predict_s=t_pred.seconds,
        peak_rss_mib=mem.peak_rss_mib, rss_increase_mib=mem.rss_increase_mib,
        peak_cuda_mib=mem.peak_cuda_mib, last_loss=clf.net_.history[-1, "train_loss"],
        n_params=n_params(clf.net_.module_), proba_sum=float(proba[:, 1].sum()),
    )


def _to(xb, device):
    return {k: v.to(device, non_blocking=True) for k, v in xb.items()}


def run_plain(model, data, args, device, prenorm):
    images, y, tab = data
    n = len(y)
    cuda = str(device).startswith("cuda")
    # One-off preparation, outside the timed fit: normalising every image
    # once (plain_prenorm) and scaling the table.
    with Timer() as t_prep:
        if prenorm:
            stack = torch.stack([preprocess(im, args.image_size) for im in images])
            size = None
        else:
            stack, size = images, args.image_size
        tab_t = None
        if model == "fusion":
            tab_t = torch.as_tensor((tab - tab.mean(0)) / tab.std(0), dtype=torch.float32)
        dataset = PlainDataset(stack, y, size=size, tab=tab_t)
    with PeakMemory(device) as mem, Timer(device) as t_fit:
        torch.manual_seed(SEED)
        module = (image_module() if model == "image" else fusion_module()).to(device)
        optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
        batch_size = min(args.batch_size, n)
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(SEED),
                            drop_last=n > batch_size and n % batch_size == 1,
                            pin_memory=cuda)
        with Timer(device) as t_epochs:
            for _ in range(args.epochs):
                module.train()
                losses = []
                for xb, yb in loader:
                    optimizer.zero_grad(set_to_none=True)
                    loss = F.cross_entropy(module(**_to(xb, device)), yb.to(device))
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
        module.eval()
    with Timer(device) as t_pred, torch.no_grad():
        pred_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=False,
                                 pin_memory=cuda)
        proba = torch.cat([torch.softmax(module(**_to(xb, device)), dim=1).cpu()
                           for xb, _ in pred_loader]).numpy()
    return dict(
        fit_s=t_fit.seconds, recal_s=0.0, epochs_s=t_epochs.seconds,
        fit_cpu_s=t_fit.cpu_seconds, recal_cpu_s=0.0, predict_cpu_s=t_pred.cpu_seconds,
        setup_s=t_fit.seconds - t_epochs.seconds, prep_s=t_prep.seconds,
        predict_s=t_pred.seconds, peak_rss_mib=mem.peak_rss_mib,
        rss_increase_mib=mem.rss_increase_mib, peak_cuda_mib=mem.peak_cuda_mib,
        last_loss=float(np.mean(losses)), n_params=n_params(module),
        proba_sum=float(proba[:, 1].sum()),
    )


def run_config(config, model, data, args, device):
    if config == "library":
        return run_library(model, data, args, device)
    return run_plain(model, data, args, device, prenorm=config == "plain_prenorm")


CONFIGS = ("library", "plain", "plain_prenorm")


def throughput(args, device, data):
    """Alternating repeats of the three configurations for both models."""
    n = len(data[1])
    runs = []
    for model in ("image", "fusion"):
        # warm-up: lazy imports, allocator, kernels (not timed)
        small = tuple(d[: args.batch_size] for d in data)
        warm = argparse.Namespace(**{**vars(args), "epochs": 1})
        for config in CONFIGS:
            run_config(config, model, small, warm, device)
        for rep in range(args.repeats):
            order = CONFIGS[rep % 3:] + CONFIGS[:rep % 3]
            for config in order:
                res = run_config(config, model, data, args, device)
                res.update(model=model, config=config, repeat=rep, device=device)
                runs.append(res)
                print(f"  {model:6s} {config:13s} rep {rep}: fit {res['fit_s']:.2f} s "
                      f"(CPU {res['fit_cpu_s']:.2f} s; recal {res['recal_s']:.2f} s, "
                      f"CPU {res['recal_cpu_s']:.2f} s), predict {res['predict_s']:.2f} s "
                      f"(CPU {res['predict_cpu_s']:.2f} s), "
                      f"peak RSS {res['peak_rss_mib']:.0f} MiB", flush=True)
    return runs, summarise(runs, args, device, n)


def summarise(runs, args, device, n):
    """Medians over the repeats and library/plain ratios, one row per model and run."""
    summary = []
    for r in runs:
        r["fit_no_recal_s"] = r["fit_s"] - r["recal_s"]
        r["fit_no_recal_cpu_s"] = r["fit_cpu_s"] - r["recal_cpu_s"]
    for model in ("image", "fusion"):
        med = {}
        for config in CONFIGS:
            rs = [r for r in runs if r["model"] == model and r["config"] == config]
            med[config] = {k: median([r.get(k) for r in rs])
                           for k in ("fit_s", "recal_s", "epochs_s", "setup_s", "prep_s",
                                     "fit_no_recal_s", "fit_cpu_s", "recal_cpu_s",
                                     "fit_no_recal_cpu_s", "predict_cpu_s",
                                     "predict_s", "peak_rss_mib", "rss_increase_mib",
                                     "peak_cuda_mib", "last_loss", "n_params")}
        plain = med["plain"]
        for config in CONFIGS:
            m = med[config]
            summary.append(dict(
                device=device, model=model, config=config, n_images=n,
                image_size=args.image_size, epochs=args.epochs,
                batch_size=args.batch_size, threads=args.threads,
                repeats=args.repeats, n_params=m["n_params"],
                fit_s=m["fit_s"], recal_s=m["recal_s"], setup_s=m["setup_s"],
                epochs_s=m["epochs_s"], prep_s=m["prep_s"],
                train_img_s=n * args.epochs / m["fit_s"],
                train_img_s_no_recal=n * args.epochs / m["fit_no_recal_s"],
                predict_s=m["predict_s"], infer_img_s=n / m["predict_s"],
                ratio_train=plain["fit_s"] / m["fit_s"],
                ratio_train_no_recal=plain["fit_s"] / m["fit_no_recal_s"],
                ratio_infer=plain["predict_s"] / m["predict_s"],
                fit_cpu_s=m["fit_cpu_s"], recal_cpu_s=m["recal_cpu_s"],
                fit_no_recal_cpu_s=m["fit_no_recal_cpu_s"],
                predict_cpu_s=m["predict_cpu_s"],
                ratio_train_cpu=plain["fit_cpu_s"] / m["fit_cpu_s"],
                ratio_train_cpu_no_recal=plain["fit_cpu_s"] / m["fit_no_recal_cpu_s"],
                ratio_infer_cpu=plain["predict_cpu_s"] / m["predict_cpu_s"],
                peak_rss_mib=m["peak_rss_mib"], rss_increase_mib=m["rss_increase_mib"],
                peak_cuda_mib=m["peak_cuda_mib"], last_loss=m["last_loss"],
            ))
    return summary


# -- decoding ---------------------------------------------------------------
def decoding(args, device, data, folder):
    """Read / read+preprocess per source, and training from PNG paths vs arrays."""
    images, y, _ = data
    sources = {
        "array": list(images),
        "png": write_images(images, Path(folder) / "png", "png"),
        "jpeg": write_images(images, Path(folder) / "jpeg", "jpeg"),
    }
    modality = ImageModality(image_size=args.image_size, channels=3, normalize="imagenet")
    rows = []
    times = {}
    for rep in range(args.repeats):
        for name, cells in sources.items():
            with Timer() as t_read:
                for cell in cells:
                    read_image(cell)
            source = modality.make_source(cells)
            with Timer() as t_prep:
                for i in range(len(source)):
                    source[i]
            times.setdefault(name, []).append((t_read.seconds, t_prep.seconds,
                                               t_read.cpu_seconds, t_prep.cpu_seconds))
        # reference: the plain loop's per-item preprocessing of the arrays
        with Timer() as t_plain:
            for im in images:
                preprocess(im, args.image_size)
        times.setdefault("array (plain preprocess)", []).append(
            (0.0, t_plain.seconds, 0.0, t_plain.cpu_seconds))
    n = len(images)
    for name in times:
        read_s = median([t[0] for t in times[name]])
        prep_s = median([t[1] for t in times[name]])
        read_cpu = median([t[2] for t in times[name]])
        prep_cpu = median([t[3] for t in times[name]])
        rows.append(dict(device="cpu", part="dataset", source=name, n_images=n,
                         source_size=args.source_size, image_size=args.image_size,
                         read_us=1e6 * read_s / n, read_preprocess_us=1e6 * prep_s / n,
                         read_preprocess_img_s=n / prep_s,
                         read_cpu_us=1e6 * read_cpu / n,
                         read_preprocess_cpu_us=1e6 * prep_cpu / n))
    # training throughput from paths vs arrays (library ImageClassifier)
    fits = {"array": [], "png": []}
    fit_cpu = {"array": [], "png": []}
    inputs = {"array": images, "png": sources["png"]}
    for rep in range(args.repeats):
        for name in (("array", "png") if rep % 2 == 0 else ("png", "array")):
            clf = library_estimator("image", args, device)
            with Timer(device) as t_fit:
                clf.fit(inputs[name], y)
            fits[name].append(t_fit.seconds)
            fit_cpu[name].append(t_fit.cpu_seconds)
            print(f"  decoding: fit from {name:5s} rep {rep}: {t_fit.seconds:.2f} s "
                  f"(CPU {t_fit.cpu_seconds:.2f} s)", flush=True)
    for name, secs in fits.items():
        fit_s, cpu_s = median(secs), median(fit_cpu[name])
        rows.append(dict(device=device, part="training", source=name, n_images=n,
                         source_size=args.source_size, image_size=args.image_size,
                         epochs=args.epochs, fit_s=fit_s, fit_cpu_s=cpu_s,
                         train_img_s=n * args.epochs / fit_s,
                         train_img_cpu_s=n * args.epochs / cpu_s))
    return rows


# -- profile ----------------------------------------------------------------
def _category(filename):
    for key, name in (("/skorch/", "skorch (Python)"), ("/skmultimodal/", "skmultimodal (Python)"),
                      ("/torchvision/", "torchvision (Python)"),
                      ("/torch/utils/data/", "torch DataLoader (Python)"),
                      ("/torch/", "torch (Python)"), ("/sklearn/", "scikit-learn (Python)"),
                      ("/numpy/", "numpy (Python)"), ("/pandas/", "pandas (Python)")):
        if key in filename:
            return name
    if filename == "~":
        return "built-in / C (torch kernels)"
    return "other"


def profile_library(args, device, data, path):
    """cProfile (process CPU time) of one library fit per model, written to ``path``.

    Gives the CPU seconds spent in each package's Python code and in built-in
    (C) calls, and the functions with the most own time.
    """
    import cProfile
    import io
    import pstats

    lines = []
    for model in ("image", "fusion"):
        small = tuple(d[: args.batch_size] for d in data)
        run_library(model, small, argparse.Namespace(**{**vars(args), "epochs": 1}), device)
        X = library_input(model, data[0], data[2])
        clf = library_estimator(model, args, device)
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        clf.fit(X, data[1])
        prof.disable()
        stats = pstats.Stats(prof)
        total, by_cat = 0.0, {}
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
            total += tottime
            by_cat[_category(filename)] = by_cat.get(_category(filename), 0.0) + tottime
        lines.append(f"## {model}: fit on {len(data[1])} images, {args.epochs} epoch(s), "
                     f"{total:.2f} CPU s under the profiler")
        for cat, sec in sorted(by_cat.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {cat:32s} {sec:7.3f} s  {100 * sec / total:5.1f} %")
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(
            r"skorch|skmultimodal|torch/utils/data|torchvision", 25)
        lines.append(buf.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))
    return path


# -- main -------------------------------------------------------------------
def _recalibrate(text):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return int(text)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-images", type=int, default=512)
    p.add_argument("--image-size", type=int, default=64,
                   help="network input size (images are resized to it)")
    p.add_argument("--source-size", type=int, default=None,
                   help="size of the stored images (default: image size + 32)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: the CPU, then CUDA too when available")
    p.add_argument("--recalibrate-bn", type=_recalibrate, default=True,
                   help="the estimators' recalibrate_bn: true (default), false, or the "
                        "most batches of the final batch-norm pass")
    p.add_argument("--no-decoding", action="store_true", help="skip the decoding part")
    p.add_argument("--profile", action="store_true",
                   help="instead of timing, profile one library fit per model (cProfile, "
                        "CPU time) and write throughput_profile_<device>.txt")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 32 images of 32 px, 1 epoch, 3 repeats")
    p.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--tag", default="", help="suffix of the result file names")
    args = p.parse_args(argv)
    if args.quick:
        args.n_images, args.image_size, args.epochs = 32, 32, 1
        args.batch_size = min(args.batch_size, 16)
    if args.source_size is None:
        args.source_size = args.image_size + 32
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.device == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [args.device]
    info = machine_info(args.threads)
    print("machine:", info, flush=True)
    data = make_data(args.n_images, args.source_size)
    suffix = ("_quick" if args.quick else "") + args.tag
    start = time.perf_counter()
    all_summary, all_decoding, all_runs = [], [], []
    if args.profile:
        for device in devices:
            profile_library(args, device, data,
                            args.output_dir / f"throughput_profile_{device}{suffix}.txt")
        return
    for device in devices:
        print(f"throughput on {device}: {args.n_images} images {args.source_size} px -> "
              f"{args.image_size} px, {args.epochs} epochs, batch {args.batch_size}",
              flush=True)
        runs, summary = throughput(args, device, data)
        all_runs += runs
        all_summary += summary
        write_csv(summary, args.output_dir / f"throughput_{device}{suffix}.csv")
        if not args.no_decoding:
            with tempfile.TemporaryDirectory() as folder:
                rows = decoding(args, device, data, folder)
            all_decoding += rows
            write_csv(rows, args.output_dir / f"decoding_{device}{suffix}.csv")
    info["wall_s"] = time.perf_counter() - start
    info["command"] = " ".join(["python", "benchmarks/bench_throughput.py", *sys.argv[1:]])
    write_json({"machine": info, "settings": {k: str(v) for k, v in vars(args).items()},
                "summary": all_summary, "decoding": all_decoding, "runs": all_runs},
               args.output_dir / f"throughput{suffix}.json")
    print()
    print(markdown_table(all_summary, [
        ("device", "device", 0), ("model", "model", 0), ("config", "run", 0),
        ("fit_s", "fit s", 2), ("recal_s", "BN recal s", 2),
        ("train_img_s", "train img/s", 1), ("ratio_train", "lib/plain train", 3),
        ("ratio_train_no_recal", "lib/plain train w/o recal", 3),
        ("predict_s", "predict s", 2), ("infer_img_s", "infer img/s", 1),
        ("ratio_infer", "lib/plain infer", 3),
        ("fit_cpu_s", "fit CPU s", 2), ("recal_cpu_s", "BN recal CPU s", 2),
        ("ratio_train_cpu", "lib/plain train (CPU)", 3),
        ("ratio_train_cpu_no_recal", "lib/plain train w/o recal (CPU)", 3),
        ("predict_cpu_s", "predict CPU s", 2), ("ratio_infer_cpu", "lib/plain infer (CPU)", 3),
        ("peak_rss_mib", "peak RSS MiB", 0),
        ("rss_increase_mib", "RSS increase MiB", 0),
        ("peak_cuda_mib", "peak CUDA MiB", 0), ("last_loss", "last-epoch loss", 3),
    ]))
    if all_decoding:
        print()
        print(markdown_table([r for r in all_decoding if r["part"] == "dataset"], [
            ("source", "source", 0), ("read_us", "read us/img", 0),
            ("read_preprocess_us", "read+preprocess us/img", 0),
            ("read_preprocess_img_s", "img/s", 0), ("read_cpu_us", "read CPU us/img", 0),
            ("read_preprocess_cpu_us", "read+preprocess CPU us/img", 0)]))
        print()
        print(markdown_table([r for r in all_decoding if r["part"] == "training"], [
            ("device", "device", 0), ("source", "source", 0), ("fit_s", "fit s", 2),
            ("train_img_s", "train img/s", 1), ("fit_cpu_s", "fit CPU s", 2),
            ("train_img_cpu_s", "img per CPU s", 1)]))
    print(f"\ntotal wall time {info['wall_s']:.0f} s; results in {args.output_dir}")


if __name__ == "__main__":
    main()
