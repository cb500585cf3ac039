"""
===========================================================
Image embeddings in scikit-learn pipelines (early fusion)
===========================================================

:class:`~skmultimodal.ImageEmbedder` is a transformer: ``fit`` builds an image
backbone without training it and ``transform`` turns each image into the
backbone's pooled feature vector. That makes images usable by every
scikit-learn tool:

- in a :class:`~sklearn.pipeline.Pipeline`, in front of any classifier;
- in a :class:`~sklearn.compose.ColumnTransformer`, beside tabular columns,
  which is *early fusion*: image features and table columns concatenated
  before one model;
- in :class:`~sklearn.model_selection.GridSearchCV`, which can tune the
  embedder's parameters with the classifier's;
- saved and reloaded with :mod:`joblib`.

The data are synthetic (:func:`~skmultimodal.datasets.make_multimodal_classification`):
half of the class signal is in the image, half in the table, so neither
modality alone is enough.
"""

# %%
# The data
# --------
# One row per sample: an ``image`` column holding (24, 24) uint8 arrays (file
# paths work the same way) and ten tabular columns ``tab_0`` ... ``tab_9``.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): 200 rows, three folds, two grid candidates.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np

from skmultimodal.datasets import make_multimodal_classification

X, y = make_multimodal_classification(
    200 if QUICK else 400, image_size=24, n_features=10, n_informative=4, image_share=0.5,
    random_state=0,
)
tab_cols = [c for c in X.columns if c.startswith("tab_")]
if QUICK:
    print("Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): 200 rows, 3 folds, 2 grid candidates; "
          "not the full example's results.")
print(f"X: {X.shape[0]} rows, columns {list(X.columns[:3])} ... {X.columns[-1]!r}")
print("one image:", X["image"].iloc[0].shape, X["image"].iloc[0].dtype)
print("class balance:", np.bincount(y))

# %%
# The image signal is the brightness of two blobs, one per class latent.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 6, figsize=(7, 2.6))
for label, row in zip([0, 1], axes):
    for ax, image in zip(row, X["image"][y == label].iloc[:6]):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_axis_off()
    row[0].set_title(f"class {label}", fontsize=9, loc="left")
fig.tight_layout()

# %%
# An embedder in a pipeline
# -------------------------
# With ``column="image"`` the embedder takes the whole DataFrame and reads that
# column. The backbone here is a small CNN with random weights (no download is
# needed): random convolutional features are already informative on these
# images. On real images, ImageNet weights loaded from a local file
# (``weights="path/to/resnet18.pth"``) or through torchvision's names
# (``weights="IMAGENET1K_V1"``, downloaded once) are the usual choice.
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import ImageEmbedder

image_only = make_pipeline(
    ImageEmbedder(column="image", backbone="simple_cnn", image_size=24, random_state=0),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
n_folds = 3 if QUICK else 5
cv = StratifiedKFold(n_folds, shuffle=True, random_state=0)
scores = {"image only": cross_val_score(image_only, X, y, cv=cv, scoring="roc_auc")}

# %%
# Early fusion with a ColumnTransformer
# -------------------------------------
# scikit-learn's own :class:`~sklearn.compose.ColumnTransformer` routes the
# ``image`` column to the embedder and passes the tabular columns through;
# the concatenated features feed one logistic regression.
from sklearn.compose import ColumnTransformer

tabular_only = make_pipeline(
    ColumnTransformer([("tab", StandardScaler(), tab_cols)]),
    LogisticRegression(max_iter=1000),
)
early_fusion = make_pipeline(
    ColumnTransformer([
        ("img", ImageEmbedder(column="image", backbone="simple_cnn", image_size=24,
                              random_state=0), ["image"]),
        ("tab", "passthrough", tab_cols),
    ]),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
scores["table only"] = cross_val_score(tabular_only, X, y, cv=cv, scoring="roc_auc")
scores["early fusion"] = cross_val_score(early_fusion, X, y, cv=cv, scoring="roc_auc")
for name, values in scores.items():
    print(f"{name:>12}: ROC AUC {values.mean():.3f} ± {values.std():.3f}")

# %%
# Grid search over the embedder and the classifier
# ------------------------------------------------
# Nested parameter names reach inside the pipeline and the column transformer:
# ``columntransformer__img__image_size`` is the embedder's input size. Each
# candidate and fold embeds the images again; the embedder's ``verbose=1``
# would show a progress bar over batches.
from sklearn.model_selection import GridSearchCV

param_grid = {
    "columntransformer__img__image_size": [16, 24],
    "logisticregression__C": [0.1, 1.0],
}
if QUICK:
    param_grid["logisticregression__C"] = [1.0]
grid = GridSearchCV(
    early_fusion,
    param_grid,
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring="roc_auc",
)
grid.fit(X, y)
print("best parameters:", grid.best_params_)
print(f"best cross-validated ROC AUC: {grid.best_score_:.3f}")

# %%
# Save and reload with joblib
# ---------------------------
# The refitted best pipeline, embedder included, pickles like any other
# scikit-learn model, and the reloaded copy predicts the same probabilities.
import tempfile
from pathlib import Path

import joblib

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "early_fusion.joblib"
    joblib.dump(grid.best_estimator_, path)
    print(f"saved {path.stat().st_size / 1e3:.0f} kB")
    reloaded = joblib.load(path)

same = np.allclose(reloaded.predict_proba(X), grid.best_estimator_.predict_proba(X))
print("reloaded model gives the same probabilities:", same)

# %%
# Summary
# -------
fig, ax = plt.subplots(figsize=(5, 2.8))
names = list(scores)
ax.barh(names, [scores[n].mean() for n in names],
        xerr=[scores[n].std() for n in names], color=["C0", "C1", "C2"], capsize=4)
ax.set_xlim(0.5, 1.0)
ax.set_xlabel(f"ROC AUC (mean ± std over {n_folds} folds)")
ax.set_title("Synthetic image + table: early fusion")
fig.tight_layout()
plt.show()
