"""DeepFeatureExtractor: one supervised CNN per (name, ImageModality) pair."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmultimodal import DeepFeatureExtractor, ImageClassifier
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators import DeepFeatureExtractor as EstimatorsDeepFeatureExtractor
from skmultimodal.modalities import ImageModality, TabularModality

SIZE = 16
SMALL_CNN = {"channels": (4, 8)}
TRAIN = dict(max_epochs=1, batch_size=16, lr=1e-2, device="cpu", random_state=0)


def image(column, **kwargs):
    """A tiny grey simple_cnn modality reading ``column``."""
    kwargs = {"backbone": "simple_cnn", "image_size": SIZE, "channels": 1,
              "backbone_params": SMALL_CNN, **kwargs}
    return ImageModality(column, **kwargs)


def two_modalities(**kwargs):
    return [("us", image("us_path", **kwargs)), ("mammo", image("mammo_path", **kwargs))]


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(24, image_size=SIZE, image_share=1.0,
                                          random_state=0)
    X = X.rename(columns={"image": "us_path"})
    X["mammo_path"] = [im[:, ::-1] for im in X["us_path"]]
    return X, y


def test_public_import_paths():
    assert DeepFeatureExtractor is EstimatorsDeepFeatureExtractor
    assert DeepFeatureExtractor.__module__ == "skmultimodal.estimators._features"


def test_extractor_is_deterministic_and_supervised(data):
    X, y = data
    a = DeepFeatureExtractor([("us", image("us_path"))], **TRAIN).fit(X, y)
    b = DeepFeatureExtractor([("us", image("us_path"))], **TRAIN).fit(X, y)
    Z = a.transform(X)
    np.testing.assert_array_equal(Z, b.transform(X))
    assert Z.dtype == np.float32 and Z.shape == (len(X), SMALL_CNN["channels"][-1])
    assert a.n_features_out_ == Z.shape[1]
    assert isinstance(a.encoders_["us"], ImageClassifier)
    assert a.encoders_["us"].n_iter_ == TRAIN["max_epochs"]
    assert list(a.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="requires y"):
        DeepFeatureExtractor([("us", image("us_path"))], **TRAIN).fit(X, None)


def test_two_modalities_concatenate_their_features(data):
    X, y = data
    ext = DeepFeatureExtractor(two_modalities(), **TRAIN).fit(X, y)
    width = SMALL_CNN["channels"][-1]
    assert list(ext.encoders_) == ["us", "mammo"]
    assert ext.encoders_["mammo"].column == "mammo_path"
    assert ext.transform(X.iloc[:3]).shape == (3, 2 * width)
    names = ext.get_feature_names_out()
    assert names[0] == "us_0" and names[-1] == f"mammo_{width - 1}"
    assert len(names) == 2 * width


def test_training_params_reach_every_cnn(data):
    X, y = data
    ext = DeepFeatureExtractor(two_modalities(), dropout=0.25, lr=5e-3, batch_size=8,
                               max_epochs=1, device="cpu", random_state=0).fit(X, y)
    for enc in ext.encoders_.values():
        assert enc.dropout == 0.25 and enc.lr == 5e-3 and enc.batch_size == 8
        assert enc.max_epochs == 1 and enc.device == "cpu"
    # one seed drawn per modality
    assert ext.encoders_["us"].random_state != ext.encoders_["mammo"].random_state


def test_augment_in_the_modality_fits(data):
    # augment is an ImageModality parameter; it used to clash with the one the
    # extractor passed itself ("multiple values for keyword argument 'augment'").
    X, y = data
    ext = DeepFeatureExtractor([("us", image("us_path", augment=True))],
                               max_epochs=1, device="cpu", random_state=0).fit(X, y)
    assert ext.encoders_["us"].augment is True
    assert ext.transform(X.iloc[:2]).shape == (2, ext.n_features_out_)


def test_per_modality_settings_reach_the_trained_cnns(data):
    X, y = data
    ext = DeepFeatureExtractor(
        [("us", image("us_path", attention="eca")),
         ("mammo", image("mammo_path", attention="cbam", backbone_params={"channels": (4,)}))],
        **TRAIN,
    ).fit(X, y)
    assert ext.encoders_["us"].attention == "eca"
    assert ext.encoders_["mammo"].attention == "cbam"
    assert ext.encoders_["us"].net_.module_.encoder.attention == "eca"
    assert ext.encoders_["mammo"].net_.module_.encoder.attention == "cbam"
    assert ext.encoders_["mammo"].backbone_params == {"channels": (4,)}
    assert ext.n_features_out_ == 8 + 4
    assert ext.transform(X.iloc[:3]).shape == (3, 12)


def test_nested_params():
    ext = DeepFeatureExtractor(two_modalities(), max_epochs=1)
    params = ext.get_params()
    assert params["us__attention"] is None
    assert params["mammo__column"] == "mammo_path"
    assert params["us"] is ext.modalities[0][1]
    assert "us__attention" not in ext.get_params(deep=False)
    assert ext.set_params(us__attention="eca", mammo__image_size=8, lr=0.1) is ext
    assert ext.get_params()["us__attention"] == "eca"
    assert ext.modalities[0][1].attention == "eca"
    assert ext.modalities[1][1].image_size == 8
    assert ext.modalities[0][1].image_size == SIZE
    assert ext.lr == 0.1
    # the nested parameters survive clone
    assert clone(ext).get_params()["us__attention"] == "eca"
    # a whole modality is replaced by its name
    ext.set_params(mammo=image("other"))
    assert ext.get_params()["mammo__column"] == "other"


def test_modality_protocol(data):
    X, y = data
    ext = DeepFeatureExtractor(two_modalities(attention="eca"), dropout=0.1, **TRAIN)
    assert ext.get_modality_names() == ["us", "mammo"]
    with pytest.raises(NotFittedError):
        ext.get_modality_columns()

    us_only = ext.select_modalities(["us"])
    assert us_only is not ext and len(ext.modalities) == 2  # unchanged
    assert us_only.get_modality_names() == ["us"]
    assert us_only.modalities[0][1].column == "us_path"
    assert us_only.modalities[0][1].attention == "eca"
    for param, value in dict(TRAIN, dropout=0.1).items():
        assert getattr(us_only, param) == value, param
    assert not hasattr(us_only, "encoders_")
    with pytest.raises(ValueError, match="non-empty selection"):
        ext.select_modalities(["xray"])

    us_only.fit(X, y)
    assert list(us_only.encoders_) == ["us"]
    assert us_only.get_modality_columns() == {"us": ["us_path"]}
    assert us_only.transform(X.iloc[:2]).shape == (2, SMALL_CNN["channels"][-1])

    ext.fit(X, y)
    assert ext.get_modality_columns() == {"us": ["us_path"], "mammo": ["mammo_path"]}


def test_column_none_reads_x_as_the_images(data):
    X, y = data
    images = np.stack(X["us_path"].to_list())
    ext = DeepFeatureExtractor([("us", image(None))], **TRAIN).fit(images, y)
    assert ext.transform(images[:3]).shape == (3, SMALL_CNN["channels"][-1])
    assert ext.get_modality_columns() == {"us": []}
    with pytest.raises(ValueError, match="only modality"):
        DeepFeatureExtractor([("us", image(None)), ("mammo", image("mammo_path"))],
                             **TRAIN).fit(X, y)


def test_extractor_errors(data):
    X, y = data
    with pytest.raises(TypeError, match="DataFrame"):
        DeepFeatureExtractor([("us", image("us_path"))], **TRAIN).fit(X.to_numpy(), y)
    with pytest.raises(KeyError, match="available columns"):
        DeepFeatureExtractor([("us", image("nope"))], **TRAIN).fit(X, y)
    with pytest.raises(ValueError, match="not unique"):
        DeepFeatureExtractor([("a", image("us_path")), ("a", image("mammo_path"))],
                             **TRAIN).fit(X, y)
    with pytest.raises(TypeError, match="'tab' is a TabularModality.*ImageModality"):
        DeepFeatureExtractor([("us", image("us_path")),
                              ("tab", TabularModality(["tab_0"]))], **TRAIN).fit(X, y)
    with pytest.raises(TypeError, match="ImageModality"):
        DeepFeatureExtractor([("us", "us_path")], **TRAIN).fit(X, y)
    with pytest.raises(TypeError, match="'modalities' parameter"):
        DeepFeatureExtractor({"us": image("us_path")}, **TRAIN).fit(X, y)
