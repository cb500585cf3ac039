"""Grad-CAM of the survival models: the maps explain the risk score."""

import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from skmultimodal.datasets import make_multimodal_survival
from skmultimodal.datasets._synthetic import _blob_profiles
from skmultimodal.inspection import ImageExplanationDisplay, grad_cam
from skmultimodal.inspection._image_inputs import resize_map
from skmultimodal.modalities import ImageModality, TabularModality
from skmultimodal.survival import CrossAttentionFusionSurvival, IntermediateFusionSurvival

SIZE = 32
TAB = [f"tab_{i}" for i in range(4)]
SMALL_CNN = {"channels": (8, 16, 32), "convs_per_block": 1}  # an 8 x 8 map at 32 px


def _modalities():
    return [("img", ImageModality("image", backbone="simple_cnn", image_size=SIZE,
                                  channels=1, normalize=None, backbone_params=SMALL_CNN)),
            ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))]


@pytest.fixture(scope="module")
def data():
    """The risk is the brightness of a central blob (no tabular effect)."""
    return make_multimodal_survival(240, image_size=SIZE, n_features=4, image_effect=2.0,
                                    tabular_effect=0.0, noise=0.2, censoring=0.2,
                                    random_state=0)


def _cox(X, y, seed):
    return IntermediateFusionSurvival(_modalities(), embed_dim=8, head_hidden_sizes=(8,),
                                      dropout=0.0, max_epochs=15, batch_size=64, lr=3e-3,
                                      weight_decay=1e-2, random_state=seed,
                                      device="cpu").fit(X, y)


@pytest.fixture(scope="module")
def cox(data):
    return _cox(*data, seed=0)


def test_maps_of_the_risk_find_the_blob(data, cox):
    """Heat per pixel inside the blob against outside it, over the 20 highest
    risks of three models (one model's ratio ranges from 1.6 to 5.7 over seeds)."""
    X, y = data
    blob = _blob_profiles(SIZE, 1)[0] >= np.exp(-2)  # the disc of 2 sigma
    heat = []
    for model in (cox, _cox(X, y, seed=1), _cox(X, y, seed=2)):
        assert model.score(X, y) > 0.7  # the model reads the blob
        rows = X.iloc[np.argsort(-model.predict(X))[:20]]
        result = grad_cam(model, rows)
        assert list(result.targets) == ["risk"] * 20
        assert not result.flat.any()
        heat.append(np.stack(result.heatmaps))
    heat = np.concatenate(heat)
    inside, outside = heat[:, blob].mean(), heat[:, ~blob].mean()
    assert inside > 2 * outside, (inside, outside)


def _manual_grad_cam(model, X, row):
    """Grad-CAM of the risk of one row, by autograd on the backbone's last map."""
    module = model.net_.module_.eval()
    inputs, _ = model.make_dataset(X.iloc[[row]], raw_images=True)[0]
    inputs = default_collate([inputs])
    layer = module.image_backbone("img").feature_layer
    seen = []
    hook = layer.register_forward_hook(lambda mod, args, out: seen.append(out))
    try:
        with torch.enable_grad():
            out = module(**inputs)
            risk = model.explained_output()[0](out)[0, 0]
            (grad,) = torch.autograd.grad(risk, seen[0])
    finally:
        hook.remove()
    cam = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * seen[0]).sum(dim=1))[0]
    return resize_map(cam.detach().numpy(), (SIZE, SIZE))


@pytest.mark.parametrize("loss", ["cox", "discrete_time"])
def test_maps_follow_the_gradient_of_the_risk(data, loss):
    X, y = data
    model = IntermediateFusionSurvival(_modalities(), loss=loss, n_time_bins=4, embed_dim=8,
                                       head_hidden_sizes=(8,), max_epochs=3, batch_size=64,
                                       lr=3e-3, random_state=0, device="cpu").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a flat map is compared too
        result = grad_cam(model, X.iloc[:6])
    for row in range(6):
        expected = _manual_grad_cam(model, X, row)
        got = result.heatmaps[row]
        if np.ptp(expected) == 0:
            assert np.ptp(got) < 1e-3
            continue
        assert np.corrcoef(expected.ravel(), got.ravel())[0, 1] > 0.99


def test_cross_attention_survival_and_targets(data, cox):
    X, y = data
    model = CrossAttentionFusionSurvival(_modalities(), embed_dim=8, n_heads=2, n_layers=1,
                                         n_tokens=2, max_epochs=2, batch_size=64,
                                         random_state=0, device="cpu").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = grad_cam(model, X.iloc[:3], target="risk")
    assert len(result.heatmaps) == 3 and list(result.targets) == ["risk"] * 3
    display = ImageExplanationDisplay.from_result(result)
    assert display.titles == [f"row {r}, risk" for r in X.index[:3]]
    with pytest.raises(ValueError, match=r"target=1: IntermediateFusionSurvival is a "
                                         r"survival model.*target=None"):
        grad_cam(cox, X.iloc[:3], target=1)
