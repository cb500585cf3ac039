"""
===============================================
An image classifier on BreastMNIST ultrasound
===============================================

:class:`~skmultimodal.ImageClassifier` trains a convolutional network end to
end on a column of images, like any scikit-learn classifier: ``fit`` on the
training rows, ``predict_proba`` on new ones.

BreastMNIST holds 780 breast ultrasound images of 28x28 pixels with the
official MedMNIST train / validation / test split. We train on the train split
and score on the test split. About 73% of the images are normal or benign, so
a classifier that always answers "normal/benign" is already 73% accurate:
accuracy means something only next to that majority-class baseline, and the
ROC AUC and balanced accuracy say more.

The script reads ``breastmnist/breastmnist.npz`` from the data home
(``$SKMULTIMODAL_DATA``, see :func:`~skmultimodal.datasets.get_data_home`);
when the file is missing, :func:`~skmultimodal.datasets.load_breastmnist`
downloads it (560 kB, checksum verified) if a connection is available. If
neither works, the script falls back to synthetic 28x28 images from
:func:`~skmultimodal.datasets.make_multimodal_classification` so that it still
runs; the numbers are then about that synthetic task.
"""

# %%
# Load the data
# -------------
# :func:`~skmultimodal.datasets.load_breastmnist` returns a DataFrame with one
# ``image`` column whose cells are the (28, 28) uint8 arrays. Image columns may
# equally hold file paths: the estimators read them batch by batch.
#
# ``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs a small version (how the documentation
# is built): a stratified subsample of 250 training images and 4 epochs.
import os

# Small data, few epochs: for building the documentation quickly.
QUICK = os.environ.get("SKMULTIMODAL_EXAMPLES_QUICK") == "1"

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skmultimodal.datasets import load_breastmnist, make_multimodal_classification

try:
    train = load_breastmnist(split="train")
    test = load_breastmnist(split="test")
    X_train, y_train = train.data, train.target
    X_test, y_test = test.data, test.target
    target_names = train.target_names
    real_data = True
except FileNotFoundError as exc:
    print(f"BreastMNIST not found ({exc}).\nUsing synthetic images instead.")
    X, y = make_multimodal_classification(
        700, image_size=28, image_share=1.0, random_state=0
    )
    X = X[["image"]]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=156, stratify=y, random_state=0
    )
    target_names = np.array(["class 0", "class 1"])
    real_data = False

if QUICK:  # the same stratified subsample at every run
    n_all = len(y_train)
    X_train, _, y_train, _ = train_test_split(X_train, y_train, train_size=250,
                                              stratify=y_train, random_state=0)
    print(f"Quick run (SKMULTIMODAL_EXAMPLES_QUICK=1): {len(y_train)} of {n_all} training "
          "images, 4 epochs; not the full example's results.")

print(f"train: {len(y_train)} images, test: {len(y_test)} images")
print(pd.Series(target_names[y_test]).value_counts().rename("test images"))

# %%
# Train the classifier
# --------------------
# A small CNN (``backbone="simple_cnn"``) suits 28-pixel images; on larger
# images ``"resnet18"`` or ``"resnet50"`` (optionally with ImageNet weights
# from a local file, ``weights=...``) are the usual choices. The images are
# greyscale, so ``channels=1``. The default augmentation (``augment="light"``:
# horizontal flips, a small affine, brightness and contrast jitter) helps on
# ultrasound; the synthetic images encode the class by where a blob sits,
# which flips would scramble, so the stand-in trains with ``augment=False``.
# ``verbose=1`` would print skorch's epoch table and a progress bar.
import time

from skmultimodal import ImageClassifier

clf = ImageClassifier(
    column="image",
    backbone="simple_cnn",
    image_size=28,
    channels=1,
    augment="light" if real_data else False,
    max_epochs=4 if QUICK else 30,
    random_state=0,
)
start = time.perf_counter()
clf.fit(X_train, y_train)
print(f"trained {clf.n_iter_} epochs in {time.perf_counter() - start:.0f} s "
      f"on {clf.device_}")

# %%
# The training loss per epoch is in skorch's history of the fitted network,
# ``clf.net_``.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, clf.n_iter_ + 1), clf.net_.history[:, "train_loss"], marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("ImageClassifier training")
fig.tight_layout()

# %%
# Compare with the majority class
# -------------------------------
# :class:`~sklearn.dummy.DummyClassifier` gives the baseline. The positive
# class for the ROC curve and the F1 score is malignant (label 0 of the file).
from sklearn.dummy import DummyClassifier
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)

pos_label = 0
majority = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
rows = {}
for name, model in [("majority class", majority), ("ImageClassifier", clf)]:
    proba = model.predict_proba(X_test)[:, list(model.classes_).index(pos_label)]
    pred = model.predict(X_test)
    rows[name] = {
        "accuracy": accuracy_score(y_test, pred),
        "balanced accuracy": balanced_accuracy_score(y_test, pred),
        "ROC AUC": roc_auc_score(y_test == pos_label, proba),
        f"F1 ({target_names[pos_label]})": f1_score(
            y_test, pred, pos_label=pos_label, zero_division=0.0
        ),
    }
print(pd.DataFrame(rows).T.round(3))

# %%
# ROC curve
# ---------
# Built from the test-split probabilities with scikit-learn's
# :class:`~sklearn.metrics.RocCurveDisplay`.
from sklearn.metrics import RocCurveDisplay

proba_pos = clf.predict_proba(X_test)[:, list(clf.classes_).index(pos_label)]
fig, ax = plt.subplots(figsize=(5, 5))
RocCurveDisplay.from_predictions(
    y_test, proba_pos, pos_label=pos_label, name="ImageClassifier", ax=ax,
    plot_chance_level=True,
)
ax.set_title(
    "BreastMNIST test split" if real_data else "Synthetic images (no BreastMNIST)"
)
plt.show()
