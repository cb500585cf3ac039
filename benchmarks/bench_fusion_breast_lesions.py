"""Fusion benchmark on BrEaST-Lesions-USG: benign vs malignant, ultrasound + clinical.

Stand-in for studies 2 and 3 (intermediate fusion of an image branch with
tabular data; image + tabular late fusion and transfer). 252 patients, one
ultrasound image each, and the leakage-free clinical columns Age,
Tissue_composition, Signs and Symptoms (the BI-RADS descriptors are the
radiologist's reading of the same image and are never used).

Protocol: patient-level StratifiedGroupKFold(5, shuffle=True, random_state=0)
with groups = CaseID, the same folds for every model, scored by
``skmultimodal.model_selection.evaluate`` (ROC AUC, accuracy, balanced
accuracy, average precision; fold mean +- std and a percentile bootstrap CI
of the pooled out-of-fold metric).

Models (all settings fixed before the run; nothing is tuned, and no setting
was chosen from BrEaST test folds):

- clinical only: one-hot + median-imputed Age, LogisticRegression;
- image only: a small SimpleCNN (16-32-64-128 channels, one conv per block)
  trained from scratch on 64 px greyscale images with flips / rotations /
  jitter. The image-only network is an IntermediateFusionClassifier with the
  image modality alone (encoder + projection + head), because
  ImageClassifier cannot set ``backbone_params`` (see benchmarks/README.md);
- the same image network whose encoder was first trained on BUSI (benign vs
  malignant, a different cohort and hospital), loaded with
  ``ImageModality(weights=path)`` and fine-tuned on each training fold;
- late fusion (soft voting: mean of the image network's and the logistic
  regression's probabilities) and intermediate fusion (image encoder +
  clinical MLP, concatenated embeddings, trained end to end), each with the
  scratch and the BUSI-pretrained encoder.

Images are decoded once, converted to greyscale and resized to the network
size before cross-validation (a deterministic per-image step with no
learnt parameters), so each epoch does not decode ~500x500 PNGs again.

Run from the repository root::

    python benchmarks/bench_fusion_breast_lesions.py            # full run
    python benchmarks/bench_fusion_breast_lesions.py --quick    # smoke run
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
from PIL import Image
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fusion_metabric import (  # noqa: E402
    default_data_home,
    frame_to_markdown,
    paired_differences,
)

from skmultimodal import (  # noqa: E402
    ImageModality,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    TabularModality,
)
from skmultimodal.datasets import load_breast_lesions_usg, load_busi  # noqa: E402
from skmultimodal.model_selection import EvaluationReport, evaluate  # noqa: E402

SCORING = ["roc_auc", "accuracy", "balanced_accuracy", "average_precision"]
SEED = 0
CLINICAL = ["Age", "Tissue_composition", "Signs", "Symptoms"]
CATEGORICAL = ["Tissue_composition", "Signs", "Symptoms"]
# A small SimpleCNN: affordable on two busy CPU cores (see benchmarks/README.md).
SMALL_CNN = {"channels": (16, 32, 64, 128), "convs_per_block": 1}
README_BASELINES = {"LR clinical": 0.786, "CNN image, scratch": 0.688,
                    "Late fusion soft, scratch CNN + LR": 0.776}
METRIC_FUNCS = {
    "roc_auc": roc_auc_score,
    "average_precision": average_precision_score,
    "balanced_accuracy": lambda y, p: balanced_accuracy_score(y, p >= 0.5),
}


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 80 patients, 32 px, 2 epochs, 120 BUSI images")
    p.add_argument("--output-dir", type=Path, default=here / "results")
    p.add_argument("--data-home", default=None,
                   help="folder holding breast_lesions_usg/ and busi_256/")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--busi-epochs", type=int, default=20)
    p.add_argument("--no-busi", action="store_true",
                   help="leave out the BUSI-pretrained variants")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--n-bootstrap", type=int, default=None)
    return p.parse_args(argv)


def load_images(paths, size):
    """Greyscale uint8 arrays of size x size (aspect ratio not kept)."""
    out = []
    for path in paths:
        with Image.open(path) as im:
            out.append(np.asarray(im.convert("L").resize((size, size),
                                                         Image.BILINEAR)))
    return pd.Series(out, dtype=object)


def image_modality(size, weights=None):
    return ImageModality("image", backbone="simple_cnn", weights=weights,
                         image_size=size, channels=1, augment=True,
                         backbone_params=dict(SMALL_CNN))


def image_net(size, epochs, weights=None, random_state=SEED):
    """Image-only network: SimpleCNN encoder, projection and head."""
    return IntermediateFusionClassifier(
        [("image", image_modality(size, weights))], embed_dim=32,
        head_hidden_sizes=(32,), dropout=0.3, max_epochs=epochs, batch_size=32,
        lr=1e-3, random_state=random_state)


def clinical_lr():
    pre = ColumnTransformer([
        ("age", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         ["Age"]),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         CATEGORICAL),
    ])
    return make_pipeline(pre, LogisticRegression(max_iter=5000))


def intermediate(size, epochs, weights=None):
    return IntermediateFusionClassifier(
        [("image", image_modality(size, weights)),
         ("clinical", TabularModality(CLINICAL, impute="median", categorical=CATEGORICAL,
                                      hidden_layer_sizes=(16,), dropout=0.1))],
        embed_dim=32, head_hidden_sizes=(32,), dropout=0.3, max_epochs=epochs,
        batch_size=32, lr=1e-3, random_state=SEED)


def late(size, epochs, weights=None):
    return LateFusionClassifier(
        [("image", image_net(size, epochs, weights), ["image"]),
         ("clinical", clinical_lr(), CLINICAL)], voting="soft")


def pretrain_on_busi(data_home, size, epochs, quick, path):
    """Train the image network on BUSI benign vs malignant; save its encoder."""
    busi = load_busi(data_home=data_home, classes=("benign", "malignant"))
    X, y = busi.data, busi.target
    if quick:
        keep, _ = train_test_split(np.arange(len(y)), train_size=120, stratify=y,
                                   random_state=SEED)
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]
    t0 = time.time()
    frame = pd.DataFrame({"image": load_images(X["image_path"], size)})
    clf = image_net(size, epochs).fit(frame, y)
    torch.save(clf.net_.module_.encoders["image"].net.state_dict(), path)
    train_acc = float(np.mean(clf.predict(frame) == y))
    return time.time() - t0, len(y), train_acc


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    size = 32 if args.quick else args.image_size
    epochs = 2 if args.quick else args.epochs
    busi_epochs = 1 if args.quick else args.busi_epochs
    n_boot = args.n_bootstrap if args.n_bootstrap is not None else (200 if args.quick
                                                                       else 1000)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    prefix = "breast_lesions_quick" if args.quick else (
        "breast_lesions" if size == 64 else f"breast_lesions_{size}px")
    data_home = default_data_home(args.data_home)
    t_start = time.time()

    bunch = load_breast_lesions_usg(data_home=data_home)
    data, y, groups = bunch.data, bunch.target, bunch.groups
    if args.quick:
        keep, _ = train_test_split(np.arange(len(y)), train_size=80, stratify=y,
                                   random_state=SEED)
        keep = np.sort(keep)
        data, y, groups = data.iloc[keep].reset_index(drop=True), y[keep], groups[keep]
    t0 = time.time()
    X = pd.concat([pd.DataFrame({"image": load_images(data["image_path"], size)}),
                   data[CLINICAL].reset_index(drop=True)], axis=1)
    t_decode = time.time() - t0
    print(f"BrEaST-Lesions-USG benign vs malignant: {len(y)} patients "
          f"({int(y.sum())} malignant); images {size} px greyscale (decoded in "
          f"{t_decode:.1f} s); clinical {CLINICAL}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPU(s), python "
          f"{platform.python_version()}, torch {torch.__version__} with "
          f"{torch.get_num_threads()} thread(s), CUDA available: "
          f"{torch.cuda.is_available()}")

    models = {
        "LR clinical": clinical_lr(),
        "CNN image, scratch": image_net(size, epochs),
        "Late fusion soft, scratch CNN + LR": late(size, epochs),
        "Intermediate fusion, scratch CNN": intermediate(size, epochs),
    }
    busi_note = "BUSI-pretrained variants left out (--no-busi)."
    tmp = tempfile.TemporaryDirectory()
    times = {}
    if not args.no_busi:
        weights = os.path.join(tmp.name, "busi_simple_cnn_encoder.pt")
        t_busi, n_busi, acc_busi = pretrain_on_busi(data_home, size, busi_epochs,
                                                    args.quick, weights)
        times["(BUSI pretraining, once)"] = t_busi
        busi_note = (f"BUSI pretraining: the same image network trained on {n_busi} BUSI "
                     f"images (benign vs malignant, {busi_epochs} epochs) in "
                     f"{t_busi:.0f} s (training accuracy {acc_busi:.3f}); its encoder "
                     "state dict initialises the '(BUSI init)' models, which are then "
                     "fine-tuned on each BrEaST training fold. BUSI and BrEaST are "
                     "different cohorts, so no BrEaST patient is seen in pretraining.")
        print(busi_note, flush=True)
        models.update({
            "CNN image, BUSI init": image_net(size, epochs, weights),
            "Late fusion soft, BUSI-init CNN + LR": late(size, epochs, weights),
            "Intermediate fusion, BUSI-init CNN": intermediate(size, epochs, weights),
        })

    cv = StratifiedGroupKFold(5, shuffle=True, random_state=SEED)
    reports = []
    for name, est in models.items():
        t0 = time.time()
        rep = evaluate({name: est}, X, y, groups=groups, cv=cv, scoring=SCORING,
                       n_bootstrap=n_boot, random_state=SEED)
        times[name] = time.time() - t0
        reports.append(rep)
        means = rep.pivot().loc[name]
        print(f"  {name:<38s} {times[name]:7.1f} s   "
              + "  ".join(f"{m} {means[m]:.3f}" for m in rep.metrics), flush=True)
    tmp.cleanup()
    report = EvaluationReport.concat(reports)
    total = time.time() - t_start

    single = [m for m in report.models if m.startswith(("LR clinical", "CNN image"))]
    fusion = [m for m in report.models if m not in single]
    table = report.pivot()
    best_single = table.loc[single, "roc_auc"].idxmax()
    diffs = paired_differences(report, fusion, best_single, n_boot,
                               metric_funcs=METRIC_FUNCS)
    base = pd.DataFrame([{"model": m, "metric": "roc_auc", "README": v,
                          "measured (fold mean)": table.loc[m, "roc_auc"]}
                         for m, v in README_BASELINES.items() if m in table.index])
    timing = pd.DataFrame({"model": list(times),
                           "wall_s": [round(t, 1) for t in times.values()]})
    md = report.to_markdown(digits=3)
    settings = (f"Settings fixed before the run, none tuned: images {size} px greyscale, "
                f"SimpleCNN {SMALL_CNN} from scratch unless 'BUSI init', augmentation "
                f"(flips, rotation, brightness/contrast), AdamW lr 1e-3, batch 32, "
                f"{epochs} epochs, embed_dim 32, head (32,), dropout 0.3; clinical MLP "
                "(16,) in intermediate fusion; LogisticRegression (C=1) on one-hot "
                "categories + median-imputed, scaled Age.")
    print("\n" + md)
    print(settings)
    print(busi_note)
    print(f"\nPooled out-of-fold difference vs the best single-modality model by ROC "
          f"AUC ({best_single}), paired bootstrap 95% CI ({n_boot} resamples):")
    print(diffs.to_string(index=False, float_format="%.4f"))
    if len(base):
        print("\nData README baselines (ROC AUC) vs this run:")
        print(base.to_string(index=False, float_format="%.3f"))
    print("\nWall time per model (s, 5 folds incl. prediction and bootstrap):")
    print(timing.to_string(index=False))
    print(f"total wall time: {total:.1f} s")

    report.to_csv(out / f"{prefix}_summary.csv")
    report.to_csv(out / f"{prefix}_folds.csv", which="folds")
    diffs.to_csv(out / f"{prefix}_fusion_vs_best_single.csv", index=False)
    timing.to_csv(out / f"{prefix}_times.csv", index=False)
    report.plot_roc(path=out / f"{prefix}_roc.png",
                    title="BrEaST-Lesions-USG benign vs malignant, out-of-fold ROC")
    cmd = "python benchmarks/bench_fusion_breast_lesions.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    with open(out / f"{prefix}.md", "w") as fh:
        fh.write(f"# BrEaST-Lesions-USG benign vs malignant: fusion benchmark\n\n"
                 f"Command: `{cmd.strip()}`  \n"
                 f"{len(y)} patients ({int(y.sum())} malignant), one image each; "
                 f"patient-level StratifiedGroupKFold(5, shuffle=True, random_state=0).  \n"
                 f"Cells: fold mean ± std [95% bootstrap CI of the pooled out-of-fold "
                 f"metric, {n_boot} resamples].  \n"
                 f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s), torch "
                 f"{torch.__version__}, {torch.get_num_threads()} torch thread(s), CUDA: "
                 f"{torch.cuda.is_available()}. Total wall time {total:.0f} s.\n\n")
        fh.write(md + "\n" + settings + "\n\n" + busi_note + "\n\n")
        fh.write(f"Pooled out-of-fold difference vs the best single-modality model by "
                 f"ROC AUC (**{best_single}**), paired bootstrap 95% CI:\n\n")
        fh.write(frame_to_markdown(diffs) + "\n")
        if len(base):
            fh.write("Data README baselines (ROC AUC; its image baseline is a ResNet-18 "
                     "at 96 px) vs this run:\n\n" + frame_to_markdown(base, 3) + "\n")
        fh.write("Wall time per model (5 folds, incl. prediction and bootstrap):\n\n")
        fh.write(frame_to_markdown(timing, 1) + "\n")
    print(f"written to {out}/{prefix}*")


if __name__ == "__main__":
    main()
