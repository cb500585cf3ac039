"""ImageEmbedder in pipelines and column transformers."""

import joblib
import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import ImageEmbedder
from skmultimodal.datasets import make_multimodal_classification

FAST = dict(backbone="simple_cnn", image_size=16, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(120, image_size=16, image_share=0.5, random_state=0)


def test_embeddings_shape_names_and_determinism(data):
    X, _ = data
    emb = ImageEmbedder(column="image", **FAST).fit(X)
    Z = emb.transform(X)
    assert Z.shape == (120, emb.n_features_out_) and Z.dtype == np.float32
    names = emb.get_feature_names_out()
    assert len(names) == Z.shape[1] and names[0] == "simple_cnn_0"
    np.testing.assert_array_equal(ImageEmbedder(column="image", **FAST).fit(X).transform(X), Z)


def test_in_pipeline_with_logistic_regression(data):
    X, y = data
    pipe = make_pipeline(ImageEmbedder(column="image", **FAST), StandardScaler(),
                         LogisticRegression(max_iter=500))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.55


def test_early_fusion_with_column_transformer(data):
    X, y = data
    tab = [c for c in X.columns if c.startswith("tab_")]
    early = ColumnTransformer([("img", ImageEmbedder(column="image", **FAST), ["image"]),
                               ("tab", "passthrough", tab)])
    pipe = make_pipeline(early, StandardScaler(), LogisticRegression(max_iter=1000))
    fused = cross_val_score(pipe, X, y, cv=3).mean()
    tab_only = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()),
                               X[tab], y, cv=3).mean()
    assert fused > tab_only
    names = pipe.fit(X, y)[0].get_feature_names_out()
    assert names[0] == "img__simple_cnn_0" and names[-1] == f"tab__{tab[-1]}"


def test_pickle_round_trip(tmp_path, data):
    X, _ = data
    emb = ImageEmbedder(column="image", **FAST).fit(X)
    joblib.dump(emb, tmp_path / "e.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "e.joblib").transform(X),
                                  emb.transform(X))


def test_image_array_input_and_unfitted_error(data):
    X, _ = data
    images = np.stack(X["image"].to_list())
    emb = ImageEmbedder(**FAST)
    with pytest.raises(Exception, match="not fitted"):
        emb.transform(images)
    assert emb.fit(images).transform(images).shape[0] == len(images)
