"""
=====================================================================
Two image columns: attention CNNs, then a stacking ensemble
=====================================================================

The mammography + ultrasound study (Yan et al.) classifies a breast tumour
from two images of the same patient with a two-stage model:

1. one attention CNN per image type, ECA-Net (efficient channel attention)
   for ultrasound and CBAM (channel + spatial attention) for mammography,
   trained on the labels; their pooled deep features are concatenated;
2. a stacking ensemble on the fused features: logistic regression, SVM,
   random forest and Extra-Trees as base learners, an MLP as meta-learner.

:func:`~skmultimodal.fusion.make_stacking_ensemble` builds exactly this as a
scikit-learn :class:`~sklearn.pipeline.Pipeline`, so it can be
cross-validated like any classifier.

**The data here are synthetic.** No public data set with a mammogram and an
ultrasound image of the same patients is available to this project, and
pairing images of different patients (say, BUSI ultrasound with unrelated
mammograms) would invent a link that does not exist. So the demonstration
uses two synthetic image columns built so that each carries part of the
class signal: two independent draws of
:func:`~skmultimodal.datasets.make_multimodal_classification`, paired row by
row within each class. The numbers below say how the pipeline behaves on
such data; they say nothing about mammography or ultrasound.

The CNNs are ResNet-18s trained from scratch for a few epochs on 32-pixel
images, so the script runs in a few minutes on a CPU.
"""

# %%
# Two image columns with split signals
# ------------------------------------
# Each draw of the generator gives images whose two blobs encode an image
# latent, and a label that depends on that latent (60% of the class-score
# variance, ``image_share=0.6``) and on a tabular latent we throw away; one
# image therefore predicts its own label only partly. We take two
# independent draws and pair each row of the first with a row of the second
# that has the same label: a pair is one "patient" whose two images are
# independent noisy views of its class, so together they say more than
# either alone. The second column is transposed (blobs top and bottom
# instead of left and right), only so the two columns look different.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): 60 draws instead of 160, one epoch, smaller forests and two
# outer folds instead of three.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np
import pandas as pd

from skmultimodal.datasets import make_multimodal_classification

IMAGE_SIZE = 32
N_DRAW = 60 if QUICK else 160


def draw(seed, n=N_DRAW):
    X, y = make_multimodal_classification(
        n, image_size=IMAGE_SIZE, image_share=0.6, random_state=seed
    )
    return X["image"].to_numpy(), y


us_images, y_us = draw(seed=1)
mammo_images, y_mammo = draw(seed=2)
pairs = []
for label in (0, 1):
    i_us, i_mammo = np.flatnonzero(y_us == label), np.flatnonzero(y_mammo == label)
    n = min(len(i_us), len(i_mammo))
    pairs += [(us_images[i], mammo_images[j].T, label)
              for i, j in zip(i_us[:n], i_mammo[:n])]
order = np.random.default_rng(0).permutation(len(pairs))
X = pd.DataFrame({
    "ultrasound": pd.Series([pairs[k][0] for k in order], dtype=object),
    "mammogram": pd.Series([pairs[k][1] for k in order], dtype=object),
})
y = np.array([pairs[k][2] for k in order])
if QUICK:
    print(f"Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): {N_DRAW} draws per column, "
          "1 epoch, 25 trees per forest, 2 folds; not the full example's results.")
