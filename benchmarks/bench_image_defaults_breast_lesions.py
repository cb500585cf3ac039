"""The library's image defaults on BrEaST-Lesions-USG lesion crops (image only).

Benign vs malignant from one ultrasound image per patient (252 patients),
cropped to the shipped lesion mask plus 10% on every side
(``roi="mask", roi_margin=0.1``), 64 px greyscale. The question: does
``ImageClassifier`` with its default training recipe (AdamW, warm-up +
cosine learning rate, label smoothing 0.1, 30 epochs, batches of 32, the
batch-norm pass) do better than the fixed recipe of the other BrEaST
benchmarks (constant learning rate, no smoothing, 15 epochs)?

Rows (``--models`` picks among them; every setting was fixed before the run):

- ``CNN image, lesion crop``: the image-only network of
  ``bench_lesion_crops.py`` (SimpleCNN 16-32-64-128, one convolution per
  block, projection 32, head (32,), dropout 0.3, AdamW lr 1e-3 constant,
  15 epochs, generic augmentation); the reference.
- ``ImageClassifier(simple_cnn), lesion crop``: ``ImageClassifier`` with the
  same SimpleCNN, ``augment=True`` (the same generic augmentation) and every
  training parameter at its default.
- ``ImageClassifier(resnet18), lesion crop``: the same with
  ``backbone="resnet18"`` (at 64 px the small-image stem); the default
  backbone. About a quarter of an hour of CPU per fold.
- ``LR clinical``: logistic regression on the four clinical columns, the
  reference of the other BrEaST benchmarks.

Protocol: patient-level StratifiedGroupKFold(5, shuffle=True,
random_state=0), the folds of ``bench_fusion_breast_lesions.py``; scores by
``skmultimodal.model_selection.evaluate`` (fold mean +- std and the
percentile bootstrap CI of the pooled out-of-fold metric), and the paired
bootstrap interval of each ImageClassifier row against the reference network
and against LR clinical.

Run from the repository root::

    python benchmarks/bench_image_defaults_breast_lesions.py --quick
    python benchmarks/bench_image_defaults_breast_lesions.py --data-home /path/to/data
"""

import argparse
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fusion_breast_lesions import (  # noqa: E402
    CLINICAL,
    METRIC_FUNCS,
    SCORING,
    SEED,
    SMALL_CNN,
    clinical_lr,
)
from bench_fusion_metabric import (  # noqa: E402
    default_data_home,
    frame_to_markdown,
    paired_differences,
)
from bench_lesion_crops import ROI_MARGIN, image_net, load_full_images, load_masks  # noqa: E402

from skmultimodal import ImageClassifier  # noqa: E402
from skmultimodal.datasets import load_breast_lesions_usg  # noqa: E402
from skmultimodal.model_selection import EvaluationReport, evaluate  # noqa: E402

REFERENCE = "CNN image, lesion crop"
CLINICAL_REF = "LR clinical"


def image_classifier(backbone, size, epochs=None):
    """``ImageClassifier`` on the lesion crop, training parameters at their defaults."""
    params = dict(column="image", backbone=backbone, image_size=size, channels=1,
                  augment=True, roi="mask", roi_margin=ROI_MARGIN, cache_images=True,
                  random_state=SEED)
    if backbone == "simple_cnn":
        params["backbone_params"] = dict(SMALL_CNN)
    if epochs is not None:
        params["max_epochs"] = epochs
    return ImageClassifier(**params)


