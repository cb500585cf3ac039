"""
=====================================================================
Where does the network look? Grad-CAM and cross-attention maps
=====================================================================

A classifier of ultrasound scans should base its verdict on the lesion,
not on the text burnt into the scan, the probe's footprint or the
background. Two tools of :mod:`skmultimodal.inspection` draw where a fitted
model looks:

- :func:`~skmultimodal.inspection.grad_cam` computes Grad-CAM heat maps
  (through the ``pytorch_grad_cam`` package) on the last feature map of the
  image backbone, for an :class:`~skmultimodal.ImageClassifier`, the image
  branch of a fusion model, a late-fusion image estimator or a pipeline
  ending in one of them;
- :func:`~skmultimodal.inspection.cross_attention_maps` lays out, over the
  image, the attention that the clinical tokens of a
  :class:`~skmultimodal.CrossAttentionFusionClassifier` put on each image
  token.

Both return maps resized to each original image, so they can be drawn over
it (:func:`~skmultimodal.inspection.plot_image_explanations`) and compared
with a segmentation. BrEaST-Lesions-USG ships an expert tumour mask for
every lesion, so we can measure how much of each map falls on the lesion,
relative to the lesion's share of the image (1 for a map spread evenly, the
inverse of that share for a map entirely inside the lesion).

The script reads ``$SKMULTIMODAL_DATA/breast_lesions_usg``; without it, it
falls back to synthetic data from
:func:`~skmultimodal.datasets.make_multimodal_classification`, whose class
signal sits in known blobs (:func:`~skmultimodal.datasets.signal_mask`),
which then play the part of the lesion masks. When ``SKMULTIMODAL_FIGURES``
names a folder, the figures are also written there as PNG files.
The networks are small (96-pixel images, a narrow CNN, 10-15 epochs) so that
the script runs in a few minutes on one CPU thread: a demonstration of the
tools, not a tuned model.
"""

# %%
# The data
# --------
# :func:`~skmultimodal.datasets.load_breast_lesions_usg` gives, per patient,
# the path of the scan (``image_path``), the path of its tumour mask
# (``mask_path``) and four clinical columns recorded independently of the
# image. For training we decode every scan once into a 96 x 96 greyscale
# array (decoding the full-size PNG files at every epoch costs more than
# training this small network). The held-out scans are explained from
# their files, at full size.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): a stratified subsample of 120 patients and a few epochs. Its
# numbers are not those discussed at the end.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.model_selection import train_test_split

from skmultimodal.datasets import (
    load_breast_lesions_usg,
    make_multimodal_classification,
    signal_mask,
)

OUT = os.environ.get("SKMULTIMODAL_FIGURES")  # where to save the figures, if set
if OUT:
    Path(OUT).mkdir(parents=True, exist_ok=True)
IMAGE_SIZE = 96
N_QUICK = 120  # patients of the quick run
start = time.perf_counter()


def read_small(path, size=IMAGE_SIZE):
    """Decode one scan to a (size, size) uint8 greyscale array."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((size, size), Image.BILINEAR))


def read_mask(path):
    """Decode one tumour mask to a boolean array of the scan's size."""
    with Image.open(path) as mask:
        return np.asarray(mask.convert("L")) > 127


try:
    lesions = load_breast_lesions_usg()
    data, y, case_ids = lesions.data, lesions.target, lesions.groups
    if QUICK:  # the same stratified subsample at every run
        keep, _ = train_test_split(np.arange(len(y)), train_size=N_QUICK, stratify=y,
                                   random_state=0)
        keep = np.sort(keep)
        data, y, case_ids = data.iloc[keep].reset_index(drop=True), y[keep], case_ids[keep]
    clinical_cols = lesions.feature_groups["clinical"]
    X = data[clinical_cols].copy()
    X.insert(0, "image", pd.Series(
        [read_small(p) for p in data["image_path"]], dtype=object))
    originals = data["image_path"].to_numpy(dtype=object)
    masks = data["mask_path"].to_numpy(dtype=object)
    real_data = True
    source = "BrEaST-Lesions-USG"