print(f"{len(X)} synthetic patients, {y.mean():.0%} in class 1; "
      f"columns {list(X.columns)}, images {X['ultrasound'].iloc[0].shape}")

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 6, figsize=(8, 3))
for label, row in zip((0, 1), axes):
    picked = np.flatnonzero(y == label)[:3]
    for k, i in enumerate(picked):
        for ax, column in zip(row[2 * k:2 * k + 2], X.columns):
            ax.imshow(X[column].iloc[i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{column[:5]}., class {label}", fontsize=7)
            ax.set_axis_off()
fig.suptitle("Synthetic pairs: ultrasound-like and mammogram-like columns")
fig.tight_layout()
plt.show()

# %%
# The two-stage pipeline
# ----------------------
# ``modalities`` names each image column and describes its CNN in an
# :class:`~skmultimodal.ImageModality`: ECA for the ultrasound CNN and CBAM
# for the mammography CNN, as in the study. The training parameters (epochs,
# batch size) are shared by both CNNs; ``cv`` is the number of folds of the
# stacking's out-of-fold base-learner predictions.
from skmultimodal import ImageModality
from skmultimodal.fusion import make_stacking_ensemble

image = dict(backbone="resnet18", image_size=IMAGE_SIZE, channels=1)
pipeline = make_stacking_ensemble(
    [("us", ImageModality("ultrasound", attention="eca", **image)),
     ("mammo", ImageModality("mammogram", attention="cbam", **image))],
    max_epochs=1 if QUICK else 4,
    batch_size=16,
    cv=3,
    random_state=0,
)
if QUICK:  # smaller forests in the stacking
    pipeline.set_params(stacking__rf__n_estimators=25, stacking__et__n_estimators=25)
print(pipeline)

# %%
# Cross-validation
# ----------------
# The whole pipeline goes through an outer cross-validation
# (:func:`~skmultimodal.model_selection.evaluate`, three stratified folds),
# so the test patients of a fold reach neither stage in training. Each
# fold's stage 1 holds a trained attention CNN per column
# (``named_steps["features"].encoders_``); their own predictions on the test
# fold are the single-column baselines, the CNN alone on one image type, at
# no extra training cost. (:func:`~skmultimodal.model_selection.modality_ablation`
# would instead refit the whole two-stage pipeline on each column alone.)
import time

from sklearn.metrics import roc_auc_score

from skmultimodal.model_selection import evaluate

n_folds = 2 if QUICK else 3
start = time.perf_counter()
report = evaluate({"two-stage pipeline (ECA + CBAM, stacking)": pipeline}, X, y, cv=n_folds,
                  scoring=["roc_auc", "accuracy"], n_bootstrap=100 if QUICK else 500,
                  return_estimators=True)
print(f"evaluation: {time.perf_counter() - start:.0f} s")

single = {name: np.zeros(len(y)) for name in ("us", "mammo")}
for fitted, (_, test) in zip(report.estimators[report.models[0]], report.splits):
    for name, cnn in fitted.named_steps["features"].encoders_.items():
        single[name][test] = cnn.predict_proba(X.iloc[test])[:, 1]

labels = {"us": "ultrasound CNN alone (ECA)", "mammo": "mammogram CNN alone (CBAM)"}
rows = {labels[name]: {
    "roc_auc (pooled)": roc_auc_score(y, p),
    "roc_auc per fold": [round(roc_auc_score(y[test], p[test]), 3)
                         for _, test in report.splits],
} for name, p in single.items()}
pipe_folds = report.folds[report.folds["metric"] == "roc_auc"]["score"].round(3)
rows[report.models[0]] = {
    "roc_auc (pooled)": report.pivot("pooled").iloc[0]["roc_auc"],
    "roc_auc per fold": pipe_folds.tolist(),
}
with pd.option_context("display.width", 200, "display.max_colwidth", 60):
    print(pd.DataFrame(rows).T)
print(report.to_markdown())

# %%
# ROC curves of the out-of-fold predictions.
from sklearn.metrics import RocCurveDisplay

y_oof = y[report.rows]
fig, ax = plt.subplots(figsize=(5.5, 5))
for name, p in single.items():
    RocCurveDisplay.from_predictions(y, p, name=labels[name], ax=ax)
RocCurveDisplay.from_predictions(
    y_oof, report.scores[report.models[0]][:, 1], name="two-stage pipeline", ax=ax,
    plot_chance_level=True,
)
ax.legend(fontsize=8, loc="lower right")
ax.set_title(f"Synthetic paired images, {n_folds}-fold out-of-fold ROC", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# By construction the two columns are independent views of the class, so a
# model that uses both should beat either alone, and the table shows whether
# the two-stage pipeline manages it with such short CNN training. Keep the
# scale in mind: this few patients and three folds give
# wide intervals. On real paired images the same code applies with file
# paths in the two columns, larger ``image_size``, ImageNet weights loaded
# from a local file (``ImageModality(weights=...)``) and more epochs, ideally on a GPU.
#
# The study's other ablation, the attention modules, is one parameter away:
# ``pipeline.set_params(features__us__attention=None,
# features__mammo__attention=None)`` gives plain ResNet-18s, to be
# cross-validated on the same folds (``cv=report.splits``).