def models(size, quick):
    epochs = 2 if quick else None
    return {
        CLINICAL_REF: clinical_lr,
        REFERENCE: lambda: image_net(size, epochs or 15, crop=True),
        "ImageClassifier(simple_cnn), lesion crop":
            lambda: image_classifier("simple_cnn", size, epochs),
        "ImageClassifier(resnet18), lesion crop":
            lambda: image_classifier("resnet18", size, epochs),
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = list(models(64, False))
    p.add_argument("--models", nargs="+", default=names, choices=names, metavar="MODEL")
    p.add_argument("--quick", action="store_true", help="80 patients, 32 px, 2 epochs")
    p.add_argument("--data-home", default=None)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--n-bootstrap", type=int, default=None)
    p.add_argument("--output-dir", type=Path, default=Path(__file__).parent / "results")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    size = 32 if args.quick else args.image_size
    n_boot = args.n_bootstrap or (200 if args.quick else 1000)
    t_start = time.time()
    bunch = load_breast_lesions_usg(data_home=default_data_home(args.data_home))
    data, y, groups = bunch.data, bunch.target, bunch.groups
    if args.quick:
        keep = np.sort(train_test_split(np.arange(len(y)), train_size=80, stratify=y,
                                        random_state=SEED)[0])
        data, y, groups = data.iloc[keep], y[keep], groups[keep]
    data = data.reset_index(drop=True)
    X = pd.concat([pd.DataFrame({"image": load_full_images(data["image_path"]),
                                 "mask": load_masks(data["mask_path"])}),
                   data[CLINICAL]], axis=1)
    print(f"{len(y)} patients ({int(y.sum())} malignant); {platform.platform()}, "
          f"{os.cpu_count()} CPU(s), torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)", flush=True)

    cv = StratifiedGroupKFold(5, shuffle=True, random_state=SEED)
    makers = models(size, args.quick)
    reports, times = [], {}
    for name in args.models:
        t0 = time.time()
        rep = evaluate({name: makers[name]()}, X, y, groups=groups, cv=cv,
                       scoring=SCORING, n_bootstrap=n_boot, random_state=SEED)
        times[name] = round(time.time() - t0, 1)
        rep.estimators = None
        reports.append(rep)
        means = rep.pivot().loc[name]
        print(f"  {name:<42s} {times[name]:7.1f} s  "
              + "  ".join(f"{m} {means[m]:.3f}" for m in rep.metrics), flush=True)
    report = EvaluationReport.concat(reports)
    classifiers = [m for m in report.models if m.startswith("ImageClassifier")]
    diffs = pd.concat([
        paired_differences(report, classifiers, ref, n_boot, metric_funcs=METRIC_FUNCS)
        for ref in (REFERENCE, CLINICAL_REF) if ref in report.models and classifiers],
        ignore_index=True) if classifiers else pd.DataFrame()
    total = time.time() - t_start
    md = report.to_markdown(digits=3)
    print("\n" + md)
    if len(diffs):
        print(diffs.to_string(index=False, float_format="%.4f"))
    print(f"total wall time: {total:.0f} s")
    if args.quick:
        return
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    prefix = "image_defaults_breast_lesions" + ("" if size == 64 else f"_{size}px")
    report.to_csv(out / f"{prefix}_summary.csv")
    report.to_csv(out / f"{prefix}_folds.csv", which="folds")
    diffs.to_csv(out / f"{prefix}_differences.csv", index=False)
    timing = pd.DataFrame({"model": list(times), "wall_s": list(times.values())})
    cmd = "python benchmarks/bench_image_defaults_breast_lesions.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    with open(out / f"{prefix}.md", "w") as fh:
        fh.write("# BrEaST-Lesions-USG lesion crops: the library's image defaults\n\n"
                 f"Command: `{cmd.strip()}`  \n"
                 f"{len(y)} patients ({int(y.sum())} malignant); patient-level "
                 "StratifiedGroupKFold(5, shuffle=True, random_state=0), the folds of "
                 "bench_fusion_breast_lesions.py; crops `roi='mask', roi_margin=0.1`, "
                 f"{size} px greyscale.  \n"
                 f"Cells: fold mean ± std [95% bootstrap CI of the pooled out-of-fold "
                 f"metric, {n_boot} resamples].  \n"
                 f"Machine: {os.cpu_count()} CPU(s), torch {torch.__version__}, "
                 f"{torch.get_num_threads()} torch thread(s), one process; load average "
                 f"at the end {load}. Total wall time {total:.0f} s.\n\n")
        fh.write(md + "\n")
        if len(diffs):
            fh.write("Pooled out-of-fold difference of each ImageClassifier row against "
                     "the reference network and against LR clinical, paired bootstrap "
                     "95% CI:\n\n" + frame_to_markdown(diffs) + "\n")
        fh.write("Wall time per model (5 folds, incl. prediction and bootstrap):\n\n"
                 + frame_to_markdown(timing, 1) + "\n")
    print(f"written to {out}/{prefix}*")


if __name__ == "__main__":
    main()
