"""
================================================================
Late fusion: one model per modality, and a missing image
================================================================

:class:`~skmultimodal.LateFusionClassifier` fuses decisions rather than
features: each modality gets its own classifier, fitted on its own columns,
and their predicted probabilities are combined. Any scikit-learn classifier
can serve: here :class:`xgboost.XGBClassifier` on the clinical columns (the
tabular model of the histopathology + EHR study) and the library's
:class:`~skmultimodal.ImageClassifier` on the ultrasound image.

Two ways of combining them are compared:

- ``voting="soft"``: the mean of the two probabilities;
- ``voting="stacking"``: a logistic regression trained on out-of-fold
  probabilities of both models (so it never sees a probability of a row the
  model was trained on), which learns how much to trust each.

Late fusion also copes with a missing modality by construction: a row
without an image is predicted from the clinical model alone. The last part
of the example shows it.

The data are BrEaST-Lesions-USG (252 patients, one scan each, benign vs
malignant), with only the clinical columns recorded independently of the
image (Age, Tissue_composition, Signs, Symptoms). Without
``$SKMULTIMODAL_DATA/breast_lesions_usg`` the script falls back to synthetic
data from :func:`~skmultimodal.datasets.make_multimodal_classification`. The
CNN is small (32-pixel images, six epochs), so the script runs in a few
minutes on a CPU.
"""

# %%
# Load the data
# -------------
# The scans are decoded once to 32 x 32 greyscale arrays: image columns may
# hold paths, but every fold would otherwise decode the same full-size PNG
# files again. XGBoost reads pandas categoricals natively
# (``enable_categorical=True``), so the string columns become ``category``
# columns; ``Age`` keeps its NaNs, which XGBoost handles too.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): a stratified subsample of 120 patients, 16-pixel images, two
# epochs, fewer trees.
# Its numbers are not those discussed below.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.model_selection import train_test_split

from skmultimodal.datasets import (
    load_breast_lesions_usg,
    make_multimodal_classification,
)

IMAGE_SIZE = 16 if QUICK else 32
N_QUICK = 120  # patients of the quick run


