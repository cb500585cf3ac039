"""
=============================================
Why cross-validation must split by patient
=============================================

Medical data sets often hold several rows per patient: several patches of one
slide, several lesions, both breasts, follow-up visits. Rows of one patient
resemble each other in ways that have nothing to do with the diagnosis (the
scanner, the skin, the patient's own biology). A plain
:class:`~sklearn.model_selection.KFold` puts rows of the same patient on both
sides of a split, a model learns to recognise the patient, and the score
measures memory instead of diagnosis. The histopathology + EHR study the
library follows warns about exactly this for patch-level splits.

:func:`~skmultimodal.datasets.make_multimodal_classification` with
``n_patients`` generates such data: rows of a patient share most of their
latent class signal (so they tend to share the label), plus a patient-specific
offset on every tabular column and a patient-specific brightness and texture
in the image, which identify the patient without saying anything about the
class. We compare three estimates of the same models' accuracy:

1. ``KFold``: rows split at random;
2. ``StratifiedGroupKFold`` on ``patient_id``: every patient entirely in train
   or entirely in test;
3. the truth: models trained on all the data and scored on new patients drawn
   from the same distribution.
"""

# %%
# Data: 400 rows from 40 patients
# -------------------------------
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): 200 rows from 20 patients, three folds, fewer epochs and trees.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np
import pandas as pd

from skmultimodal.datasets import make_multimodal_classification

params = dict(n_samples=400, n_patients=40, image_size=16, n_features=10)
if QUICK:
    params.update(n_samples=200, n_patients=20)
    print("Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): 200 rows from 20 patients, 3 folds, "
          "fewer epochs and trees; not the full example's results.")
X, y = make_multimodal_classification(**params, random_state=0)
X_new, y_new = make_multimodal_classification(**params, random_state=1)  # new patients
groups = X["patient_id"].to_numpy()
tab_cols = [c for c in X.columns if c.startswith("tab_")]
print(f"{len(X)} rows, {len(np.unique(groups))} patients, "
      f"{np.bincount(groups).min()}-{np.bincount(groups).max()} rows per patient")

# %%
# How often a test patient was also seen in training
# --------------------------------------------------
from sklearn.model_selection import KFold, StratifiedGroupKFold

n_folds = 3 if QUICK else 5
kfold = KFold(n_folds, shuffle=True, random_state=0)
grouped = StratifiedGroupKFold(n_folds, shuffle=True, random_state=0)
for name, cv in [("KFold", kfold), ("StratifiedGroupKFold", grouped)]:
    shared = [
        np.isin(groups[test], groups[train]).mean()
        for train, test in cv.split(X, y, groups if cv is grouped else None)
    ]
    print(f"{name:>20}: {np.mean(shared):.0%} of test rows belong to a patient "
          "seen in training")

# %%
# Models
# ------
# A random forest and a nearest-neighbour classifier on the table, the image
# CNN :class:`~skmultimodal.ImageClassifier`, and early fusion of image
# embeddings with the table. Every model takes the whole DataFrame and picks
# its columns, so ``patient_id`` itself is never a feature.
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import ImageClassifier, ImageEmbedder

table = ColumnTransformer([("tab", StandardScaler(), tab_cols)])
models = {
    "random forest (table)": make_pipeline(
        table, RandomForestClassifier(n_estimators=50 if QUICK else 200, random_state=0)
    ),
    "3-nearest neighbours (table)": make_pipeline(table, KNeighborsClassifier(3)),
    "ImageClassifier (image)": ImageClassifier(
        column="image", backbone="simple_cnn", image_size=16, max_epochs=2 if QUICK else 10,
        augment=False,  # the generator's blobs sit at fixed places: no flips, no shifts
        random_state=0,
    ),
    "early fusion (image + table)": make_pipeline(
        ColumnTransformer([
            ("img", ImageEmbedder(column="image", backbone="simple_cnn",
                                  image_size=16, random_state=0), ["image"]),
            ("tab", "passthrough", tab_cols),
        ]),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ),
}

# %%
# Three estimates of each model's accuracy
# ----------------------------------------
# The grouped splitter needs ``groups``; KFold takes none.
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

rows = {}
for name, model in models.items():
    rows[name] = {
        "KFold (rows)": cross_val_score(model, X, y, cv=kfold).mean(),
        "StratifiedGroupKFold (patients)": cross_val_score(
            model, X, y, cv=grouped, groups=groups
        ).mean(),
        "new patients": clone(model).fit(X, y).score(X_new, y_new),
    }
    print(f"done: {name}")
results = pd.DataFrame(rows).T
with pd.option_context("display.width", 200, "display.max_columns", None):
    print(results.round(3))

# %%
# Compare each column with "new patients". The row-level split scores every
# model above what it achieves on patients it has never seen; the
# patient-grouped estimate comes much closer (with 40 patients on each side,
# all three numbers carry a few points of noise). Use ``StratifiedGroupKFold`` (or
# ``GroupKFold``) with the patient identifier whenever a patient can
# contribute more than one row, in ``cross_validate`` and ``GridSearchCV``
# alike (``GridSearchCV(...).fit(X, y, groups=patient_id)``).
import matplotlib.pyplot as plt

ax = results.plot.barh(figsize=(7, 4), xlim=(0.4, 1.0), width=0.8)
ax.set_xlabel("accuracy")
ax.invert_yaxis()
ax.legend(loc="lower right", fontsize=8)
ax.set_title("Same models, three estimates")
plt.tight_layout()
plt.show()
