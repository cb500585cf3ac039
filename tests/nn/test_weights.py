import os
import re
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import ResNet18_Weights, ResNet50_Weights

from skmultimodal.nn import CBAM, ECA, SimpleCNN, get_backbone, load_weights
from skmultimodal.nn._weights import load_state_dict_file, resolve_weights

V1 = ResNet18_Weights.IMAGENET1K_V1


def _randomised(state):
    """Every entry replaced by random values, so that loading is visible."""
    out = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.tensor(7)
        elif k.endswith("running_var"):
            out[k] = torch.rand_like(v) + 0.5
        else:
            out[k] = torch.randn_like(v)
    return out


@pytest.fixture(scope="module")
def tv_state():
    """A torchvision resnet18 state dict (with fc) that the tests produce themselves."""
    torch.manual_seed(0)
    return _randomised(torchvision.models.resnet18(weights=None).state_dict())


def _without_fc(state):
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


def _is_attention(model, key):
    return any(key.startswith(f"{n}.") for n, m in model.named_modules()
               if isinstance(m, (ECA, CBAM)))


def assert_state_equal(model, expected, *, skip=()):
    state = model.state_dict()
    for k, v in expected.items():
        if k not in skip:
            torch.testing.assert_close(state[k], v, rtol=0, atol=0, msg=f"{k} differs")


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch hub cache under TORCH_HOME, with downloads made to fail fast."""
    calls = []

    def no_network(url, dst, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # in case set_dir was called
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    return SimpleNamespace(path=checkpoints, calls=calls)


def _cache_file(hub_dir, weights):
    return hub_dir.path / os.path.basename(weights.url)


@pytest.mark.parametrize("weights", [
    "IMAGENET1K_V1", "DEFAULT", "default", "ResNet18_Weights.IMAGENET1K_V1", V1,
    ResNet18_Weights.DEFAULT,
])
def test_torchvision_weights_load_from_hub_cache(hub_dir, tv_state, weights):
    torch.save(tv_state, _cache_file(hub_dir, V1))
    bb = get_backbone("resnet18", weights=weights)
    assert_state_equal(bb, _without_fc(tv_state))
    assert set(bb.state_dict()) == set(_without_fc(tv_state))
    assert hub_dir.calls == []
    assert all(p.requires_grad for p in bb.parameters())


def test_hub_weights_into_attention_variant_keep_attention_init(hub_dir, tv_state):
    torch.save(tv_state, _cache_file(hub_dir, V1))
    torch.manual_seed(3)
    reference = get_backbone("resnet18", attention="eca")
    torch.manual_seed(3)
    bb = get_backbone("resnet18", attention="eca", weights="IMAGENET1K_V1")
    attn = {k for k in bb.state_dict() if _is_attention(bb, k)}
    assert attn
    assert_state_equal(bb, _without_fc(tv_state))
    assert_state_equal(bb, {k: reference.state_dict()[k] for k in attn})


def test_hub_weights_adapt_first_conv(hub_dir, tv_state):
    torch.save(tv_state, _cache_file(hub_dir, V1))
    w = tv_state["conv1.weight"]
    gray = get_backbone("resnet18", weights="DEFAULT", in_channels=1)
    torch.testing.assert_close(gray.conv1.weight.detach(), w.sum(dim=1, keepdim=True))
    assert_state_equal(gray, _without_fc(tv_state), skip={"conv1.weight"})
    five = get_backbone("resnet18", weights="DEFAULT", in_channels=5)
    torch.testing.assert_close(five.conv1.weight.detach(), torch.cat([w, w], dim=1)[:, :5] * 3 / 5)
    assert gray(torch.randn(2, 1, 8, 8)).shape == (2, 512)


def test_download_failure_names_url_and_cache_path(hub_dir):
    expected_path = str(_cache_file(hub_dir, V1))
    with pytest.raises(RuntimeError) as info:
        get_backbone("resnet18", weights="IMAGENET1K_V1")
    message = str(info.value)
    assert expected_path in message
    assert V1.url in message
    assert "IMAGENET1K_V1" in message
    assert "path to a local state-dict file" in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    assert hub_dir.calls == [V1.url]


def test_resolve_torchvision_names():
    assert resolve_weights(None, arch="resnet18") is None
    assert resolve_weights("IMAGENET1K_V2", arch="resnet50") is ResNet50_Weights.IMAGENET1K_V2
    assert resolve_weights("DEFAULT", arch="resnet50") is ResNet50_Weights.IMAGENET1K_V2
    assert resolve_weights(V1, arch="resnet18") is V1


@pytest.mark.parametrize("weights, match", [
    (ResNet50_Weights.IMAGENET1K_V1,
     r"another architecture.*ResNet18_Weights: IMAGENET1K_V1, DEFAULT"),
    ("IMAGENET1K_V2", r"unknown weights 'IMAGENET1K_V2' for 'resnet18'.*IMAGENET1K_V1, DEFAULT"),
    ("ResNet50_Weights.IMAGENET1K_V1", r"unknown weights .*IMAGENET1K_V1, DEFAULT"),
    ("imagenet", r"unknown weights 'imagenet'.*path"),
])
def test_wrong_torchvision_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        get_backbone("resnet18", weights=weights)


@pytest.mark.parametrize("weights", ["DEFAULT", V1])
def test_simple_cnn_has_no_pretrained_weights(weights):
    with pytest.raises(ValueError, match="no pretrained weights exist for 'simple_cnn'"):
        get_backbone("simple_cnn", weights=weights)


@pytest.mark.parametrize("as_type", [str, Path])
def test_torchvision_state_dict_file(tmp_path, tv_state, as_type):
    path = tmp_path / "resnet18.pth"
    torch.save(tv_state, path)
    bb = get_backbone("resnet18", weights=as_type(path))
    assert_state_equal(bb, _without_fc(tv_state))


@pytest.mark.parametrize("wrap", [
    lambda sd: {"state_dict": sd},
    lambda sd: {"model": {f"module.{k}": v for k, v in sd.items()}},
    lambda sd: {"state_dict": {f"backbone.{k}": v for k, v in sd.items()}, "epoch": 3},
    lambda sd: {f"module.backbone.{k}": v for k, v in sd.items()},
])
def test_wrapped_and_prefixed_state_dicts(tmp_path, tv_state, wrap):
    path = tmp_path / "ckpt.pt"
    torch.save(wrap(tv_state), path)
    loaded = load_state_dict_file(path)
    assert set(loaded) == set(tv_state)
    bb = get_backbone("resnet18", weights=path)
    assert_state_equal(bb, _without_fc(tv_state))


def test_state_dict_mapping_accepted(tv_state):
    bb = get_backbone("resnet18", weights=tv_state)
    assert_state_equal(bb, _without_fc(tv_state))


def test_torchvision_file_into_attention_variant(tmp_path, tv_state):
    path = tmp_path / "resnet18.pth"
    torch.save(tv_state, path)
    torch.manual_seed(5)
    reference = get_backbone("resnet18", attention="cbam")
    torch.manual_seed(5)
    bb = get_backbone("resnet18", attention="cbam", weights=path)
    attn = {k for k in bb.state_dict() if _is_attention(bb, k)}
    assert_state_equal(bb, _without_fc(tv_state))
    assert_state_equal(bb, {k: reference.state_dict()[k] for k in attn})


@pytest.mark.parametrize("name, attention",
                         [("resnet18", "cbam"), ("resnet50", "eca"), ("simple_cnn", "eca")])
def test_own_state_dict_round_trip(tmp_path, name, attention):
    torch.manual_seed(1)
    source = get_backbone(name, attention=attention)
    state = _randomised(source.state_dict())
    path = tmp_path / "own.pt"
    torch.save(state, path)
    bb = get_backbone(name, attention=attention, weights=path)
    assert set(bb.state_dict()) == set(state)
    assert_state_equal(bb, state)


def test_simple_cnn_file_adapts_first_conv(tmp_path):
    torch.manual_seed(2)
    state = _randomised(SimpleCNN(channels=(4, 8)).state_dict())
    path = tmp_path / "cnn.pt"
    torch.save(state, path)
    bb = get_backbone("simple_cnn", weights=path, in_channels=1, channels=(4, 8))
    w = state["blocks.0.conv1.weight"]
    torch.testing.assert_close(bb.blocks[0].conv1.weight.detach(), w.sum(dim=1, keepdim=True))


def test_num_batches_tracked_may_be_missing(tv_state):
    state = {k: v for k, v in tv_state.items() if not k.endswith("num_batches_tracked")}
    bb = get_backbone("resnet18", weights=state)
    assert_state_equal(bb, _without_fc(state))


def test_missing_keys_are_named(tv_state):
    state = dict(tv_state)
    del state["layer1.0.conv1.weight"]
    with pytest.raises(ValueError, match=r"missing keys \['layer1.0.conv1.weight'\]"):
        get_backbone("resnet18", weights=state)


def test_unexpected_keys_are_named(tv_state):
    state = {**tv_state, "head.weight": torch.zeros(2, 512)}
    with pytest.raises(ValueError, match=r"unexpected keys \['head.weight'\]"):
        get_backbone("resnet18", weights=state)


def test_partial_attention_keys_are_refused():
    torch.manual_seed(0)
    state = get_backbone("resnet18", attention="cbam").state_dict()
    del state["layer3.1.attn.spatial_gate.conv.weight"]
    with pytest.raises(ValueError, match="layer3.1.attn.spatial_gate.conv.weight"):
        get_backbone("resnet18", attention="cbam", weights=state)


def test_other_attention_state_dict_is_refused():
    state = get_backbone("resnet18", attention="eca").state_dict()
    with pytest.raises(ValueError, match=r"unexpected keys \['layer1.0.attn.conv.weight'"):
        get_backbone("resnet18", attention="cbam", weights=state)


def test_other_architecture_is_refused(tv_state):
    with pytest.raises(ValueError, match=r"arch='resnet50'.*(missing|other shapes)"):
        get_backbone("resnet50", weights=tv_state)


def test_missing_file(tmp_path):
    path = tmp_path / "nope" / "weights.pt"
    with pytest.raises(FileNotFoundError, match="nope"):
        get_backbone("resnet18", weights=path)
    with pytest.raises(FileNotFoundError, match="weights.pt"):
        get_backbone("resnet18", weights="weights.pt")
    with pytest.raises(FileNotFoundError, match="nope"):
        load_state_dict_file(str(path))


def test_files_without_state_dict(tmp_path):
    module_file = tmp_path / "module.pt"
    torch.save(nn.Linear(2, 2), module_file)  # a whole module: refused by weights_only
    with pytest.raises(ValueError, match=r"model.state_dict\(\)"):
        load_state_dict_file(module_file)
    list_file = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], list_file)
    with pytest.raises(ValueError, match="does not hold a state dict"):
        load_state_dict_file(list_file)


def test_bad_weights_type():
    with pytest.raises(TypeError, match="weights must be"):
        get_backbone("simple_cnn", weights=3)


def test_load_weights_in_place(tv_state):
    bb = get_backbone("resnet18")
    assert load_weights(bb, tv_state) is bb
    assert_state_equal(bb, _without_fc(tv_state))
    assert load_weights(bb, None) is bb


def _saved(tmp_path, state=None):
    path = tmp_path / "weights.pt"
    torch.save(state if state is not None else {"a": torch.ones(2, 3)}, path)
    return path


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
         "is truncated or corrupt"),
        (lambda p: p.write_bytes(p.read_bytes()[:-40]), "is truncated or corrupt"),
        (lambda p: p.write_bytes(b"\x80\x02garbage" * 20),
         "is not a state dict that torch.load can read with weights_only=True"),
        (lambda p: p.write_bytes(b"hello\n" * 20), "is truncated or corrupt"),
    ],
    ids=["empty", "half", "end cut", "garbage pickle", "text"],
)
def test_damaged_weights_file(tmp_path, damage, match):
    path = _saved(tmp_path)
    damage(path)
    for load in (load_state_dict_file, lambda p: get_backbone("resnet18", weights=p)):
        with pytest.raises(ValueError, match=match) as info:
            load(path)
        assert repr(str(path)) in str(info.value)
        assert "torch.save(model.state_dict(), path)" in str(info.value)


def test_legacy_format_cut_short(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"a": torch.ones(1000)}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError, match="is truncated or corrupt") as info:
        load_state_dict_file(path)
    assert repr(str(path)) in str(info.value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused(tmp_path, tv_state, bad):
    state = dict(tv_state)
    for key in ("layer2.0.conv1.weight", "layer1.0.bn1.running_var"):
        state[key] = state[key].clone()
        state[key].view(-1)[3] = bad
    path = _saved(tmp_path, state)
    expected = r"\['layer1.0.bn1.running_var', 'layer2.0.conv1.weight'\]"
    with pytest.raises(ValueError, match=f"{re.escape(repr(str(path)))} holds NaN or "
                                         f"infinite values in {expected}"):
        get_backbone("resnet18", weights=path)
    with pytest.raises(ValueError, match=f"the given state dict holds NaN or infinite "
                                         f"values in {expected}"):
        get_backbone("resnet18", weights=state)
    # integer buffers (num_batches_tracked) are not checked
    state = dict(tv_state, **{"bn1.num_batches_tracked": torch.tensor(2**40)})
    get_backbone("resnet18", weights=state)


def test_first_non_finite_keys_are_listed(tmp_path):
    state = {f"k{i}": torch.full((2,), float("nan")) for i in range(8)}
    with pytest.raises(ValueError, match=r"\['k0', 'k1', 'k2', 'k3', 'k4'\] \.\.\. "
                                         r"\(8 in all\)"):
        load_state_dict_file(_saved(tmp_path, state))


def test_a_fit_reads_a_weights_file_once(tmp_path, monkeypatch):
    """The stem is read from the file's shapes (memory-mapped); the loading
    reads the file itself once."""
    import numpy as np

    from skmultimodal import ImageClassifier
    from skmultimodal.nn import ResNetBackbone, _weights

    path = tmp_path / "small.pt"
    torch.save(ResNetBackbone(stem="small", in_channels=1).state_dict(), path)
    reads = []
    full_read = _weights.load_state_dict_file
    monkeypatch.setattr(_weights, "load_state_dict_file",
                        lambda p: reads.append(p) or full_read(p))
    X = np.random.default_rng(0).integers(0, 256, (8, 40, 40)).astype(np.uint8)
    clf = ImageClassifier(weights=str(path), image_size=72, channels=1, max_epochs=1,
                          batch_size=4, device="cpu", random_state=0)
    clf.fit(X, np.r_[[0] * 4, [1] * 4])
    assert reads == [path]
    # the file's 3x3 stem won over the image size's choice
    assert clf.net_.module_.image_backbone().stem == "small"


def test_the_stem_of_a_file_torch_cannot_map_is_read_in_full(tmp_path):
    from skmultimodal.nn import ResNetBackbone
    from skmultimodal.nn._weights import weights_stem

    path = tmp_path / "legacy.pt"
    torch.save(ResNetBackbone(stem="small").state_dict(), path,
               _use_new_zipfile_serialization=False)
    assert weights_stem(path, arch="resnet18") == "small"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="is empty"):
        weights_stem(path, arch="resnet18")