except FileNotFoundError as exc:
    print(f"BrEaST-Lesions-USG not found ({exc}).\nUsing synthetic data instead.")
    IMAGE_SIZE = 32
    X, y = make_multimodal_classification(
        N_QUICK if QUICK else 252, image_size=IMAGE_SIZE, n_features=4, n_informative=2,
        random_state=0)
    clinical_cols = [c for c in X.columns if c.startswith("tab_")]
    case_ids = np.arange(len(X))
    originals = X["image"].to_numpy(dtype=object)
    masks = np.empty(len(X), dtype=object)
    masks[:] = [signal_mask(IMAGE_SIZE, 2)] * len(X)
    real_data = False
    source = "synthetic image + table"

if QUICK:
    print(f"Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): {len(X)} patients, 4 and 3 "
          "epochs; not the full example's results.")
train, test = train_test_split(np.arange(len(X)), test_size=0.25, stratify=y,
                               random_state=0)
print(f"{source}: {len(train)} training and {len(test)} held-out patients, "
      f"positive rate {np.mean(y == 1):.3f}")

# %%
# An image classifier
# -------------------
# A SimpleCNN of four narrow blocks turns a 96-pixel scan into a 12 x 12
# feature map, the layer Grad-CAM looks at. Flips and small rotations are
# used on the real scans only (the synthetic classes are told apart by
# where a blob sits, which flips would scramble).
from sklearn.metrics import roc_auc_score

from skmultimodal import ImageClassifier

cnn = {"channels": (8, 16, 32, 64), "convs_per_block": 1}
image_clf = ImageClassifier(
    column="image", backbone="simple_cnn", image_size=IMAGE_SIZE, channels=1,
    backbone_params=cnn, augment=real_data, max_epochs=4 if QUICK else 15, lr=3e-3, random_state=0,
)
image_clf.fit(X.iloc[train], y[train])
auc = roc_auc_score(y[test], image_clf.predict_proba(X.iloc[test])[:, 1])
print(f"image classifier, held-out ROC AUC: {auc:.3f}")

# %%
# Grad-CAM of held-out scans
# --------------------------
# The held-out rows are given with the original files: the estimator
# reads and resizes them as in training, and each heat map comes back at
# the size of its scan. ``target=None`` explains the predicted class of
# each row; ``target=1`` would explain "malignant" for all of them.
from skmultimodal.inspection import grad_cam, plot_image_explanations

held_out = pd.DataFrame({"image": originals[test]}, index=X.index[test])
cams = grad_cam(image_clf, held_out)
shapes = {h.shape == np.asarray(im).shape[:2] for h, im in zip(cams.heatmaps, cams.images)}
print(f"{len(cams.heatmaps)} heat maps, each of its scan's size: {shapes == {True}}")

show = list(range(8))
titles = [f"case {case_ids[test][i]}: true {y[test][i]}, explains {cams.targets[i]}"
          for i in show]
fig = plot_image_explanations(cams, indices=show, n_cols=4, titles=titles)
for ax, i in zip([ax for ax in fig.axes if ax.get_images()], show):
    ax.contour(read_mask(masks[test][i]) if real_data else masks[test][i],
               levels=[0.5], colors="white", linewidths=0.8)
fig.suptitle(f"Grad-CAM of the image classifier ({source}); white: lesion mask")
if OUT:
    fig.savefig(Path(OUT) / "grad_cam_breast_lesions.png", dpi=100)

# %%
# How much of the heat falls on the lesion?
# -----------------------------------------
# For each held-out scan: the share of the heat map's mass inside the
# expert mask, divided by the mask's share of the image. As a reference,
# the same ratio for a fixed map that ignores the image: a Gaussian bump in
# the middle (lesions are usually centred by the sonographer).


def lesion_lift(maps, masks_of_rows):
    lifts = []
    for heat, mask in zip(maps, masks_of_rows):
        mask = read_mask(mask) if isinstance(mask, str) else np.asarray(mask, dtype=bool)
        lifts.append((heat * mask).sum() / heat.sum() / mask.mean())
    return np.array(lifts)


def centre_bump(shape):
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    return np.exp(-(((rows - shape[0] / 2) / (shape[0] / 4)) ** 2
                    + ((cols - shape[1] / 2) / (shape[1] / 4)) ** 2) / 2)


