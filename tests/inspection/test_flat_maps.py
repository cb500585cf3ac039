"""Target layer of Grad-CAM and flat maps: automatic choice, explicit layers, flags, plots."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from skmultimodal import (  # noqa: E402
    CrossAttentionFusionClassifier,
    ImageClassifier,
    ImageModality,
    TabularModality,
)
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import (  # noqa: E402
    cross_attention_maps,
    grad_cam,
    plot_heatmap_overlay,
    plot_image_explanations,
)

FLAT_NOTE = "flat map: no localisation"
TAB = [f"tab_{i}" for i in range(10)]


def _explanation_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, UserWarning)
            and ("Grad-CAM" in str(w.message) or "cross-attention" in str(w.message))]


def _run(function, *args, **kwargs):
    """Call ``function`` and return its result and its explanation warnings."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, _explanation_warnings(record)


def _heat_images(fig):
    """Images drawn on each panel that has any (the image itself is the first)."""
    return [len(ax.get_images()) for ax in fig.axes if ax.get_images()]


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(80, image_size=32, random_state=0)


@pytest.fixture(scope="module")
def readme_fusion(data):
    """Cross-attention fusion, ResNet-18 with torchvision's stem at 32 pixels (1x1 layer4)."""
    X, y = data
    return CrossAttentionFusionClassifier(
        [("image", ImageModality("image", backbone="resnet18", image_size=32,
                                 backbone_params={"stem": "imagenet"})),
         ("clinical", TabularModality(TAB, impute="median"))],
        embed_dim=16, n_heads=2, max_epochs=3, batch_size=32, random_state=0,
        device="cpu").fit(X, y)


def test_readme_scenario_uses_a_layer_with_a_grid(data, readme_fusion):
    X, _ = data
    rows = X.iloc[:8]
    cam, messages = _run(grad_cam, readme_fusion, rows, modality="image")
    # layer4 is 1x1 at 32 pixels: layer3 (2x2) is taken, and the user is told
    assert any("'layer4') is a 1x1 grid" in m and "'layer3' (2x2 grid)" in m
               for m in messages)
    assert cam.layer == "layer3" and cam.grid_shape == (2, 2)
    assert len(cam.flat) == 8 and cam.flat.dtype == bool
    # Most maps localise (measured: 8 of 8 here, 70 of 80 over all rows); a map with no
    # positive evidence for the class is all zero and flagged, not drawn.
    assert (~cam.flat).sum() >= 5
    for h, flat in zip(cam.heatmaps, cam.flat):
        assert h.shape == (32, 32) and h.min() >= 0
        if flat:
            assert np.ptp(h) < 1e-3
        else:
            assert h.max() > 0.99 and np.ptp(h) > 0.5
    flagged = [m for m in messages if "Grad-CAM maps are flat" in m]
    assert len(flagged) == int(cam.flat.any())
    if cam.flat.any():
        assert flagged[0].startswith(f"{cam.flat.sum()} of 8 Grad-CAM maps are flat")
    fig = plot_image_explanations(cam)
    assert _heat_images(fig) == [1 if f else 2 for f in cam.flat]
    plt.close("all")


def test_last_stage_at_one_by_one_is_flat_and_flagged(data, readme_fusion):
    X, _ = data
    rows = X.iloc[:8]
    cam, messages = _run(grad_cam, readme_fusion, rows, modality="image",
                         target_layer="layer4")
    assert cam.layer == "layer4" and cam.grid_shape == (1, 1)  # honoured as given
    assert cam.flat.all()
    assert all(np.all(h == 0) for h in cam.heatmaps)
    assert len(messages) == 1
    assert messages[0].startswith("8 of 8 Grad-CAM maps are flat")
    assert "'layer4' gives a 1x1 grid" in messages[0]
    fig = plot_image_explanations(cam, n_cols=4)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 8
    for ax, row, label in zip(panels, rows.index, cam.targets):
        assert len(ax.get_images()) == 1  # the image, no heat map over it
        assert ax.get_title() == f"row {row}, class {label}\n{FLAT_NOTE}"
    plt.close("all")


