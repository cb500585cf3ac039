"""
==========================================================
Cross-attention fusion and what its attention looks at
==========================================================

:class:`~skmultimodal.CrossAttentionFusionClassifier` is the fusion model of
the histopathology + gene-expression study (arXiv 2503.02849): each modality
becomes a set of tokens, and the tokens of every modality attend to those of
the others through multi-head cross-attention before the pooled tokens are
classified.

This example does two things:

1. On METABRIC it fuses the mRNA z-scores of 489 genes with 13 baseline
   clinical columns for the study's task, Luminal (LumA + LumB) against
   Basal/Her2, and compares the fusion with each modality alone in one table
   with :func:`~skmultimodal.model_selection.modality_ablation` (five-fold
   stratified cross-validation; accuracy, PR-AUC and F1, the study's
   metrics). METABRIC has no slide images, so here both modalities are
   tabular; their tokens are learned projections of each modality's MLP
   embedding, and the attention map is token-to-token.
2. On synthetic image + table data from
   :func:`~skmultimodal.datasets.make_multimodal_classification` it shows the
   attention of the tabular tokens over the image's spatial tokens, drawn
   over the image, next to where the generator put the class signal.

The script reads ``$SKMULTIMODAL_DATA/metabric/METABRIC_RNA_Mutation.csv.gz``;
without it, part 1 uses a synthetic two-block table from
:func:`sklearn.datasets.make_classification` instead, and its figures say so.
The models are kept small (32-unit tokens, one attention layer, few epochs) so
the script runs in a few minutes on a CPU.
"""

# %%
# Genes and clinical data
# -----------------------
# :func:`~skmultimodal.datasets.load_metabric` returns one row per patient
# and, in ``feature_groups``, the columns of each modality. The clinical
# columns are kept as published: missing values and string categories are
# left to the :class:`~skmultimodal.TabularModality`, which imputes,
# standardises and one-hot encodes them inside each training fold.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): a stratified subsample of 400 patients, three folds, fewer
# epochs, 200 synthetic images. Its numbers are not those discussed below.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from skmultimodal.datasets import load_metabric

try:
    metabric = load_metabric(modalities=("genes", "clinical"))
    X, y = metabric.data, metabric.target
    genes = metabric.feature_groups["genes"]
    clinical = metabric.feature_groups["clinical"]
    source = "METABRIC, Luminal vs Basal/Her2"
except FileNotFoundError as exc:
    print(f"METABRIC not found ({exc}).\nUsing a synthetic two-block table instead.")
    # The informative columns come first (shuffle=False); five of them go to
    # each block, so each block holds part of the signal.
    values, y = make_classification(
        1000, n_features=60, n_informative=10, weights=[0.73], class_sep=1.0,
        shuffle=False, random_state=0,
    )
    genes = [f"gene_{i}" for i in range(50)]
    clinical = [f"clin_{i}" for i in range(10)]
    order = [*range(5), *range(10, 55), *range(5, 10), *range(55, 60)]
    X = pd.DataFrame(values[:, order], columns=genes + clinical)
    source = "synthetic two-block table (no METABRIC)"

if QUICK:  # the same stratified subsample at every run
    n_all = len(y)
    keep, _ = train_test_split(np.arange(n_all), train_size=400, stratify=y, random_state=0)
    X, y = X.iloc[np.sort(keep)], y[np.sort(keep)]
    print(f"Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): {len(y)} of {n_all} patients, "
          "3 folds, 3 epochs; not the full example's results.")

print(f"{source}: {len(X)} patients, {len(genes)} gene columns, "
      f"{len(clinical)} clinical columns, positive rate {np.mean(y == 1):.3f}")

# %%
# The model
# ---------
# One :class:`~skmultimodal.TabularModality` per block. Each is encoded by its
# own MLP, and the MLP output is projected into ``n_tokens`` tokens of
# ``embed_dim`` units; in the attention layer the gene tokens attend to the
# clinical tokens and the clinical tokens to the gene tokens.
from skmultimodal import CrossAttentionFusionClassifier, TabularModality

model = CrossAttentionFusionClassifier(
    modalities=[
        ("genes", TabularModality(genes, hidden_layer_sizes=(64,))),
        ("clinical", TabularModality(clinical, impute="median",
                                     hidden_layer_sizes=(32,))),
    ],
    embed_dim=32,
    n_heads=2,
    n_layers=1,
    n_tokens=4,
    max_epochs=3 if QUICK else 8,
    batch_size=256,
    lr=2e-3,
    random_state=0,
)

