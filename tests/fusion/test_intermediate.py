"""IntermediateFusionClassifier and its network."""

import pickle

import numpy as np
import pytest
import torch

from skmultimodal.fusion import IntermediateFusionClassifier
from skmultimodal.nn._fusion import CrossAttentionFusionNet, IntermediateFusionNet

from . import FAST, TAB, image_modality, make_data, tab_modality, two_modalities


@pytest.fixture(scope="module")
def data():
    return make_data(60)


SPECS = [
    {"name": "img", "kind": "image", "backbone": "simple_cnn", "in_channels": 1},
    {"name": "tab", "kind": "tabular", "in_features": 5, "hidden_layer_sizes": (8,)},
]


def _inputs(n=6, **present):
    torch.manual_seed(0)
    x = {"img": torch.randn(n, 1, 16, 16), "tab": torch.randn(n, 5)}
    for name, flags in present.items():
        x[f"{name}_present"] = torch.tensor(flags)
    return x


@pytest.mark.parametrize("fusion", ["concat", "gated", "kronecker", "bilinear"])
def test_fusion_operators(data, fusion):
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8, fusion=fusion,
                                       kronecker_dim=4, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.net_.module_.fusion == fusion
    assert set(clf.modalities_) == {"img", "tab"}
    assert clf.modalities_["tab"].n_features_out_ == len(TAB)
    assert clf.n_iter_ == FAST["max_epochs"]


def test_fused_width():
    net = IntermediateFusionNet(3, SPECS, embed_dim=8, fusion="kronecker", kronecker_dim=4)
    assert net.head[0].in_features == 5 * 5
    net = IntermediateFusionNet(3, SPECS, embed_dim=8, fusion="gated")
    assert net.head[0].in_features == 16
    assert net(**_inputs()).shape == (6, 3)
    # bilinear: the two embeddings, then their one pair's product
    net = IntermediateFusionNet(3, SPECS, embed_dim=8, fusion="bilinear")
    assert net.head[0].in_features == 3 * 8
    assert net(**_inputs()).shape == (6, 3)


def test_bilinear_fusion_appends_the_products_of_signed_projections():
    net = IntermediateFusionNet(2, SPECS, embed_dim=4, fusion="bilinear").eval()
    z = {"img": torch.randn(3, 4), "tab": torch.randn(3, 4)}
    fused = net.fuse(z)
    u = net.factors["img|tab|img"](z["img"])
    v = net.factors["img|tab|tab"](z["tab"])
    torch.testing.assert_close(fused, torch.cat([z["img"], z["tab"], u * v], dim=1))
    # three modalities: three pairs
    specs = SPECS + [{"name": "tab2", "kind": "tabular", "in_features": 2}]
    net3 = IntermediateFusionNet(2, specs, embed_dim=4, fusion="bilinear")
    assert net3.pairs == [("img", "tab"), ("img", "tab2"), ("tab", "tab2")]
    assert net3.head[0].in_features == (3 + 3) * 4


def test_kronecker_takes_at_most_three_modalities(data):
    X, y = data
    X = X.assign(image2=X["image"])
    mods = [("a", image_modality()), ("b", image_modality("image2")),
            ("c", tab_modality(TAB[:5])), ("d", tab_modality(TAB[5:]))]
    with pytest.raises(ValueError, match="at most 3"):
        IntermediateFusionClassifier(mods, fusion="kronecker", **FAST).fit(X, y)
    # concat and bilinear (the default) take any number of modalities
    for fusion in ["concat", "bilinear"]:
        clf = IntermediateFusionClassifier(mods, embed_dim=8, fusion=fusion,
                                           **FAST).fit(X, y)
        assert list(clf.modalities_) == ["a", "b", "c", "d"]
    assert len(clf.net_.module_.pairs) == 6


@pytest.mark.parametrize("projection", ["layernorm", "relu"])
def test_projection(data, projection):
    torch.manual_seed(0)
    net = IntermediateFusionNet(2, SPECS, embed_dim=8, projection=projection).eval()
    with torch.no_grad():
        z = net.embed(**_inputs())
    for name in ("img", "tab"):
        if projection == "layernorm":  # signed, zero mean and unit variance per row
            assert (z[name] < 0).any()
            torch.testing.assert_close(z[name].mean(dim=1), torch.zeros(6))
            # (below 1 by LayerNorm's eps when the projection's spread is small)
            torch.testing.assert_close(z[name].var(dim=1, unbiased=False), torch.ones(6),
                                       rtol=0.05, atol=0.0)
        else:
            assert (z[name] >= 0).all()
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8, projection=projection,
                                       **FAST).fit(X, y)
    layer = torch.nn.LayerNorm if projection == "layernorm" else torch.nn.ReLU
    assert all(isinstance(p[1], layer) for p in clf.net_.module_.projections.values())


def test_a_model_saved_before_projection_existed_loads_as_relu(data):
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8, projection="relu",
                                       fusion="concat", **FAST).fit(X, y)
    del clf.projection  # what such a file holds
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.get_params()["projection"] == "relu"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    # refitting it builds the same network as before
    refit = loaded.fit(X, y)
    assert isinstance(refit.net_.module_.projections["img"][1], torch.nn.ReLU)


def test_defaults_are_layernorm_projection_and_bilinear_fusion(data):
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), **FAST).fit(X, y)
    assert clf.net_.module_.fusion == "bilinear"
    assert isinstance(clf.net_.module_.projections["tab"][1], torch.nn.LayerNorm)


