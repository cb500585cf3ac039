"""Study 3: make_stacking_ensemble (DeepFeatureExtractor is tested in tests/estimators)."""

import pickle

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from skmultimodal import DeepFeatureExtractor, ImageModality
from skmultimodal.fusion import make_stacking_ensemble

from . import image_modality, make_data, with_two_images

COMMON = dict(max_epochs=2, lr=1e-2, batch_size=32, device="cpu", random_state=0)


def modalities():
    """Two tiny attention CNNs (fresh objects: set_params changes them in place)."""
    return [("us", image_modality("us_path", attention="eca")),
            ("mammo", image_modality("mammo_path", attention="cbam"))]


@pytest.fixture(scope="module")
def data():
    X, y = make_data(60, image_share=1.0)
    return with_two_images(X).rename(columns={"image": "us_path", "image2": "mammo_path"}), y


@pytest.fixture(scope="module")
def pipeline(data):
    X, y = data
    pipe = make_stacking_ensemble(modalities(), cv=3, **COMMON)
    return pipe.fit(X, y)


def test_pipeline_structure(pipeline):
    assert [name for name, _ in pipeline.steps] == ["features", "scale", "stacking"]
    stacking = pipeline.named_steps["stacking"]
    assert isinstance(stacking, StackingClassifier)
    assert [n for n, _ in stacking.estimators] == ["lr", "svm", "rf", "et"]
    assert isinstance(stacking.final_estimator, MLPClassifier)
    assert stacking.cv == 3
    assert isinstance(stacking.estimators[1][1], CalibratedClassifierCV)


def test_fit_predict_two_image_columns(data, pipeline):
    X, y = data
    proba = pipeline.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    features = pipeline.named_steps["features"]
    names = features.get_feature_names_out()
    assert names[0] == "us_0" and names[-1] == "mammo_127" and len(names) == 256
    assert isinstance(features, DeepFeatureExtractor)
    assert list(features.encoders_) == ["us", "mammo"]
    assert features.encoders_["mammo"].column == "mammo_path"
    assert features.encoders_["us"].attention == "eca"
    assert features.encoders_["mammo"].attention == "cbam"
    assert features.encoders_["us"].n_iter_ == COMMON["max_epochs"]
    assert pipeline.named_steps["stacking"].n_features_in_ == 256
    assert list(pipeline.feature_names_in_) == list(X.columns)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_outer_cross_validation(data):
    X, y = data
    pipe = make_stacking_ensemble([("us", image_modality("us_path"))], cv=2,
                                  **{**COMMON, "max_epochs": 1})
    assert isinstance(pipe, Pipeline)
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_parameters_reach_the_extractor():
    mods = modalities()
    pipe = make_stacking_ensemble(mods, max_epochs=3, batch_size=8, lr=0.1, cv=4,
                                  device="cpu", random_state=7)
    features = pipe.named_steps["features"]
    assert features.modalities is mods
    assert (features.max_epochs, features.batch_size, features.lr) == (3, 8, 0.1)
    assert (features.device, features.random_state) == ("cpu", 7)
    assert pipe.named_steps["stacking"].cv == 4
    # further parameters of the CNNs go through the pipeline
    pipe.set_params(features__us__image_size=8, features__early_stopping=True,
                    features__mammo__attention=None)
    assert features.modalities[0][1].image_size == 8
    assert features.modalities[1][1].attention is None
    assert features.early_stopping is True
    assert pipe.get_params()["features__us__attention"] == "eca"


def test_random_state_instance_and_final_estimator():
    from sklearn.linear_model import LogisticRegression

    final = LogisticRegression()
    us = ImageModality("us_path")
    pipe = make_stacking_ensemble([("us", us)], final_estimator=final,
                                  random_state=np.random.RandomState(0))
    features = pipe.named_steps["features"]
    assert isinstance(features.random_state, int)
    assert features.modalities == [("us", us)]
    assert pipe.named_steps["stacking"].final_estimator is final
