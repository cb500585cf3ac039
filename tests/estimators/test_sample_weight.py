"""sample_weight in fit: every classifier, consistent with class_weight."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import (
    CrossAttentionFusionClassifier,
    ImageClassifier,
    ImageModality,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    TabularMLPClassifier,
    TabularModality,
)
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators import DeepFeatureExtractor

TAB = ["tab_0", "tab_1", "tab_2", "tab_3"]
N = 40


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(N, image_size=16, n_features=4, n_informative=2,
                                          random_state=0)
    return X, y


def _modalities():
    return [("img", ImageModality("image", backbone="simple_cnn", image_size=16)),
            ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))]


NETS = {
    "image": lambda: ImageClassifier("image", backbone="simple_cnn", image_size=16,
                                     max_epochs=2, random_state=0, device="cpu"),
    "tabular": lambda: TabularMLPClassifier(TAB, hidden_layer_sizes=(8,), max_epochs=3,
                                            batch_size=8, random_state=0, device="cpu"),
    "intermediate": lambda: IntermediateFusionClassifier(
        _modalities(), embed_dim=8, head_hidden_sizes=(8,), max_epochs=2, batch_size=8,
        random_state=0, device="cpu"),
    "cross": lambda: CrossAttentionFusionClassifier(
        _modalities(), embed_dim=8, n_heads=2, n_layers=1, n_tokens=2, max_epochs=2,
        batch_size=8, random_state=0, device="cpu"),
}


def _proba(est, X, y, **fit_params):
    return clone(est).fit(X, y, **fit_params).predict_proba(X)


@pytest.mark.parametrize("name", list(NETS))
def test_equal_weights_train_exactly_as_no_weights(data, name):
    X, y = data
    est = NETS[name]()
    np.testing.assert_array_equal(_proba(est, X, y, sample_weight=np.full(N, 2.5)),
                                  _proba(est, X, y))


@pytest.mark.parametrize("name", list(NETS))
def test_zero_weight_is_removing_the_row(data, name):
    X, y = data
    est = NETS[name]()
    weight = np.where(np.arange(N) % 4 == 0, 0.0, 1.0)
    keep = weight > 0
    weighted = clone(est).fit(X, y, sample_weight=weight)
    removed = clone(est).fit(X[keep], y[keep])
    np.testing.assert_array_equal(weighted.predict_proba(X), removed.predict_proba(X))


@pytest.mark.parametrize("name", list(NETS))
def test_weights_move_the_model(data, name):
    """Heavy weights on class 1 raise its predicted probability, as class_weight does."""
    X, y = data
    est = NETS[name]().set_params(max_epochs=4)
    plain = _proba(est, X, y)[:, 1].mean()
    weighted = _proba(est, X, y, sample_weight=np.where(y == 1, 20.0, 1.0))[:, 1].mean()
    assert weighted > plain + 0.02, (plain, weighted)


@pytest.mark.parametrize("name", ["tabular", "intermediate"])
def test_per_class_weights_match_class_weight(data, name):
    X, y = data
    est = NETS[name]()
    by_class = _proba(est.set_params(class_weight={0: 1.0, 1: 3.0}), X, y)
    by_row = _proba(est.set_params(class_weight=None), X, y,
                    sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_allclose(by_row, by_class, atol=1e-5)


def test_class_and_sample_weights_multiply(data):
    X, y = data
    est = NETS["tabular"]()
    both = _proba(est.set_params(class_weight={0: 1.0, 1: 2.0}), X, y,
                  sample_weight=np.where(np.arange(N) % 2, 1.5, 1.0))
    product = np.where(y == 1, 2.0, 1.0) * np.where(np.arange(N) % 2, 1.5, 1.0)
    by_row = _proba(est.set_params(class_weight=None), X, y, sample_weight=product)
    np.testing.assert_allclose(both, by_row, atol=1e-5)


@pytest.mark.parametrize("bad,match", [
    (np.zeros(N), "[Ss]ample weights.*zero|all zero"),
    (np.r_[-1.0, np.ones(N - 1)], "[Nn]egative"),
    (np.ones(N - 1), "shape|samples"),
    (np.r_[np.nan, np.ones(N - 1)], "NaN|infinity"),
])
def test_bad_sample_weight(data, bad, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        NETS["tabular"]().fit(X, y, sample_weight=bad)


def test_late_fusion_passes_weights_to_every_estimator(data):
    X, y = data
    weight = np.linspace(0.5, 3.0, N)
    late = LateFusionClassifier(
        [("a", LogisticRegression(), ["tab_0", "tab_1"]),
         ("b", make_pipeline(StandardScaler(), LogisticRegression()), ["tab_2", "tab_3"])],
        voting="stacking", cv=3).fit(X, y, sample_weight=weight)
    own = LogisticRegression().fit(X[["tab_0", "tab_1"]], y, sample_weight=weight)
    np.testing.assert_allclose(late.named_estimators_["a"].coef_, own.coef_)
    own_b = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X[["tab_2", "tab_3"]], y, logisticregression__sample_weight=weight)
    np.testing.assert_allclose(late.named_estimators_["b"][-1].coef_, own_b[-1].coef_)
    unweighted = clone(late).fit(X, y)
    assert not np.allclose(late.final_estimator_.coef_, unweighted.final_estimator_.coef_)


def test_late_fusion_refuses_an_estimator_without_sample_weight(data):
    X, y = data
    late = LateFusionClassifier([("a", LogisticRegression(), TAB),
                                 ("knn", KNeighborsClassifier(3), TAB)])
    with pytest.raises(ValueError, match=r"'knn' \(KNeighborsClassifier\) does not accept"):
        late.fit(X, y, sample_weight=np.ones(N))
    late.fit(X, y)  # without weights it fits


def test_deep_feature_extractor_weights_its_cnns(data):
    X, y = data
    ext = DeepFeatureExtractor(
        [("image", ImageModality("image", backbone="simple_cnn", image_size=16))],
        max_epochs=2, random_state=0, device="cpu")
    weight = np.where(np.arange(N) % 4 == 0, 0.0, 1.0)
    weighted = clone(ext).fit(X, y, sample_weight=weight).transform(X)
    removed = clone(ext).fit(X[weight > 0], y[weight > 0]).transform(X)
    np.testing.assert_array_equal(weighted, removed)