# %%
# Fusion against each modality alone
# ----------------------------------
# :func:`~skmultimodal.model_selection.modality_ablation` refits the same
# model on every subset of its modalities (here: both, genes alone, clinical
# alone) on shared folds and returns one
# :class:`~skmultimodal.model_selection.EvaluationReport`. Cells read
# fold mean ± standard deviation, then the 95% bootstrap interval of the
# metric on the pooled out-of-fold predictions.
import time

from skmultimodal.model_selection import modality_ablation

start = time.perf_counter()
ablation = modality_ablation(model, X, y, cv=3 if QUICK else 5, scoring="study1",
                             n_bootstrap=100 if QUICK else 500)
print(f"ablation: {time.perf_counter() - start:.0f} s")
print(ablation.to_markdown())

# %%
# The out-of-fold precision-recall curves of the three models, built from the
# report's stored predictions (``ablation.predictions``) with scikit-learn's
# :class:`~sklearn.metrics.PrecisionRecallDisplay`; Basal/Her2 is the
# positive class.
import matplotlib.pyplot as plt
from sklearn.metrics import PrecisionRecallDisplay

fig, ax = plt.subplots(figsize=(5.5, 5))
for k, (name, frame) in enumerate(ablation.predictions.items()):
    PrecisionRecallDisplay.from_predictions(
        frame["y_true"], frame["proba_1"], name=name, ax=ax,
        plot_chance_level=k == len(ablation.models) - 1,
    )
