"""Cross-attention maps over image tokens: definition, geometry, alignment, errors."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from skmultimodal import (  # noqa: E402
    CrossAttentionFusionClassifier,
    ImageModality,
    IntermediateFusionClassifier,
    TabularModality,
)
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import cross_attention_maps, plot_image_explanations  # noqa: E402

SIZE = 32
TAB = [f"tab_{i}" for i in range(10)]
SMALL_CNN = {"channels": (4, 8, 16), "convs_per_block": 1}  # 8 x 8 tokens at 32 px
FAST = dict(max_epochs=2, batch_size=32, lr=3e-3, random_state=0, device="cpu")


def _image(**kwargs):
    return ImageModality("image", backbone="simple_cnn", image_size=SIZE, channels=1,
                         backbone_params=SMALL_CNN, **kwargs)


def _tabular(columns=TAB):
    return TabularModality(columns, hidden_layer_sizes=(8,))


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(100, image_size=SIZE, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return CrossAttentionFusionClassifier(
        [("us", _image()), ("clinical", _tabular())], embed_dim=8, n_heads=2, n_layers=2,
        n_tokens=3, **FAST).fit(X, y)


def _expected(weights, head=None):
    """Token maps from raw weights (n, heads, queries, h*w), by the definition."""
    w = weights.mean(axis=1) if head is None else weights[:, head]
    w = w.mean(axis=1)
    return w / w.sum(axis=1, keepdims=True)


def test_maps_of_a_fitted_model(data, fitted):
    X, _ = data
    rows = X.iloc[:6]
    result = cross_attention_maps(fitted, rows)
    raw = fitted.attention_weights(rows)
    assert result.grid_shape == raw.grid_shape["us"] == (8, 8)
    assert result.token_maps.shape == (6, 8, 8)
    np.testing.assert_allclose(result.token_maps.sum(axis=(1, 2)), 1.0, rtol=1e-6)
    # the weights are not uniform, and they come from the last layer's
    # clinical -> us direction, averaged over heads and query tokens
    last = raw.weights["clinical->us"][-1]
    np.testing.assert_allclose(result.token_maps.reshape(6, -1), _expected(last), rtol=1e-5)
    assert result.token_maps.std() > 0
    assert result.modality == "us" and result.layer == -1 and result.head == "mean"
    assert result.rows == list(rows.index)
    for m, img, cell in zip(result.maps, result.images, rows["image"]):
        assert m.shape == (SIZE, SIZE) and np.isclose(m.max(), 1.0) and m.min() >= 0
        np.testing.assert_array_equal(img, cell)
    first = cross_attention_maps(fitted, rows, layer=0, head=1)
    np.testing.assert_allclose(first.token_maps.reshape(6, -1),
                               _expected(raw.weights["clinical->us"][0], head=1), rtol=1e-5)
    assert first.head == 1 and first.layer == 0
    assert not np.allclose(first.token_maps, result.token_maps)


def _one_hot_attention(estimator, monkeypatch, token):
    """Make every weight on the image keys fall on one image token."""
    real = estimator.attention_weights

    def fake(X):
        att = real(X)
        h, w = att.grid_shape["us"]
        for direction, layers in att.weights.items():
            if direction.endswith("->us"):
                for layer in layers:
                    layer[...] = 0.0
                    layer[..., token[0] * w + token[1]] = 0.7  # the rest on the null key
        return att

    monkeypatch.setattr(estimator, "attention_weights", fake)


@pytest.mark.parametrize("token, corner", [((0, 0), (0, 0)), ((7, 7), (1, 1)),
                                           ((0, 7), (0, 1))])
def test_token_lands_on_its_corner_of_the_image(data, fitted, monkeypatch, tmp_path, token,
                                                corner):
    X, _ = data
    rows = X.iloc[:2].copy()
    # An image of another size (40 x 48) given as a file: the map follows it.
    big = np.asarray(Image.fromarray(rows["image"].iloc[0]).resize((48, 40)))
    path = tmp_path / "big.png"
    Image.fromarray(big).save(path)
    rows["image"] = [str(path), rows["image"].iloc[1]]
    _one_hot_attention(fitted, monkeypatch, token)
    result = cross_attention_maps(fitted, rows)
    expected = np.zeros((8, 8))
    expected[token] = 1.0
    for token_map in result.token_maps:
        np.testing.assert_allclose(token_map, expected)
    assert [m.shape for m in result.maps] == [(40, 48), (SIZE, SIZE)]
    for m in result.maps:
        H, W = m.shape
        quarter = m[corner[0] * H // 2:(corner[0] + 1) * H // 2,
                    corner[1] * W // 2:(corner[1] + 1) * W // 2]
        assert quarter.sum() / m.sum() > 0.99
        r, c = np.unravel_index(np.argmax(m), m.shape)
        assert (r < H / 8) if corner[0] == 0 else (r >= H - H / 8)
        assert (c < W / 8) if corner[1] == 0 else (c >= W - W / 8)


def test_uniform_attention_is_flagged_and_not_drawn(data, fitted, monkeypatch):
    X, _ = data
    rows = X.iloc[:3]
    own = cross_attention_maps(fitted, rows)
    assert not own.flat.any()  # the fitted model's maps are not uniform
    real = fitted.attention_weights

    def uniform(X):
        att = real(X)
        for direction, layers in att.weights.items():
            if direction.endswith("->us"):
                for layer in layers:
                    layer[...] = 1.0 / layer.shape[-1]
        return att

    monkeypatch.setattr(fitted, "attention_weights", uniform)
    with pytest.warns(UserWarning, match=r"3 of 3 cross-attention maps are flat.*uniform "
                                         r"over the 8x8 image tokens"):
        result = cross_attention_maps(fitted, rows)
    assert result.flat.tolist() == [True, True, True]
    np.testing.assert_allclose(result.token_maps, 1 / 64)
    fig = plot_image_explanations(result)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [len(ax.get_images()) for ax in panels] == [1, 1, 1]  # the images, no heat
    assert panels[0].get_title() == f"row {rows.index[0]}\nflat map: no localisation"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_queries_of_several_modalities_are_pooled(data):
    X, y = data
    mods = [("us", _image()), ("a", _tabular(TAB[:5])), ("b", _tabular(TAB[5:]))]
    clf = CrossAttentionFusionClassifier(mods, embed_dim=8, n_heads=2, n_layers=1,
                                         n_tokens=2, **FAST).fit(X, y)
    rows = X.iloc[:4].copy()
    rows.loc[rows.index[0], TAB[5:]] = np.nan  # modality "b" missing in row 0
    result = cross_attention_maps(clf, rows)
    raw = clf.attention_weights(rows)
    # "us" comes first among the keys of a->us+b and b->us+a.
    from_a = raw.weights["a->us+b"][0][..., :64].mean(axis=1).sum(axis=1)
    from_b = raw.weights["b->us+a"][0][..., :64].mean(axis=1).sum(axis=1)
    pooled = from_a + from_b
    pooled[0] = from_a[0]  # row 0: only the present modality's tokens count
    expected = pooled / pooled.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.token_maps.reshape(4, -1), expected, rtol=1e-5)
    rows.loc[rows.index[1], TAB] = np.nan  # no other modality at all in row 1
    with pytest.raises(ValueError, match=rf"missing in row\(s\) \[{rows.index[1]}\]"):
        cross_attention_maps(clf, rows)


def test_pipeline_and_plot(data, fitted, tmp_path):
    X, _ = data
    pipe = Pipeline([("keep", FunctionTransformer(lambda d: d).fit(X)), ("clf", fitted)])
    rows = X.iloc[:3]
    result = cross_attention_maps(pipe, rows)
    np.testing.assert_allclose(result.token_maps,
                               cross_attention_maps(fitted, rows).token_maps)
    path = tmp_path / "attention.png"
    fig = plot_image_explanations(result, n_cols=2, path=path)
    assert isinstance(fig, Figure)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 3
    assert fig.axes[0].get_title() == f"row {rows.index[0]}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_errors(data, fitted):
    X, y = data
    rows = X.iloc[:3]
    with pytest.raises(ValueError, match="layer=2 must be an int in"):
        cross_attention_maps(fitted, rows, layer=2)
    with pytest.raises(ValueError, match="head=2 must be 'mean' or an int"):
        cross_attention_maps(fitted, rows, head=2)
    with pytest.raises(ValueError, match="head='max'"):
        cross_attention_maps(fitted, rows, head="max")
    with pytest.raises(ValueError, match=r"Unknown image modality 'ct'.*\['us'\]"):
        cross_attention_maps(fitted, rows, modality="ct")
    holed = rows.copy()
    holed.loc[holed.index[1], "image"] = None
    with pytest.raises(ValueError, match=rf"missing in 1 row\(s\): \[{holed.index[1]}\]"):
        cross_attention_maps(fitted, holed)
    small = dict(embed_dim=8, max_epochs=1, random_state=0, device="cpu")
    intermediate = IntermediateFusionClassifier(
        [("us", _image()), ("clinical", _tabular())], head_hidden_sizes=(8,),
        **small).fit(X, y)
    with pytest.raises(TypeError, match="has no cross-attention"):
        cross_attention_maps(intermediate, rows)
    no_layers = CrossAttentionFusionClassifier(
        [("us", _image()), ("clinical", _tabular())], n_heads=2, n_layers=0,
        **small).fit(X, y)
    with pytest.raises(ValueError, match="n_layers=0"):
        cross_attention_maps(no_layers, rows)
    with pytest.raises(TypeError, match="DataFrame"):
        cross_attention_maps(fitted, pd.Series([1, 2, 3]))