def read_small(path, size=IMAGE_SIZE):
    """Decode one scan to a (size, size) uint8 greyscale array."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((size, size), Image.BILINEAR))


try:
    lesions = load_breast_lesions_usg()
    data, y, groups = lesions.data, lesions.target, lesions.groups
    if QUICK:  # the same stratified subsample at every run
        keep, _ = train_test_split(np.arange(len(y)), train_size=N_QUICK, stratify=y,
                                   random_state=0)
        keep = np.sort(keep)
        data, y, groups = data.iloc[keep].reset_index(drop=True), y[keep], groups[keep]
    clinical_cols = lesions.feature_groups["clinical"]
    X = data[clinical_cols].copy()
    for col in clinical_cols:
        if col != "Age":
            X[col] = X[col].astype("category")
    X.insert(0, "image", pd.Series(
        [read_small(p) for p in data["image_path"]], dtype=object))
    real_data = True
    source = "BrEaST-Lesions-USG, benign vs malignant"
except FileNotFoundError as exc:
    print(f"BrEaST-Lesions-USG not found ({exc}).\nUsing synthetic data instead.")
    X, y = make_multimodal_classification(
        N_QUICK if QUICK else 252, image_size=IMAGE_SIZE, n_features=4, n_informative=2,
        random_state=0,
    )
    groups = np.arange(len(X))
    clinical_cols = [c for c in X.columns if c.startswith("tab_")]
    real_data = False
    source = "synthetic image + table (no BrEaST-Lesions-USG)"

if QUICK:
    print(f"Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): {len(X)} patients, "
          f"{IMAGE_SIZE}-pixel images, 2 epochs, "
          "fewer trees; not the full example's results.")
print(f"{source}: {len(X)} rows; clinical columns {clinical_cols}")

# %%
# One model per modality
# ----------------------
# Each entry of ``modalities`` is ``(name, estimator, columns)``, as the
# transformers of a :class:`~sklearn.compose.ColumnTransformer`. The image
# classifier gets the ``image`` column, the gradient-boosted trees the
# clinical columns. Flips and rotations (``augment``) are used on real scans
# only (the synthetic images encode the class by where a blob sits).
from xgboost import XGBClassifier

from skmultimodal import ImageClassifier, LateFusionClassifier

xgb = XGBClassifier(
    n_estimators=50 if QUICK else 200, max_depth=2, learning_rate=0.05, subsample=0.8,
    enable_categorical=True, tree_method="hist", n_jobs=1, random_state=0,
)
cnn = ImageClassifier(
    "image", backbone="simple_cnn", image_size=IMAGE_SIZE, channels=1,
    augment=real_data, max_epochs=2 if QUICK else 6, random_state=0,
)
modalities = [("clinical", xgb, clinical_cols), ("image", cnn, ["image"])]
soft = LateFusionClassifier(modalities, voting="soft")
stacking = LateFusionClassifier(modalities, voting="stacking", cv=3, random_state=0)

# %%
# Cross-validation
# ----------------
# Three patient-grouped folds (:func:`~skmultimodal.model_selection.evaluate`
# with ``groups``). Stacking trains each base model three more times inside
# every fold for its out-of-fold probabilities, so it is the slow one. The
# unimodal scores need no extra fits: each fold's fitted soft-voting model
# keeps its per-modality models in ``named_estimators_``
# (``return_estimators=True``), and we score those on the same test folds.
import time

from sklearn.metrics import accuracy_score, roc_auc_score

from skmultimodal.model_selection import evaluate

start = time.perf_counter()
report = evaluate({"late fusion, soft": soft, "late fusion, stacking": stacking},
                  X, y, groups=groups, cv=3, scoring=["accuracy", "roc_auc"],
                  n_bootstrap=100 if QUICK else 500, return_estimators=True)
print(f"evaluation: {time.perf_counter() - start:.0f} s")

unimodal = {"clinical": np.zeros(len(y)), "image": np.zeros(len(y))}
for fitted, (_, test) in zip(report.estimators["late fusion, soft"], report.splits):
    for name in unimodal:
        columns = clinical_cols if name == "clinical" else ["image"]
        model = fitted.named_estimators_[name]
        unimodal[name][test] = model.predict_proba(X.iloc[test][columns])[:, 1]

rows = {f"{name} only": {"accuracy": accuracy_score(y, p > 0.5),
                         "roc_auc": roc_auc_score(y, p)}
        for name, p in unimodal.items()}
rows.update(report.pivot("pooled").to_dict(orient="index"))
table = pd.DataFrame(rows).T
print("metrics on the pooled out-of-fold predictions:")
print(table.round(3))
print(report.to_markdown())

# %%
# What the stacking learned
# -------------------------
# The meta-learner sees, per modality, the probability of each class and a
# presence flag. As the two probabilities of a model sum to one, its weight
# on a model is the difference of its two coefficients (one fitted
# meta-learner per fold).
for k, fitted in enumerate(report.estimators["late fusion, stacking"]):
    coef = fitted.final_estimator_.coef_[0]
    # meta-features: [P(benign), P(malignant), present], clinical then image
    print(f"fold {k}: weight on the clinical model {coef[1] - coef[0]:+.2f}, "
          f"on the image model {coef[4] - coef[3]:+.2f}")

# %%
# ROC curves of the four out-of-fold predictions.
import matplotlib.pyplot as plt
from sklearn.metrics import RocCurveDisplay

scores = {f"{name} only": p for name, p in unimodal.items()}
scores.update({name: frame["proba_1"].to_numpy()
               for name, frame in report.predictions.items()})
y_oof = report.predictions["late fusion, soft"]["y_true"].to_numpy()
order = report.rows  # evaluate's predictions follow the folds' test rows
fig, ax = plt.subplots(figsize=(6, 5.5))
for k, (name, p) in enumerate(scores.items()):
    p = p[order] if name.endswith("only") else p
    RocCurveDisplay.from_predictions(y_oof, p, name=name, ax=ax,
                                     plot_chance_level=k == len(scores) - 1)
ax.legend(fontsize=8, loc="lower right")
ax.set_title(f"Out-of-fold ROC, {source}", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# Soft voting gives both models the same say however good each is;
# stacking can learn to weigh them, at the price of three extra fits of
# each model per fold and of a meta-learner trained on the out-of-fold
# probabilities of two thirds of a small data set, whose weights (printed
# above) move from fold to fold. On BrEaST-Lesions-USG the clinical model is
# the stronger one, and the two fusions end close to each other and close to
# the clinical model alone: the weak image model adds little that the
# clinical columns do not already say. With test folds of a few dozen
# patients, such differences are within the noise (see the intervals in the
# report).
#
# A row without an image
# ----------------------
# We take the models fitted on the first training fold and predict that
# fold's test patients with the image of one of them removed (``None`` in
# the image cell). The row still gets a prediction. With soft voting it is
# exactly the clinical model's probability; with stacking the image model's
# probabilities are replaced by the training class frequencies and its
# presence flag is 0, a case the meta-learner saw in no training row (every
# training row had an image), so treat such a prediction with care, or train
# with some images missing.
_, test = report.splits[0]
X_test = X.iloc[test].copy()
X_test.iloc[0, X_test.columns.get_loc("image")] = None
print(f"row {X_test.index[0]} has no image:", X_test["image"].iloc[0])

for name in ["late fusion, soft", "late fusion, stacking"]:
    model = report.estimators[name][0]
    proba = model.predict_proba(X_test)
    clinical_only = model.named_estimators_["clinical"].predict_proba(
        X_test.iloc[:1][clinical_cols])
    print(f"{name}: P(malignant) for the row without image {proba[0, 1]:.3f} "
          f"(clinical model alone {clinical_only[0, 1]:.3f}); "
          f"all {len(proba)} test rows predicted")