grad_lift = lesion_lift(cams.heatmaps, masks[test])
centre_lift = lesion_lift([centre_bump(h.shape) for h in cams.heatmaps], masks[test])
print(f"Grad-CAM mass on the lesion / lesion area share: mean {grad_lift.mean():.2f}, "
      f"median {np.median(grad_lift):.2f} (fixed centre map: mean "
      f"{centre_lift.mean():.2f}, median {np.median(centre_lift):.2f}; uniform map: 1)")

# %%
# Cross-attention over the image tokens
# -------------------------------------
# A :class:`~skmultimodal.CrossAttentionFusionClassifier` turns each cell of
# the image's 12 x 12 feature map into a token and the clinical columns into
# four tokens, which attend to the image tokens (and the image tokens to
# them). :func:`~skmultimodal.inspection.cross_attention_maps` averages the
# clinical tokens' attention over heads and query tokens, renormalises it
# over the image tokens and stretches the token grid over each scan.
from skmultimodal import CrossAttentionFusionClassifier, ImageModality, TabularModality
from skmultimodal.inspection import cross_attention_maps

fusion = CrossAttentionFusionClassifier(
    [("us", ImageModality("image", backbone="simple_cnn", image_size=IMAGE_SIZE,
                          channels=1, backbone_params=cnn, augment=real_data)),
     ("clinical", TabularModality(clinical_cols, impute="median",
                                  hidden_layer_sizes=(16,)))],
    embed_dim=16, n_heads=2, n_layers=1, n_tokens=4, max_epochs=3 if QUICK else 10, lr=3e-3,
    random_state=0,
)
fusion.fit(X.iloc[train], y[train])
auc = roc_auc_score(y[test], fusion.predict_proba(X.iloc[test])[:, 1])
print(f"cross-attention fusion, held-out ROC AUC: {auc:.3f}")

held_out_fusion = X.iloc[test].assign(image=originals[test])
attention = cross_attention_maps(fusion, held_out_fusion)
fig = plot_image_explanations(attention, indices=show, n_cols=4,
                              titles=[f"case {case_ids[test][i]}" for i in show])
for ax, i in zip([ax for ax in fig.axes if ax.get_images()], show):
    ax.contour(read_mask(masks[test][i]) if real_data else masks[test][i],
               levels=[0.5], colors="white", linewidths=0.8)
fig.suptitle(f"Attention of the clinical tokens over the image ({source})")
if OUT:
    fig.savefig(Path(OUT) / "cross_attention_breast_lesions.png", dpi=100)

attention_lift = lesion_lift(attention.maps, masks[test])
print(f"attention mass on the lesion / lesion area share: mean "
      f"{attention_lift.mean():.2f}, median {np.median(attention_lift):.2f}")
n_tokens = attention.grid_shape[0] * attention.grid_shape[1]
print(f"largest token weight (uniform would be {1 / n_tokens:.4f}): "
      f"{attention.token_maps.max(axis=(1, 2)).mean():.4f} on average")
print(f"total time: {time.perf_counter() - start:.0f} s")

# %%
# Reading the maps
# ----------------
# A lift above the fixed centre map's would say that the maps follow the
# lesion of each scan rather than where lesions usually are; a lift near 1
# says they ignore it. In this run on BrEaST-Lesions-USG (held-out ROC AUC
# about 0.80 for the image classifier), the Grad-CAM lift averaged about
# 1.2: somewhat more heat on the lesion than a uniform map, but less than
# the fixed centre map (about 1.8). The network does not look at the lesion
# more than a map that ignores the image would; its heat often lies on the
# tissue around or below the lesion (posterior shadowing and the tissue
# layers carry diagnostic information too). The clinical tokens' attention
# is close to uniform over the image tokens (largest token weight barely
# above the uniform share, lift about 0.9): the clinical tokens read the
# image as a whole. On the synthetic data, whose signal sits in two known
# blobs, the Grad-CAM lift is about 1.3.
#
# Both maps are views of one small network trained on about two hundred
# scans, and both are coarse (a 12 x 12 grid stretched over a scan of
# several hundred pixels). Grad-CAM explains a class score through the
# gradients of one feature map; attention weights say where the clinical
# tokens read from, which need not be where the decision is made. Neither
# is a segmentation, and neither should be read on a single scan without a
# reference such as the masks used here.
