"""Study 3: DeepFeatureExtractor and make_stacking_ensemble."""

import pickle

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from skmultimodal import ImageClassifier
from skmultimodal.fusion import DeepFeatureExtractor, make_stacking_ensemble

from . import IMAGE_SIZE, make_data, with_two_images

ENCODER = {"max_epochs": 2, "lr": 1e-2, "batch_size": 32}
COMMON = dict(backbone="simple_cnn", image_size=IMAGE_SIZE, channels=1,
              encoder_params=ENCODER, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_data(60, image_share=1.0)
    return with_two_images(X).rename(columns={"image": "us_path", "image2": "mammo_path"}), y


@pytest.fixture(scope="module")
def pipeline(data):
    X, y = data
    pipe = make_stacking_ensemble({"us": "us_path", "mammo": "mammo_path"}, cv=3, **COMMON)
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
    assert list(features.encoders_) == ["us", "mammo"]
    assert features.encoders_["mammo"].column == "mammo_path"
    assert pipeline.named_steps["stacking"].n_features_in_ == 256
    assert list(pipeline.feature_names_in_) == list(X.columns)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def test_extractor_is_deterministic_and_supervised(data):
    X, y = data
    a = DeepFeatureExtractor({"us": "us_path"}, **COMMON).fit(X, y)
    b = DeepFeatureExtractor({"us": "us_path"}, **COMMON).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.transform(X).dtype == np.float32
    assert isinstance(a.encoders_["us"], ImageClassifier)
    assert a.encoders_["us"].n_iter_ == ENCODER["max_epochs"]
    with pytest.raises(ValueError, match="requires y"):
        DeepFeatureExtractor({"us": "us_path"}, **COMMON).fit(X, None)


def test_attention_per_column(data):
    X, y = data
    ext = DeepFeatureExtractor(
        {"us": "us_path", "mammo": "mammo_path"}, backbone="resnet18",
        attention={"us": "eca", "mammo": "cbam"}, image_size=8, channels=1,
        encoder_params={"max_epochs": 1}, device="cpu", random_state=0,
    ).fit(X.iloc[:20], y[:20])
    assert ext.encoders_["us"].attention == "eca"
    assert ext.encoders_["mammo"].attention == "cbam"
    assert ext.transform(X.iloc[:3]).shape == (3, 1024)


def test_extractor_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="unknown image columns"):
        DeepFeatureExtractor({"us": "us_path"}, attention={"mammo": "cbam"}).fit(X, y)
    with pytest.raises(ValueError, match="encoder_params must not set"):
        DeepFeatureExtractor({"us": "us_path"}, encoder_params={"column": "x"}).fit(X, y)
    with pytest.raises(TypeError, match="DataFrame"):
        DeepFeatureExtractor({"us": "us_path"}, **COMMON).fit(X.to_numpy(), y)
    with pytest.raises(KeyError, match="available columns"):
        DeepFeatureExtractor({"us": "nope"}, **COMMON).fit(X, y)
    with pytest.raises(ValueError, match="duplicate"):
        DeepFeatureExtractor([("a", "us_path"), ("a", "mammo_path")], **COMMON).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_outer_cross_validation(data):
    X, y = data
    pipe = make_stacking_ensemble(["us_path"], cv=2, **{**COMMON, "encoder_params": {
        "max_epochs": 1}})
    assert isinstance(pipe, Pipeline)
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()
