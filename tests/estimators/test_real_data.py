"""The estimators on the public data sets (SKMULTIMODAL_DATA).

Published baselines these tests hold the library to are listed in the data
folder's README: BreastMNIST test-split majority accuracy 0.731; METABRIC
Luminal vs Basal/Her2 logistic regression on the 489 genes F1 0.870,
PR-AUC 0.951 (5-fold stratified CV).
"""

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_validate

from skmultimodal import ImageClassifier, TabularMLPClassifier
from skmultimodal.datasets import load_breastmnist, load_metabric


def test_breastmnist_image_classifier_beats_majority_class(data_home):
    train = load_breastmnist(data_home=data_home, split="train")
    test = load_breastmnist(data_home=data_home, split="test")
    clf = ImageClassifier(backbone="simple_cnn", image_size=28, channels=1, augment=True,
                          max_epochs=20, random_state=0, device="cpu")
    clf.fit(train.images, train.target)
    majority = max(np.mean(test.target), 1 - np.mean(test.target))
    accuracy = accuracy_score(test.target, clf.predict(test.images))
    auc = roc_auc_score(test.target, clf.predict_proba(test.images)[:, 1])
    assert accuracy >= majority + 0.05, (accuracy, majority)
    assert auc >= 0.80, auc


def test_metabric_mlp_matches_logistic_regression_baseline(data_home):
    bunch = load_metabric(data_home=data_home, modalities="genes")
    X, y = bunch.data[bunch.feature_groups["genes"]], bunch.target
    scores = cross_validate(TabularMLPClassifier(random_state=0, device="cpu"), X, y,
                            cv=StratifiedKFold(5, shuffle=True, random_state=0),
                            scoring=["f1", "average_precision"])
    assert scores["test_f1"].mean() >= 0.870, scores["test_f1"]
    assert scores["test_average_precision"].mean() >= 0.951, scores["test_average_precision"]