ax.legend(fontsize=8, loc="lower left")
ax.set_title(f"Out-of-fold precision-recall, {source}", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# With one attention layer and eight epochs this is a small model; the table is
# the place to judge whether fusion adds anything to the expression profile.
# On METABRIC the genes carry nearly all of the subtype signal (the subtype is
# defined from expression), so the clinical columns alone trail far behind
# and fusion lands close to genes alone, within the spread across folds.
#
# Token-to-token attention
# ------------------------
# :meth:`~skmultimodal.CrossAttentionFusionClassifier.attention_weights`
# returns, for each direction ``"<query>-><keys>"``, one array per layer of
# shape (n_samples, n_heads, n_query_tokens, n_key_tokens). Rows sum to at
# most 1: the rest goes to a learned "null" key that lets a token attend to
# nothing. We fit the fusion model on all rows and average the weights over
# heads and samples, separately for each class.
fusion = model.fit(X, y)
attention = fusion.attention_weights(X)

fig, axes = plt.subplots(2, 2, figsize=(7.5, 6.5), layout="constrained")
for row, direction in zip(axes, ["genes->clinical", "clinical->genes"]):
    weights = attention.weights[direction][0].mean(axis=1)  # average the heads
    query, keys = direction.split("->")
    for ax, label in zip(row, [0, 1]):
        heat = weights[y == label].mean(axis=0)
        image = ax.imshow(heat, vmin=0, vmax=heat.max(), cmap="viridis")
        ax.set_xticks(range(len(attention.key_tokens[direction])),
                      attention.key_tokens[direction], rotation=45, fontsize=8)
        ax.set_yticks(range(len(attention.query_tokens[query])),
                      attention.query_tokens[query], fontsize=8)
        ax.set_title(f"{direction}, class {label}", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
fig.suptitle(f"Mean attention weight (layer 1), {source}")
plt.show()

# %%
# The tokens are learned projections, not named features, so a heatmap says
# which token slots each modality reads from the other and how much of the
# attention goes to real keys rather than the null key (a row summing well
# below 1), not which genes matter. The per-class panels show whether the
# pattern changes with the class.
print("share of attention given to real keys (1 - null key), mean over rows:")
for direction, layers in attention.weights.items():
    print(f"  {direction}: {layers[0].sum(axis=-1).mean():.3f}")

# %%
# Attention over image tokens
# ---------------------------
# With an image modality, each cell of the backbone's last feature map is a
# token. We generate 400 synthetic rows with a 32 x 32 image and ten tabular
# columns, the class signal split evenly between them: the image carries it
# as the brightness of two Gaussian blobs at fixed places
# (:func:`~skmultimodal.datasets.signal_mask` says where). A SimpleCNN of
# three blocks (``backbone_params``) turns 32 pixels into an 8 x 8 grid of
# tokens.
from skmultimodal import ImageModality
from skmultimodal.datasets import make_multimodal_classification, signal_mask

n_fit, n_show = (150, 50) if QUICK else (300, 100)
X_syn, y_syn = make_multimodal_classification(
    n_fit + n_show, image_size=32, n_features=10, image_share=0.5, random_state=0
)
tab_cols = [c for c in X_syn.columns if c.startswith("tab_")]
image_model = CrossAttentionFusionClassifier(
    modalities=[
        ("image", ImageModality("image", backbone="simple_cnn", image_size=32,
                                channels=1, backbone_params={
                                    "channels": (8, 16, 32), "convs_per_block": 1})),
        ("table", TabularModality(tab_cols, hidden_layer_sizes=(32,))),
    ],
    embed_dim=32, n_heads=2, n_layers=1, n_tokens=4, max_epochs=4 if QUICK else 15, batch_size=32,
    random_state=0,
)
X_fit, X_show = X_syn.iloc[:n_fit], X_syn.iloc[n_fit:]
start = time.perf_counter()
image_model.fit(X_fit, y_syn[:n_fit])
print(f"fitted in {time.perf_counter() - start:.0f} s; accuracy on {n_show} new rows: "
      f"{image_model.score(X_show, y_syn[n_fit:]):.3f}")

att = image_model.attention_weights(X_show)
grid = att.grid_shape["image"]
table_to_image = att.weights["table->image"][0]  # (n, heads, 4 query tokens, h*w)
print("image token grid:", grid, "| table->image weights:", table_to_image.shape)

# %%
# Drawing the map over the image
# ------------------------------
# Image token ``k`` sits at row ``k // w``, column ``k % w`` of the feature
# map, so averaging over heads and query tokens and reshaping the key axis to
# ``grid_shape`` gives a coarse map; bilinear upsampling to 32 x 32 lays it
# over the image. The white contours mark the generator's signal blobs; the
# last column shows the attention map alone, averaged over the class.
import torch
import torch.nn.functional as F

maps = table_to_image.mean(axis=(1, 2)).reshape(-1, *grid)
maps = F.interpolate(torch.as_tensor(maps)[:, None], size=(32, 32),
                     mode="bilinear", align_corners=False)[:, 0].numpy()
blobs = signal_mask(32, 2).astype(float)

y_show = y_syn[n_fit:]
fig, axes = plt.subplots(2, 4, figsize=(9, 4.8), layout="constrained")
for row, label in zip(axes, [0, 1]):
    picked = np.flatnonzero(y_show == label)[:3]
    panels = [(X_show["image"].iloc[i], maps[i], f"row {n_fit + i}") for i in picked]
    panels.append((None, maps[y_show == label].mean(axis=0), "mean map"))
    for ax, (img, heat, title) in zip(row, panels):
        if img is not None:
            ax.imshow(img, cmap="gray")
        ax.imshow(heat, cmap="inferno", alpha=0.6 if img is not None else 1.0)
        ax.contour(blobs, levels=[0.5], colors="white", linewidths=0.8)
        ax.set_title(f"class {label}, {title}", fontsize=8)
        ax.set_axis_off()
fig.suptitle("Attention of the tabular tokens over the image tokens (synthetic)")
plt.show()

# %%
# How much of the attention falls inside the signal blobs, compared with
# their share of the image area (what a uniform map would give):
inside = (maps * blobs).sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
print(f"attention inside the blobs: {inside.mean():.3f} "
      f"(blob area share {blobs.mean():.3f})")

# %%
# Equal shares mean a uniform map. In this small model the tabular tokens
# spread their attention almost evenly over the image tokens, and the
# network still classifies far above chance: averaging all tokens already
# carries the blob brightness, and each token's convolutional features see a
# neighbourhood (the receptive field of the third block covers about half of
# a 32-pixel image), so nothing forces the attention to pick the blob cells.
# Attention maps are a view of one fitted network, not an explanation with
# guarantees: a model can classify well while attending broadly, and the
# weights change from one seed to the next. Compare them with where the
# signal is known to be, as here, before reading them on real slides.
