"""Scorers of the studies' metrics, checked against sklearn.metrics by hand."""

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.svm import LinearSVC

from skmultimodal.metrics import (
    STUDY_METRICS,
    STUDY_SCORERS,
    average_precision,
    get_scorers,
    per_class_average_precision,
    per_class_roc_auc,
    per_class_roc_auc_scorer,
    roc_auc,
)


def _data(n_classes, labels, n=150, seed=0):
    rng = np.random.RandomState(seed)
    codes = rng.randint(n_classes, size=n)
    X = rng.normal(size=(n, 3)) + 0.8 * np.eye(n_classes, 3)[codes] * 2
    return X, np.asarray(labels)[codes]


@pytest.fixture(scope="module")
def binary():
    # "luminal" > "basal" alphabetically: it is classes_[1], the positive class.
    X, y = _data(2, ["luminal", "basal"])
    clf = LogisticRegression().fit(X, y)
    return clf, X, y


@pytest.fixture(scope="module")
def multiclass():
    X, y = _data(3, ["mitosis", "apoptosis", "tumor"])
    clf = LogisticRegression().fit(X, y)
    return clf, X, y


def test_binary_string_labels_match_sklearn(binary):
    clf, X, y = binary
    assert clf.classes_.tolist() == ["basal", "luminal"]
    pred, proba = clf.predict(X), clf.predict_proba(X)[:, 1]
    expected = {
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "f1": f1_score(y, pred, pos_label="luminal"),
        "average_precision": average_precision_score(y, proba, pos_label="luminal"),
        "roc_auc": roc_auc_score(y == "luminal", proba),
    }
    assert f1_score(y, pred, pos_label="luminal") != pytest.approx(
        f1_score(y, pred, pos_label="basal"))
    for scorers in (get_scorers(labels=clf.classes_), STUDY_SCORERS):
        for name, value in expected.items():
            assert scorers[name](clf, X, y) == pytest.approx(value, abs=1e-12), name
    assert list(get_scorers(labels=clf.classes_)) == list(expected)


def test_binary_explicit_positive_class(binary):
    clf, X, y = binary
    from sklearn.metrics import make_scorer

    proba_basal = clf.predict_proba(X)[:, 0]
    ap = make_scorer(average_precision, response_method="predict_proba", pos_label="basal")
    assert ap(clf, X, y) == pytest.approx(
        average_precision_score(y, proba_basal, pos_label="basal"))
    auc = per_class_roc_auc_scorer("basal", labels=clf.classes_)
    assert auc(clf, X, y) == pytest.approx(roc_auc_score(y == "basal", proba_basal))
    # One-vs-rest AUC of either class of a binary problem is the binary AUC.
    assert auc(clf, X, y) == pytest.approx(STUDY_SCORERS["roc_auc"](clf, X, y))


def test_binary_scorers_work_in_cross_validate_with_strings(binary):
    _, X, y = binary
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_validate(LogisticRegression(), X, y, cv=cv,
                            scoring=get_scorers(labels=np.unique(y)))
    ref = cross_validate(LogisticRegression(), X, y == "luminal", cv=cv,
                         scoring=["f1", "roc_auc", "average_precision"])
    for name in ("f1", "roc_auc", "average_precision"):
        np.testing.assert_allclose(scores[f"test_{name}"], ref[f"test_{name}"])


def test_decision_function_is_used_without_predict_proba(binary):
    _, X, y = binary
    svc = LinearSVC().fit(X, y)
    assert STUDY_SCORERS["roc_auc"](svc, X, y) == pytest.approx(
        roc_auc_score(y == "luminal", svc.decision_function(X)))


def test_multiclass_match_sklearn(multiclass):
    clf, X, y = multiclass
    classes = clf.classes_
    pred, proba = clf.predict(X), clf.predict_proba(X)
    scorers = get_scorers(labels=classes)
    assert list(scorers) == ["accuracy", "balanced_accuracy", "f1_macro",
                             "average_precision", "roc_auc_ovr", "roc_auc[apoptosis]",
                             "roc_auc[mitosis]", "roc_auc[tumor]"]
    per_class = {c: roc_auc_score(y == c, proba[:, j]) for j, c in enumerate(classes)}
    expected = {
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "f1_macro": f1_score(y, pred, average="macro"),
        "average_precision": np.mean(
            [average_precision_score(y == c, proba[:, j]) for j, c in enumerate(classes)]),
        "roc_auc_ovr": roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        **{f"roc_auc[{c}]": v for c, v in per_class.items()},
    }
    for name, value in expected.items():
        assert scorers[name](clf, X, y) == pytest.approx(value, abs=1e-12), name
    # Label-inferring versions agree when every class is present.
    assert STUDY_SCORERS["roc_auc"](clf, X, y) == pytest.approx(expected["roc_auc_ovr"])
    assert STUDY_SCORERS["average_precision"](clf, X, y) == pytest.approx(
        expected["average_precision"])
    assert per_class_roc_auc(y, proba, classes) == pytest.approx(per_class)
    assert roc_auc(y, proba, labels=classes) == pytest.approx(expected["roc_auc_ovr"])


