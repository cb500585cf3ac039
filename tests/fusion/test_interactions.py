"""Fusion estimators on labels that depend on an interaction of the modalities.

``make_multimodal_classification(interaction=True)`` labels a row by the sign
of the product of an image latent and a tabular latent: each modality alone
is at chance, so a model has to learn how the modalities combine, not add up
their separate evidence. The task here is small (300 training rows, 8 x 8
images, 6 tabular columns of which 4 informative, noise 0.1: the best
accuracy possible is about 0.97; and a harder one, with 12 columns and noise
0.5, best accuracy about 0.86); ``benchmarks/bench_interactions.py`` runs
the 600-row, 40-column version (``docs/benchmarks.md``, "Fusion that learns
interactions").
"""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import (
    CrossAttentionFusionClassifier,
    IntermediateFusionClassifier,
    LateFusionClassifier,
)
from skmultimodal.modalities import ImageModality, TabularModality

N_TRAIN, N_TEST = 300, 200
IMAGE_SIZE = 8
TAB = [f"tab_{i}" for i in range(6)]


@pytest.fixture(autouse=True)
def _one_thread():
    # small networks train faster on one thread, and a busy machine stays usable
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _task(seed, n_features=len(TAB), noise=0.1):
    X, y = make_multimodal_classification(
        N_TRAIN + N_TEST, image_size=IMAGE_SIZE, n_features=n_features, noise=noise,
        interaction=True, random_state=seed)
    return X.iloc[:N_TRAIN], y[:N_TRAIN], X.iloc[N_TRAIN:], y[N_TRAIN:]


def _modalities(n_features=len(TAB)):
    return [
        ("img", ImageModality("image", backbone="simple_cnn", image_size=IMAGE_SIZE,
                              channels=1)),
        ("tab", TabularModality([f"tab_{i}" for i in range(n_features)])),
    ]


def _pixels(column):
    return np.stack([np.asarray(im, dtype=float).ravel() for im in column]) / 255.0


def test_each_modality_alone_and_late_fusion_are_at_chance():
    X, y, X_test, y_test = _task(0)
    image_model = make_pipeline(FunctionTransformer(_pixels), StandardScaler(),
                                LogisticRegression(max_iter=1000))
    tab_model = make_pipeline(StandardScaler(), LogisticRegression())
    for model, columns in [(image_model, "image"), (tab_model, TAB)]:
        accuracy = model.fit(X[columns], y).score(X_test[columns], y_test)
        assert abs(accuracy - 0.5) < 0.12
    # averaging the per-modality predictions cannot recover the interaction
    late = LateFusionClassifier([("img", image_model, "image"), ("tab", tab_model, TAB)])
    assert abs(late.fit(X, y).score(X_test, y_test) - 0.5) < 0.12


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("estimator", [IntermediateFusionClassifier,
                                       CrossAttentionFusionClassifier])
def test_fusion_defaults_learn_the_interaction(estimator, seed):
    X, y, X_test, y_test = _task(seed)
    clf = estimator(_modalities(), random_state=seed).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.85


@pytest.mark.parametrize("seed", [0, 1])
def test_intermediate_defaults_learn_the_interaction_through_noise_columns(seed):
    # the generator's default noise (best accuracy about 0.86) and 8 columns
    # without information next to the 4 informative ones: the concatenation
    # of ReLU projections (the defaults before projection="layernorm" and
    # fusion="bilinear") memorises the noise here (0.74, 0.58 and 0.45
    # held-out on seeds 0-2), the defaults learn the rule (0.80, 0.77, 0.74)
    X, y, X_test, y_test = _task(seed, n_features=12, noise=0.5)
    clf = IntermediateFusionClassifier(_modalities(12), random_state=seed).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.7
