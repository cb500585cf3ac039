"""Lesion crops on BrEaST-Lesions-USG: whole image vs crop around the lesion mask.

Benign vs malignant from one ultrasound image per patient (252 patients) and
the four leakage-free clinical columns (Age, Tissue_composition, Signs,
Symptoms). Every image-based model is run twice: on the whole image, and
with ``ImageModality(roi="mask", roi_margin=0.1)``, which crops each image
to the bounding box of its shipped lesion mask plus 10% of the box's size on
every side before resizing it to the network size. One more image-only row
crops the same way and uses the ultrasound augmentation preset
(``augment="ultrasound"``) instead of the generic one.

Protocol and settings are those of ``bench_fusion_breast_lesions.py`` (its
helpers are reused): patient-level StratifiedGroupKFold(5, shuffle=True,
random_state=0) with groups = CaseID, the same folds for every model, 64 px
greyscale, the small SimpleCNN from scratch (16-32-64-128 channels, one conv
per block), augmentation, AdamW lr 1e-3, batch 32, 15 epochs, embed_dim 32,
head (32,), dropout 0.3; LogisticRegression on the clinical columns. Nothing
is tuned; no setting was chosen from the evaluation folds. Scores by
``skmultimodal.model_selection.evaluate`` (fold mean +- std, percentile
bootstrap CI of the pooled out-of-fold metric), and the paired bootstrap
interval of each fusion model against LR clinical.

One difference with the fusion benchmark: its images were resized to 64 px
before cross-validation; here the full-size greyscale images are kept in
memory (the crop needs them), and the library crops (or not) and resizes them
(``cache_images=True`` keeps the resized images of a fit, so that later epochs
do not resize them again; it does not change the results). The whole-image
rows therefore differ slightly from that benchmark's.

Heat in the lesion: for the two image-only models, Grad-CAM maps of every
out-of-fold image (from the model of the fold that held it out), and
:func:`skmultimodal.inspection.lesion_heat_share` with the shipped masks:
the share of the heat inside the lesion and its ratio to the lesion's share
of the frame (1 = no better than uniform). The crop model is explained in its
cropped frame (the mask cropped the same way), where the lesion covers a much
larger share of the frame.

Run from the repository root::

    python benchmarks/bench_lesion_crops.py            # full run
    python benchmarks/bench_lesion_crops.py --quick    # smoke run
"""

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fusion_breast_lesions import (  # noqa: E402
    CATEGORICAL,
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

from skmultimodal import (  # noqa: E402
    ImageModality,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    TabularModality,
)
from skmultimodal.datasets import load_breast_lesions_usg  # noqa: E402
from skmultimodal.inspection import (  # noqa: E402
    grad_cam,
    lesion_heat_share,
    plot_image_explanations,
)
from skmultimodal.model_selection import EvaluationReport, evaluate  # noqa: E402

ROI_MARGIN = 0.1


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 80 patients, 32 px, 2 epochs")
    p.add_argument("--output-dir", type=Path, default=here / "results")
    p.add_argument("--data-home", default=None,
                   help="folder holding breast_lesions_usg/")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--n-bootstrap", type=int, default=None)
    return p.parse_args(argv)


def load_full_images(paths):
    """Greyscale uint8 arrays at their full size (the crop needs every pixel)."""
    out = []
    for path in paths:
        with Image.open(path) as im:
            out.append(np.asarray(im.convert("L")))
    return pd.Series(out, dtype=object)


def load_masks(paths):
    """Lesion masks as bool arrays (nonzero in any colour channel = lesion)."""
    out = []
    for path in paths:
        with Image.open(path) as im:
            out.append(np.asarray(im.convert("L")) > 0)
    return pd.Series(out, dtype=object)


def image_modality(size, crop, augment=True):
    return ImageModality("image", backbone="simple_cnn", image_size=size, channels=1,
                         augment=augment, backbone_params=dict(SMALL_CNN),
                         roi="mask" if crop else None, roi_margin=ROI_MARGIN)


def image_net(size, epochs, crop, augment=True):
    """Image-only network: SimpleCNN encoder, projection and head."""
    return IntermediateFusionClassifier(
        [("image", image_modality(size, crop, augment))], embed_dim=32,
        head_hidden_sizes=(32,), dropout=0.3, max_epochs=epochs, batch_size=32,
        lr=1e-3, cache_images=True, random_state=SEED)


def intermediate(size, epochs, crop):
    return IntermediateFusionClassifier(
        [("image", image_modality(size, crop)),
         ("clinical", TabularModality(CLINICAL, impute="median", categorical=CATEGORICAL,
                                      hidden_layer_sizes=(16,), dropout=0.1))],
        embed_dim=32, head_hidden_sizes=(32,), dropout=0.3, max_epochs=epochs,
        batch_size=32, lr=1e-3, cache_images=True, random_state=SEED)


def late(size, epochs, crop):
    columns = ["image", "mask"] if crop else ["image"]
    return LateFusionClassifier(
        [("image", image_net(size, epochs, crop), columns),
         ("clinical", clinical_lr(), CLINICAL)], voting="soft")


def heat_in_lesion(report, name, X, masks, splits):
    """Lesion heat shares of the out-of-fold Grad-CAM maps of one image model."""
    parts, example = [], None
    for est, (_, test) in zip(report.estimators[name], splits):
        rows = X.iloc[test]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # flat maps are counted below
            result = grad_cam(est, rows, modality="image")
        shares = lesion_heat_share(result, list(masks.iloc[test]))
        shares["flat"] = result.flat
        parts.append(shares)
        if example is None:
            example = (result, list(masks.iloc[test]))
    return pd.concat(parts).sort_index(), example


def summarise_heat(shares):
    ok = shares[~shares["flat"]]
    return {"n_maps": len(shares), "flat_maps": int(shares["flat"].sum()),
            "heat_share_mean": ok["heat_share"].mean(),
            "heat_share_median": ok["heat_share"].median(),
            "area_share_mean": ok["area_share"].mean(),
            "ratio_mean": ok["ratio"].mean(), "ratio_median": ok["ratio"].median(),
            "share_ratio_above_1": float((ok["ratio"] > 1).mean())}


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    size = 32 if args.quick else args.image_size
    epochs = 2 if args.quick else args.epochs
    n_boot = args.n_bootstrap if args.n_bootstrap is not None else (200 if args.quick
                                                                       else 1000)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    prefix = "lesion_crops_quick" if args.quick else (
        "lesion_crops" if size == 64 else f"lesion_crops_{size}px")
    data_home = default_data_home(args.data_home)
    t_start = time.time()

    bunch = load_breast_lesions_usg(data_home=data_home)
    data, y, groups = bunch.data, bunch.target, bunch.groups
    if args.quick:
        keep, _ = train_test_split(np.arange(len(y)), train_size=80, stratify=y,
                                   random_state=SEED)
        keep = np.sort(keep)
        data, y, groups = data.iloc[keep].reset_index(drop=True), y[keep], groups[keep]
    data = data.reset_index(drop=True)
    t0 = time.time()
    masks = load_masks(data["mask_path"])
    X = pd.concat([pd.DataFrame({"image": load_full_images(data["image_path"]),
                                 "mask": masks}),
                   data[CLINICAL]], axis=1)
    t_decode = time.time() - t0
    lesion_area = np.array([m.mean() for m in masks])
    print(f"BrEaST-Lesions-USG benign vs malignant: {len(y)} patients "
          f"({int(y.sum())} malignant); full-size greyscale images and masks decoded in "
          f"{t_decode:.1f} s; lesion area: median {np.median(lesion_area):.3f} of the "
          f"image; clinical {CLINICAL}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPU(s), python "
          f"{platform.python_version()}, torch {torch.__version__} with "
          f"{torch.get_num_threads()} thread(s), CUDA available: "
          f"{torch.cuda.is_available()}", flush=True)

    models = {
        "LR clinical": clinical_lr(),
        "CNN image, whole image": image_net(size, epochs, crop=False),
        "CNN image, lesion crop": image_net(size, epochs, crop=True),
        "CNN image, lesion crop, augment='ultrasound'": image_net(
            size, epochs, crop=True, augment="ultrasound"),
        "Late fusion soft, whole CNN + LR": late(size, epochs, crop=False),
        "Late fusion soft, crop CNN + LR": late(size, epochs, crop=True),
        "Intermediate fusion, whole image": intermediate(size, epochs, crop=False),
        "Intermediate fusion, lesion crop": intermediate(size, epochs, crop=True),
    }
    image_only = ["CNN image, whole image", "CNN image, lesion crop"]
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=SEED)
    splits = list(cv.split(X, y, groups))
    reports, times = [], {}
    for name, est in models.items():
        t0 = time.time()
        rep = evaluate({name: est}, X, y, groups=groups, cv=cv, scoring=SCORING,
                       n_bootstrap=n_boot, random_state=SEED,
                       return_estimators=name in image_only)
        times[name] = time.time() - t0
        reports.append(rep)
        means = rep.pivot().loc[name]
        print(f"  {name:<36s} {times[name]:7.1f} s   "
              + "  ".join(f"{m} {means[m]:.3f}" for m in rep.metrics), flush=True)

    heat_rows, examples = [], {}
    for rep in reports:
        name = rep.models[0]
        if name not in image_only:
            continue
        t0 = time.time()
        shares, examples[name] = heat_in_lesion(rep, name, X, masks, splits)
        shares.to_csv(out / f"{prefix}_heat_{'crop' if 'crop' in name else 'whole'}.csv")
        heat_rows.append({"model": name, **summarise_heat(shares)})
        times[f"(Grad-CAM heat shares, {name})"] = time.time() - t0
    heat = pd.DataFrame(heat_rows)
    for name, (result, mask_list) in examples.items():
        tag = "crop" if "crop" in name else "whole"
        plot_image_explanations(result, indices=list(range(min(8, len(mask_list)))),
                                masks=mask_list, path=out / f"{prefix}_gradcam_{tag}.png")

    report = EvaluationReport.concat([_without_estimators(r) for r in reports])
    fusion = [m for m in report.models if m.startswith(("Late", "Intermediate"))]
    diffs = paired_differences(report, fusion, "LR clinical", n_boot,
                               metric_funcs=METRIC_FUNCS)
    crop_vs_whole = pd.concat([
        paired_differences(report, [crop], whole, n_boot, metric_funcs=METRIC_FUNCS)
        for crop, whole in [
            ("CNN image, lesion crop", "CNN image, whole image"),
            ("CNN image, lesion crop, augment='ultrasound'", "CNN image, lesion crop"),
            ("Late fusion soft, crop CNN + LR", "Late fusion soft, whole CNN + LR"),
            ("Intermediate fusion, lesion crop", "Intermediate fusion, whole image")]],
        ignore_index=True)
    total = time.time() - t_start  # everything but writing the files
    timing = pd.DataFrame({"model": list(times),
                           "wall_s": [round(t, 1) for t in times.values()]})
    md = report.to_markdown(digits=3)
    settings = (f"Settings fixed before the run, none tuned (those of "
                f"bench_fusion_breast_lesions.py): images {size} px greyscale, SimpleCNN "
                f"{SMALL_CNN} from scratch, augmentation (flips, rotation, "
                f"brightness/contrast), AdamW lr 1e-3, batch 32, {epochs} epochs, "
                "embed_dim 32, head (32,), dropout 0.3; clinical MLP (16,) in "
                "intermediate fusion; LogisticRegression (C=1) on one-hot categories + "
                f"median-imputed, scaled Age. Crops: ImageModality(roi='mask', "
                f"roi_margin={ROI_MARGIN}), the shipped lesion masks. One image-only "
                "row swaps the generic augmentation for the ultrasound preset "
                "(augment='ultrasound'), chosen for the kind of image, not tuned.")
    print("\n" + md)
    print(settings)
    print(f"\nPooled out-of-fold difference of each fusion model vs LR clinical, paired "
          f"bootstrap 95% CI ({n_boot} resamples):")
    print(diffs.to_string(index=False, float_format="%.4f"))
    print("\nLesion crop minus whole image, paired bootstrap 95% CI:")
    print(crop_vs_whole.to_string(index=False, float_format="%.4f"))
    print("\nGrad-CAM heat inside the lesion, out-of-fold images (non-flat maps):")
    print(heat.to_string(index=False, float_format="%.3f"))
    print("\nWall time per model (s, 5 folds incl. prediction and bootstrap):")
    print(timing.to_string(index=False))
    print(f"total wall time: {total:.1f} s")

    report.to_csv(out / f"{prefix}_summary.csv")
    report.to_csv(out / f"{prefix}_folds.csv", which="folds")
    diffs.to_csv(out / f"{prefix}_fusion_vs_clinical.csv", index=False)
    crop_vs_whole.to_csv(out / f"{prefix}_crop_vs_whole.csv", index=False)
    heat.to_csv(out / f"{prefix}_heat_summary.csv", index=False)
    timing.to_csv(out / f"{prefix}_times.csv", index=False)
    cmd = "python benchmarks/bench_lesion_crops.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    with open(out / f"{prefix}.md", "w") as fh:
        fh.write(f"# BrEaST-Lesions-USG benign vs malignant: whole image vs lesion crop\n\n"
                 f"Command: `{cmd.strip()}`  \n"
                 f"{len(y)} patients ({int(y.sum())} malignant), one image each; "
                 f"patient-level StratifiedGroupKFold(5, shuffle=True, random_state=0), "
                 f"the folds of bench_fusion_breast_lesions.py.  \n"
                 f"Cells: fold mean ± std [95% bootstrap CI of the pooled out-of-fold "
                 f"metric, {n_boot} resamples].  \n"
                 f"Machine: {platform.platform()}, {os.cpu_count()} CPU(s), torch "
                 f"{torch.__version__}, {torch.get_num_threads()} torch thread(s), CUDA: "
                 f"{torch.cuda.is_available()}, one process. "
                 f"Total wall time {total:.0f} s.\n\n")
        fh.write(md + "\n" + settings + "\n\n")
        fh.write("Pooled out-of-fold difference of each fusion model vs **LR clinical**, "
                 "paired bootstrap 95% CI:\n\n" + frame_to_markdown(diffs) + "\n")
        fh.write("Lesion crop minus whole image (same model otherwise), paired bootstrap "
                 "95% CI:\n\n" + frame_to_markdown(crop_vs_whole) + "\n")
        fh.write("Grad-CAM heat inside the lesion on the out-of-fold images "
                 "(`lesion_heat_share`; each image explained by the model of the fold "
                 "that held it out; flat maps left out of the means). `ratio` = heat "
                 "share / lesion area share, 1 = no better than uniform heat. The crop "
                 "model is measured in its cropped frame, where the lesion covers "
                 "`area_share_mean` of the frame (so its largest possible ratio is "
                 "small); the whole-image model in the whole frame:\n\n"
                 + frame_to_markdown(heat, 3) + "\n")
        fh.write("Wall time per model (5 folds, incl. prediction and bootstrap):\n\n")
        fh.write(frame_to_markdown(timing, 1) + "\n")
    print(f"written to {out}/{prefix}*")


def _without_estimators(report):
    """The report without its fitted fold models (concat keeps what it can)."""
    report.estimators = None
    return report


if __name__ == "__main__":
    main()