def test_per_class_functions_handle_absent_class():
    y = np.array(["a", "a", "b", "b"])
    proba = np.array([[.7, .2, .1], [.5, .3, .2], [.2, .6, .2], [.4, .4, .2]])
    auc = per_class_roc_auc(y, proba, ["a", "b", "c"])
    assert auc["a"] == pytest.approx(1.0) and auc["b"] == pytest.approx(1.0)
    assert math.isnan(auc["c"])
    assert roc_auc(y, proba, labels=["a", "b", "c"]) == pytest.approx(1.0)
    ap = per_class_average_precision(y, proba, ["a", "b", "c"])
    assert ap["b"] == pytest.approx(average_precision_score(y == "b", proba[:, 1]))
    # 1-D scores are those of classes[1] of a binary problem.
    p = np.array([.1, .4, .35, .8])
    assert per_class_roc_auc([0, 0, 1, 1], p) == pytest.approx({0: 0.75, 1: 0.75})
    with pytest.raises(ValueError, match="labels="):
        per_class_roc_auc(y, proba)  # 3 columns, 2 classes in y


def test_get_scorers_names_and_errors(multiclass):
    clf, X, y = multiclass
    assert list(get_scorers()) == ["accuracy", "balanced_accuracy", "f1",
                                   "average_precision", "roc_auc"]
    assert list(get_scorers(n_classes=3)) == ["accuracy", "balanced_accuracy", "f1_macro",
                                              "average_precision", "roc_auc_ovr"]
    assert tuple(get_scorers("study1")) == STUDY_METRICS["study1"]
    assert list(get_scorers("study3")) == ["roc_auc"]
    assert list(get_scorers(["accuracy"], labels=clf.classes_, per_class=True)) == [
        "accuracy", "roc_auc[apoptosis]", "roc_auc[mitosis]", "roc_auc[tumor]"]
    one = get_scorers("roc_auc[tumor]", labels=clf.classes_)["roc_auc[tumor]"]
    assert one(clf, X, y) == pytest.approx(
        roc_auc_score(y == "tumor", clf.predict_proba(X)[:, 2]))
    # scikit-learn names and custom scorers pass through.
    scorers = get_scorers({"ll": "neg_log_loss", "acc": STUDY_SCORERS["accuracy"]})
    assert scorers["ll"](clf, X, y) == pytest.approx(-log_loss(y, clf.predict_proba(X)))
    assert scorers["acc"] is STUDY_SCORERS["accuracy"]
    with pytest.raises(ValueError, match="f1_macro"):
        get_scorers("f1", labels=clf.classes_)
    with pytest.raises(ValueError, match="Unknown metric"):
        get_scorers("not_a_metric")
    with pytest.raises(ValueError, match="labels"):
        get_scorers("study2")
    with pytest.raises(ValueError, match="n_classes"):
        get_scorers(n_classes=1)


def test_binary_per_class_auc_is_right_when_scorers_share_predictions():
    """cross_validate shares one predict_proba between scorers; class 0 stays right."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_validate

    X, y = make_classification(200, random_state=0)
    y = np.array(["benign", "malignant"])[y]
    cv = StratifiedKFold(3)
    scores = cross_validate(LogisticRegression(), X, y, cv=cv,
                            scoring=get_scorers(["roc_auc", "roc_auc_per_class"],
                                                labels=["benign", "malignant"]))
    proba = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")
    expected = [roc_auc_score(y[te] == "benign", proba[te, 0]) for _, te in cv.split(X, y)]
    np.testing.assert_allclose(scores["test_roc_auc[benign]"], expected)
    np.testing.assert_allclose(scores["test_roc_auc[malignant]"], expected)
