"""CrossAttentionFusionClassifier, its network and its attention weights."""

import numpy as np
import pytest
import torch

from skmultimodal.fusion import CrossAttentionFusionClassifier
from skmultimodal.nn._fusion import CrossAttentionFusionNet

from . import FAST, TAB, image_modality, make_data, tab_modality

PARAMS = dict(embed_dim=16, n_heads=2, n_layers=2, n_tokens=3, **FAST)


@pytest.fixture(scope="module")
def data():
    return make_data(60, missing_rate=0.1)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    mods = [("slide", image_modality()), ("genes", tab_modality())]
    return CrossAttentionFusionClassifier(mods, **PARAMS).fit(X, y)


def test_attention_weights_shapes(data, fitted):
    X, _ = data
    att = fitted.attention_weights(X.iloc[:7])
    assert att.grid_shape == {"slide": (4, 4)}  # 16 px -> 4 x 4 SimpleCNN map
    assert set(att.weights) == {"slide->genes", "genes->slide"}
    for direction, (nq, nk) in {"genes->slide": (3, 16), "slide->genes": (16, 3)}.items():
        layers = att.weights[direction]
        assert len(layers) == 2
        for w in layers:
            assert w.shape == (7, 2, nq, nk)
            assert (w >= 0).all() and (w.sum(axis=-1) <= 1 + 1e-5).all()
    assert att.query_tokens["genes"] == ["genes:0", "genes:1", "genes:2"]
    assert att.key_tokens["genes->slide"][:2] == ["slide[0,0]", "slide[0,1]"]
    assert len(att.key_tokens["slide->genes"]) == 3


def test_missing_modality_gets_no_attention(data, fitted):
    X, _ = data
    complete = X["image"].notna() & X[TAB].notna().all(axis=1)
    rows = X[complete].iloc[:6].copy()
    rows.loc[rows.index[:3], "image"] = None
    rows.loc[rows.index[3:], TAB] = np.nan
    att = fitted.attention_weights(rows)
    for w in att.weights["genes->slide"]:
        assert np.all(w[:3] == 0)  # slide missing: genes attend to the null key only
        assert np.all(w[3:].sum(axis=-1) > 0)
    for w in att.weights["slide->genes"]:
        assert np.all(w[3:] == 0)


def test_attention_weights_match_predictions(data, fitted):
    X, _ = data
    # attention_weights must not change the model or its predictions
    before = fitted.predict_proba(X)
    fitted.attention_weights(X)
    np.testing.assert_array_equal(fitted.predict_proba(X), before)
    assert not fitted.net_.module_.training


def test_cls_pooling_and_no_layers(data):
    X, y = data
    mods = [("slide", image_modality()), ("genes", tab_modality())]
    clf = CrossAttentionFusionClassifier(mods, **{**PARAMS, "pooling": "cls"}).fit(X, y)
    att = clf.attention_weights(X.iloc[:2])
    assert att.query_tokens["slide"][0] == "cls"
    assert att.weights["slide->genes"][0].shape == (2, 2, 17, 3)
    ablation = CrossAttentionFusionClassifier(mods, **{**PARAMS, "n_layers": 0}).fit(X, y)
    assert ablation.predict(X).shape == (len(X),)
    assert ablation.attention_weights(X.iloc[:2]).weights == {
        "slide->genes": [], "genes->slide": []}


def test_three_modalities(data):
    X, y = data
    X = X.assign(image2=X["image"])
    mods = [("a", image_modality()), ("b", image_modality("image2", image_size=8)),
            ("c", tab_modality())]
    clf = CrossAttentionFusionClassifier(mods, **{**PARAMS, "n_layers": 1}).fit(X, y)
    att = clf.attention_weights(X.iloc[:3])
    assert att.grid_shape == {"a": (4, 4), "b": (2, 2)}
    assert set(att.weights) == {"a->b+c", "b->a+c", "c->a+b"}
    assert att.weights["c->a+b"][0].shape == (3, 2, 3, 16 + 4)
    assert att.weights["a->b+c"][0].shape == (3, 2, 16, 4 + 3)


def test_bad_params(data):
    X, y = data
    mods = [("slide", image_modality()), ("genes", tab_modality())]
    for params, match in [({"embed_dim": 10, "n_heads": 4}, "divisible"),
                          ({"pooling": "max"}, "pooling"), ({"n_layers": -1}, "n_layers"),
                          ({"n_tokens": 0}, "n_tokens")]:
        with pytest.raises(ValueError, match=match):
            CrossAttentionFusionClassifier(mods, **{**PARAMS, **params}).fit(X, y)


def test_positional_embedding_adapts_to_the_grid():
    specs = [{"name": "img", "kind": "image", "backbone": "simple_cnn", "in_channels": 1},
             {"name": "tab", "kind": "tabular", "in_features": 4}]
    net = CrossAttentionFusionNet(2, specs, embed_dim=8, n_heads=2, n_layers=1).eval()
    for size, grid in [(8, (2, 2)), (16, (4, 4)), (28, (7, 7))]:
        tokens, shape = net.tokens("img", torch.randn(2, 1, size, size))
        assert shape == grid and tokens.shape == (2, grid[0] * grid[1], 8)
        assert net(img=torch.randn(2, 1, size, size), tab=torch.randn(2, 4)).shape == (2, 2)