def test_explicit_layer_sets_the_grid(data, readme_fusion):
    X, _ = data
    rows = X.iloc[:4]
    backbone = readme_fusion.net_.module_.encoders["image"].net
    seen = {}

    def record(name):
        def hook(_module, _inputs, output):
            seen[name] = tuple(output.shape[-2:])
        return hook

    hooks = [getattr(backbone, name).register_forward_hook(record(name))
             for name in ("layer1", "layer2", "layer3", "layer4")]
    with torch.no_grad():
        backbone.eval()(torch.zeros(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert seen == {"layer1": (8, 8), "layer2": (4, 4), "layer3": (2, 2),
                    "layer4": (1, 1)}
    by_name, messages = _run(grad_cam, readme_fusion, rows, target_layer="layer2")
    assert by_name.layer == "layer2" and by_name.grid_shape == seen["layer2"]
    assert not any("using the deepest stage" in m for m in messages)  # no automatic choice
    by_module = grad_cam(readme_fusion, rows, target_layer=backbone.layer2)
    assert by_module.layer == "layer2"
    for a, b in zip(by_name.heatmaps, by_module.heatmaps):
        np.testing.assert_allclose(a, b, atol=1e-6)
    nested = grad_cam(readme_fusion, rows, target_layer="layer1.1")
    assert nested.layer == "layer1.1" and nested.grid_shape == (8, 8)
    third = grad_cam(readme_fusion, rows, target_layer="layer3")
    assert max(np.abs(a - b).max() for a, b in zip(third.heatmaps, by_name.heatmaps)) > 0.1


def test_attention_over_one_token_is_flat(data, readme_fusion):
    X, _ = data
    rows = X.iloc[:4]
    maps, messages = _run(cross_attention_maps, readme_fusion, rows)
    assert maps.grid_shape == (1, 1) and maps.flat.all()
    assert len(messages) == 1
    assert messages[0].startswith("4 of 4 cross-attention maps are flat")
    assert "form a 1x1 grid" in messages[0]
    fig = plot_image_explanations(maps)
    assert _heat_images(fig) == [1, 1, 1, 1]
    assert all(ax.get_title().endswith(FLAT_NOTE) for ax in fig.axes if ax.get_images())
    plt.close("all")


def test_default_stem_gives_small_images_a_grid(data):
    """At 32 px the default ResNet stem (3x3, stride 1) leaves layer4 a 4x4 grid."""
    X, y = data
    model = CrossAttentionFusionClassifier(
        [("image", ImageModality("image", backbone="resnet18", image_size=32)),
         ("clinical", TabularModality(TAB, impute="median"))],
        embed_dim=16, n_heads=2, max_epochs=2, batch_size=32, random_state=0,
        device="cpu").fit(X, y)
    rows = X.iloc[:4]
    cam, messages = _run(grad_cam, model, rows, modality="image")
    assert cam.layer == "layer4" and cam.grid_shape == (4, 4)
    assert not any("using the deepest stage" in m or "1x1" in m for m in messages)
    maps, _ = _run(cross_attention_maps, model, rows)
    assert maps.grid_shape == (4, 4) and maps.token_maps.shape == (4, 4, 4)


@pytest.fixture(scope="module")
def small_cnn(data):
    """A SimpleCNN whose last block is 1x1 at 8 pixels (8 -> 4 -> 2 -> 1)."""
    X, y = data
    return ImageClassifier(column="image", backbone="simple_cnn", image_size=8, channels=1,
                           backbone_params={"channels": (4, 4, 4, 4), "convs_per_block": 1},
                           max_epochs=2, random_state=0, device="cpu").fit(X, y)


def test_simple_cnn_falls_back_to_the_previous_block(data, small_cnn):
    X, _ = data
    cam, messages = _run(grad_cam, small_cnn, X.iloc[:4])
    assert cam.layer == "blocks.2" and cam.grid_shape == (2, 2)
    assert any("'blocks.3') is a 1x1 grid" in m and "'blocks.2' (2x2 grid)" in m
               for m in messages)
    first, messages = _run(grad_cam, small_cnn, X.iloc[:4], target_layer="blocks.0")
    assert first.grid_shape == (8, 8) and not first.flat.any() and not messages


def test_no_warning_when_the_last_map_has_a_grid(data):
    X, y = data
    clf = ImageClassifier(column="image", backbone="simple_cnn", image_size=16, channels=1,
                          backbone_params={"channels": (4, 8), "convs_per_block": 1},
                          max_epochs=1, random_state=0, device="cpu").fit(X, y)
    cam, messages = _run(grad_cam, clf, X.iloc[:4])
    assert cam.layer == "blocks.1" and cam.grid_shape == (8, 8)
    assert not cam.flat.any() and not messages


def test_zeroed_feature_map_is_flat(data, small_cnn):
    X, _ = data
    layer = small_cnn.net_.module_.encoder.blocks[2]
    handle = layer.register_forward_hook(lambda m, i, o: o * 0.0)  # a dead stage
    try:
        cam, messages = _run(grad_cam, small_cnn, X.iloc[:5], target_layer="blocks.2")
    finally:
        handle.remove()
    assert cam.flat.all() and all(np.all(h == 0) for h in cam.heatmaps)
    assert len(messages) == 1 and messages[0].startswith("5 of 5 Grad-CAM maps are flat")
    assert "no positive, location-dependent evidence" in messages[0]
    assert "predicts a constant" in messages[0]
    fig = plot_image_explanations(cam, titles=list("abcde"))
    assert _heat_images(fig) == [1] * 5
    assert [ax.get_title() for ax in fig.axes if ax.get_images()] == [
        f"{t}\n{FLAT_NOTE}" for t in "abcde"]
    plt.close("all")


def test_overlay_of_a_flat_map_draws_no_heat():
    image = np.linspace(0, 1, 64).reshape(8, 8)
    for heatmap in (np.zeros((8, 8)), np.full((8, 8), 0.5)):
        ax = plot_heatmap_overlay(image, heatmap, title="t")
        assert len(ax.get_images()) == 1 and ax.get_title() == f"t\n{FLAT_NOTE}"
        ax = plot_heatmap_overlay(image, heatmap, flat=False)  # the caller's word
        assert len(ax.get_images()) == 2 and ax.get_title() == ""
    ax = plot_heatmap_overlay(image, np.eye(8))
    assert len(ax.get_images()) == 2 and ax.get_title() == ""
    ax = plot_heatmap_overlay(image, np.eye(8), flat=True)
    assert len(ax.get_images()) == 1 and ax.get_title() == FLAT_NOTE
    plt.close("all")


def test_target_layer_errors(data, readme_fusion, small_cnn):
    X, _ = data
    rows = X.iloc[:2]
    with pytest.raises(ValueError, match=r"'layer9' is not a module of the ResNetBackbone"
                                         r".*\['layer1', 'layer2', 'layer3', 'layer4'\]"):
        grad_cam(readme_fusion, rows, target_layer="layer9")
    with pytest.raises(ValueError, match=r"\['blocks.0', 'blocks.1', 'blocks.2', 'blocks.3'\]"):
        grad_cam(small_cnn, rows, target_layer="blocks.7")
    with pytest.raises(TypeError, match="target_layer must be None.*got int"):
        grad_cam(small_cnn, rows, target_layer=3)
    with pytest.raises(ValueError, match="Conv2d is not a module of the explained network"):
        grad_cam(small_cnn, rows, target_layer=torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="'flatten' gives no spatial feature map"):
        grad_cam(small_cnn, rows, target_layer="flatten")