def test_bad_params(data):
    X, y = data
    with pytest.raises(ValueError, match="projection"):
        IntermediateFusionNet(2, SPECS, projection="tanh")
    for params, match in [({"fusion": "sum"}, "fusion"), ({"embed_dim": 0}, "embed_dim"),
                          ({"projection": "batchnorm"}, "projection"),
                          ({"modality_dropout": 1.0}, "modality_dropout"),
                          ({"head_hidden_sizes": (0,)}, "head_hidden_sizes")]:
        with pytest.raises(ValueError, match=match):
            IntermediateFusionClassifier(two_modalities(), **{**FAST, **params}).fit(X, y)


def test_missing_embedding_replaces_absent_modality():
    net = IntermediateFusionNet(2, SPECS, embed_dim=8).eval()
    with torch.no_grad():
        net.missing["img"].fill_(0.5)
        x = _inputs(img=[False] * 6)
        out = net.embed(**x)
        assert torch.equal(out["img"], torch.full((6, 8), 0.5))
        x2 = dict(x, img=torch.randn(6, 1, 16, 16))  # another (placeholder) image
        torch.testing.assert_close(net(**x), net(**x2))


def test_modality_dropout_never_hides_every_modality():
    net = IntermediateFusionNet(2, SPECS, embed_dim=8, modality_dropout=0.9).train()
    present = [True, True, False, True, True, True] * 50
    tab_present = [True, False, True, True, False, True] * 50
    torch.manual_seed(0)
    x = {"img": torch.zeros(300, 1, 4, 4), "tab": torch.zeros(300, 5),
         "img_present": torch.tensor(present), "tab_present": torch.tensor(tab_present)}
    flags, dropped = net._presence(x)
    assert flags.any(dim=1).all()
    given = torch.stack([x["img_present"], x["tab_present"]], dim=1)
    assert not (flags & ~given).any()  # never turns a missing modality on
    assert (given & ~flags).any()  # but does hide present ones
    assert torch.equal(dropped, (given & ~flags).any(dim=1))
    flags, dropped = net.eval()._presence(x)
    assert torch.equal(flags, given) and dropped is None


@pytest.mark.parametrize("net_class, params", [(IntermediateFusionNet, {}),
                                               (CrossAttentionFusionNet, {"n_heads": 2})])
def test_rows_with_a_hidden_modality_do_not_train_the_branches_left(net_class, params):
    # On an interaction, a row whose image is hidden cannot be explained by its
    # table: its loss may train the missing embedding and the head, but not the
    # tabular branch, which would otherwise learn to memorise.
    net = net_class(2, SPECS, embed_dim=8, modality_dropout=0.5, **params)
    x = _inputs(40)
    branches = [p for name, p in net.named_parameters()
                if name.startswith(("encoders.", "projections.", "tokenizers."))]

    def gradients(rows):
        net.zero_grad()
        torch.manual_seed(3)  # the same draw of hidden modalities every time
        net(**x)[rows].sum().backward()
        return ([p.grad for p in branches],
                [p.grad for p in net.missing.values()] + [p.grad for p in net.head.parameters()])

    net.train()
    torch.manual_seed(3)
    _, dropped = net._presence(x)
    assert dropped.any() and not dropped.all()
    branch, rest = gradients(dropped)
    assert all(g is None or not g.any() for g in branch)
    assert any(g is not None and g.any() for g in rest)  # missing embeddings, head learn
    branch, _ = gradients(~dropped)
    assert all(g is not None for g in branch) and any(g.any() for g in branch)
    # outside training nothing is hidden, so every row reaches the branches
    net.eval()
    branch, _ = gradients(dropped)
    assert any(g is not None and g.any() for g in branch)


def test_missing_rows_fit_tabular_preprocessing_on_present_rows_only():
    X, y = make_data(60, missing_rate={"tabular": 0.3})
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8, **FAST).fit(X, y)
    scaler = clf.modalities_["tab"].preprocessor_.named_transformers_["numeric"]
    present = ~X[TAB].isna().all(axis=1)
    np.testing.assert_allclose(scaler[-1].mean_, X.loc[present, TAB].mean().to_numpy())
    # the spec given by the user is left unfitted
    assert not hasattr(clf.modalities[1][1], "preprocessor_")


def test_image_only_rows_and_tabular_only_rows_predict(data):
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8, **FAST).fit(X, y)
    Xm = X.copy()
    Xm.loc[Xm.index[:5], "image"] = None
    Xm.loc[Xm.index[5:10], TAB] = np.nan
    proba = clf.predict_proba(Xm)
    assert np.isfinite(proba).all()
    assert not np.allclose(proba[:10], clf.predict_proba(X)[:10])


def test_modality_missing_in_every_training_row(data):
    X, y = data
    X = X.assign(image=None)
    with pytest.raises(ValueError, match="'img' is missing in every training row"):
        IntermediateFusionClassifier(two_modalities(), **FAST).fit(X, y)


def test_lr_schedule(data):
    X, y = data
    clf = IntermediateFusionClassifier(two_modalities(), embed_dim=8,
                                       lr_schedule="warmup_cosine", **FAST).fit(X, y)
    lrs = [b["event_lr"] for epoch in clf.net_.history[:, "batches"] for b in epoch]
    assert max(lrs) == pytest.approx(FAST["lr"], rel=0.05)
    assert lrs[-1] < 0.5 * FAST["lr"]
    assert IntermediateFusionClassifier(two_modalities()).lr_schedule is None
