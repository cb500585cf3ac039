"""Self-supervised pretraining benchmark: SimCLR on unlabelled ultrasound images,
transferred to BrEaST-Lesions-USG (benign vs malignant, image only).

Question: when ImageNet weights cannot be downloaded, does an encoder learnt
without labels from other ultrasound images (ContrastivePretrainer) help a
small labelled set more than training from scratch, and how does it compare
with supervised transfer from a labelled cohort?

Protocol: the folds, network and training settings of
``bench_fusion_breast_lesions.py`` (its helpers are imported): 252 patients,
patient-level StratifiedGroupKFold(5, shuffle=True, random_state=0); the
image-only network is a SimpleCNN (16-32-64-128 channels, one conv per
block) on 64 px greyscale images with its augmentation, embed_dim 32, head
(32,), dropout 0.3, AdamW lr 1e-3, batch 32, 15 epochs, scored by
``skmultimodal.model_selection.evaluate`` (fold mean +- std, percentile
bootstrap CI of the pooled out-of-fold metric) and paired bootstrap
intervals of the pooled differences to the scratch model.

Encoders compared (everything else identical; all settings fixed before
the run, nothing tuned on BrEaST):

(a) scratch: random initialisation;
(b) BUSI supervised: the same network trained on BUSI benign vs malignant
    (647 labelled images, 20 epochs), its encoder loaded with ``weights=path``;
(c) self-supervised: ``ContrastivePretrainer`` fitted on the images pooled
    from BUSI (all 780, benign, malignant and normal) and BreastMNIST (all
    780, every split) without their labels, handed over as
    ``weights=pretrainer``.

No BrEaST image is seen in pretraining. Run from the repository root::

    python benchmarks/bench_pretraining.py --data-home /work/shared/data
    python benchmarks/bench_pretraining.py --quick     # smoke run
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, machine_info  # noqa: E402
from bench_fusion_breast_lesions import (  # noqa: E402
    METRIC_FUNCS,
    SCORING,
    SEED,
    SMALL_CNN,
    image_net,
    load_images,
    pretrain_on_busi,
)
from bench_fusion_metabric import (  # noqa: E402
    default_data_home,
    frame_to_markdown,
    paired_differences,
)

from skmultimodal.datasets import (  # noqa: E402
    load_breast_lesions_usg,
    load_breastmnist,
    load_busi,
)
from skmultimodal.model_selection import EvaluationReport, evaluate  # noqa: E402
from skmultimodal.pretraining import ContrastivePretrainer  # noqa: E402

SCRATCH = "CNN image, scratch"
BUSI = "CNN image, BUSI supervised init"
SSL = "CNN image, self-supervised init"


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 80 patients, 32 px, 2 epochs, 240 unlabelled images")
    p.add_argument("--output-dir", type=Path, default=here / "results")
    p.add_argument("--data-home", default=None,
                   help="folder holding breast_lesions_usg/, busi_256/ and breastmnist/")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--busi-epochs", type=int, default=20)
    p.add_argument("--ssl-epochs", type=int, default=30)
    p.add_argument("--ssl-batch-size", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--n-bootstrap", type=int, default=None)
    return p.parse_args(argv)


def unlabelled_images(data_home, size, quick):
    """BUSI (every class) and BreastMNIST (every split) images; labels dropped."""
    busi = load_busi(data_home=data_home)
    paths = list(busi.data["image_path"])
    mnist = list(load_breastmnist(data_home=data_home, download_if_missing=False)
                 .data["image"])
    if quick:
        paths, mnist = paths[::7][:120], mnist[::7][:120]
    images = list(load_images(paths, size)) + mnist  # BreastMNIST: 28 px, resized in fit
    return pd.DataFrame({"image": pd.Series(images, dtype=object)}), len(paths), len(mnist)


def pretrainer(size, epochs, batch_size, temperature):
    """The self-supervised pretrainer of the image network's encoder."""
    return ContrastivePretrainer(
        "image", backbone="simple_cnn", backbone_params=dict(SMALL_CNN), image_size=size,
        channels=1, augment="ultrasound", temperature=temperature, max_epochs=epochs,
        batch_size=batch_size, lr=1e-3, weight_decay=1e-4, random_state=SEED)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    size = 32 if args.quick else args.image_size
    epochs = 2 if args.quick else args.epochs
    busi_epochs = 1 if args.quick else args.busi_epochs
    ssl_epochs = 2 if args.quick else args.ssl_epochs
    n_boot = args.n_bootstrap if args.n_bootstrap is not None else (200 if args.quick
                                                                       else 1000)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    prefix = "pretraining_quick" if args.quick else "pretraining"
    data_home = default_data_home(args.data_home)
    t_start = time.time()
    info = machine_info(torch.get_num_threads())

    bunch = load_breast_lesions_usg(data_home=data_home)
    data, y, groups = bunch.data, bunch.target, bunch.groups
    if args.quick:
        keep, _ = train_test_split(np.arange(len(y)), train_size=80, stratify=y,
                                   random_state=SEED)
        keep = np.sort(keep)
        data, y, groups = data.iloc[keep].reset_index(drop=True), y[keep], groups[keep]
    X = pd.DataFrame({"image": load_images(data["image_path"], size)})
    print(f"BrEaST-Lesions-USG benign vs malignant: {len(y)} patients "
          f"({int(y.sum())} malignant); images {size} px greyscale")
    print(f"machine: {info}", flush=True)

    # (c) self-supervised pretraining on unlabelled images
    pool, n_busi_pool, n_mnist_pool = unlabelled_images(data_home, size, args.quick)
    ssl = pretrainer(size, ssl_epochs, min(args.ssl_batch_size, len(pool)),
                     args.temperature)
    with Timer() as t_ssl:
        ssl.fit(pool)  # no y: labels are never read
    curve = ssl.loss_curve_
    ssl_note = (f"Self-supervised pretraining: ContrastivePretrainer (SimCLR, NT-Xent, "
                f"temperature {args.temperature}, projection 128, augment='ultrasound', "
                f"AdamW lr 1e-3 with warm-up and cosine decay, weight decay 1e-4, batch "
                f"{ssl.batch_size}, {ssl_epochs} epochs) on {len(pool)} unlabelled images "
                f"({n_busi_pool} BUSI of every class + {n_mnist_pool} BreastMNIST of every "
                f"split; labels never read), same encoder as the image network "
                f"(SimpleCNN {SMALL_CNN}, 1 channel, {size} px): wall time "
                f"{t_ssl.seconds:.0f} s ({t_ssl.cpu_seconds:.0f} s CPU), "
                f"{t_ssl.seconds / ssl_epochs:.1f} s per epoch; NT-Xent loss "
                f"{curve[0]:.3f} (epoch 1) -> {curve[-1]:.3f} (epoch {len(curve)}).")
    print(ssl_note, flush=True)

    tmp = tempfile.TemporaryDirectory()
    ssl_path = ssl.save(os.path.join(tmp.name, "ssl_simple_cnn_encoder.pt"))
    # (b) supervised transfer from BUSI (the helper of the fusion benchmark)
    busi_path = os.path.join(tmp.name, "busi_simple_cnn_encoder.pt")
    t_busi, n_busi, acc_busi = pretrain_on_busi(data_home, size, busi_epochs, args.quick,
                                                busi_path)
    busi_note = (f"BUSI supervised pretraining: the image network trained on {n_busi} BUSI "
                 f"images (benign vs malignant, {busi_epochs} epochs) in {t_busi:.0f} s "
                 f"(training accuracy {acc_busi:.3f}); its encoder state dict initialises "
                 f"'{BUSI}'.")
    print(busi_note, flush=True)
    same = all(torch.equal(a, b) for a, b in zip(
        torch.load(ssl_path, weights_only=True).values(),
        ssl.pretrained_state_dict().values()))

    models = {
        SCRATCH: image_net(size, epochs),
        BUSI: image_net(size, epochs, busi_path),
        SSL: image_net(size, epochs, ssl),  # weights= the fitted pretrainer itself
    }
    times = {"(self-supervised pretraining, once)": t_ssl.seconds,
             "(BUSI supervised pretraining, once)": t_busi}
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=SEED)
    reports = []
    for name, est in models.items():
        t0 = time.time()
        rep = evaluate({name: est}, X, y, groups=groups, cv=cv, scoring=SCORING,
                       n_bootstrap=n_boot, random_state=SEED)
        times[name] = time.time() - t0
        reports.append(rep)
        means = rep.pivot().loc[name]
        print(f"  {name:<34s} {times[name]:7.1f} s   "
              + "  ".join(f"{m} {means[m]:.3f}" for m in rep.metrics), flush=True)
    tmp.cleanup()
    report = EvaluationReport.concat(reports)
    diffs = paired_differences(report, [BUSI, SSL], SCRATCH, n_boot,
                               metric_funcs=METRIC_FUNCS)
    total = time.time() - t_start
    timing = pd.DataFrame({"step": list(times),
                           "wall_s": [round(t, 1) for t in times.values()]})
    losses = pd.DataFrame(ssl.history_)[["epoch", "loss", "lr", "dur"]]
    md = report.to_markdown(digits=3)
    settings = (f"Fine-tuning settings (those of bench_fusion_breast_lesions.py, fixed "
                f"before the run): images {size} px greyscale, SimpleCNN {SMALL_CNN}, "
                f"augmentation (flips, rotation, brightness/contrast), AdamW lr 1e-3, "
                f"batch 32, {epochs} epochs, embed_dim 32, head (32,), dropout 0.3; the "
                "encoder is fine-tuned on every training fold in each variant.")
    print("\n" + md)
    print(settings)
    print(f"\nPooled out-of-fold difference vs '{SCRATCH}', paired bootstrap 95% CI "
          f"({n_boot} resamples):")
    print(diffs.to_string(index=False, float_format="%.4f"))
    print("\nWall time (s):")
    print(timing.to_string(index=False))
    print(f"saved encoder file loads the same tensors: {same}")
    print(f"total wall time: {total:.1f} s")

    report.to_csv(out / f"{prefix}.csv")
    report.to_csv(out / f"{prefix}_folds.csv", which="folds")
    diffs.to_csv(out / f"{prefix}_vs_scratch.csv", index=False)
    timing.to_csv(out / f"{prefix}_times.csv", index=False)
    losses.to_csv(out / f"{prefix}_ssl_loss.csv", index=False)
    cmd = "python benchmarks/bench_pretraining.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    shown = losses.iloc[np.unique(np.linspace(0, len(losses) - 1, 6).round().astype(int))]
    with open(out / f"{prefix}.md", "w") as fh:
        fh.write(f"# Self-supervised pretraining: transfer to BrEaST-Lesions-USG "
                 f"(image only)\n\n"
                 f"Command: `{cmd.strip()}`  \n"
                 f"{len(y)} patients ({int(y.sum())} malignant), one image each; "
                 f"patient-level StratifiedGroupKFold(5, shuffle=True, random_state=0), "
                 f"the folds of bench_fusion_breast_lesions.py.  \n"
                 f"Cells: fold mean ± std [95% bootstrap CI of the pooled out-of-fold "
                 f"metric, {n_boot} resamples].  \n"
                 f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s) shared with "
                 f"other jobs ({info['cpu']}), torch {torch.__version__}, "
                 f"{torch.get_num_threads()} torch thread(s), one process, CUDA: "
                 f"{torch.cuda.is_available()}. Total wall time {total:.0f} s "
                 f"({total / 60:.1f} min).\n\n")
        fh.write(md + "\n" + settings + "\n\n" + ssl_note + "\n\n" + busi_note + "\n\n")
        fh.write(f"Pooled out-of-fold difference vs **{SCRATCH}**, paired bootstrap 95% "
                 f"CI ({n_boot} resamples; `p_not_better`: share of resamples where the "
                 "model does not beat scratch):\n\n")
        fh.write(frame_to_markdown(diffs) + "\n")
        fh.write("NT-Xent loss of the self-supervised pretraining (mean per epoch; all "
                 f"epochs in {prefix}_ssl_loss.csv):\n\n" + frame_to_markdown(shown, 4)
                 + "\n")
        fh.write("Wall time (5 folds incl. prediction and bootstrap for the models):\n\n")
        fh.write(frame_to_markdown(timing, 1) + "\n")
    print(f"written to {out}/{prefix}*")


if __name__ == "__main__":
    main()
