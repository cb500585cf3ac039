"""ImageModality and TabularModality specifications."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skmultimodal import ImageModality, TabularModality


def test_image_modality_params_and_validation():
    mod = ImageModality("us", backbone="resnet18", attention="cbam", image_size=(32, 48))
    assert clone(mod).get_params()["attention"] == "cbam"
    assert mod.check_params().encoder_spec() == dict(
        kind="image", backbone="resnet18", attention="cbam", weights=None, in_channels=3,
        freeze_backbone=False, backbone_params={"stem": "small"})
    # the small CNN takes attention after each convolution block, as the ResNets do
    # inside their residual blocks
    cnn = ImageModality("us", backbone="simple_cnn", attention="eca").check_params()
    assert cnn.encoder_spec()["attention"] == "eca"
    with pytest.raises(ValueError, match="The 'attention' parameter of ImageModality must be"):
        ImageModality("us", backbone="simple_cnn", attention="se").check_params()


@pytest.mark.parametrize("size, stem", [(28, "small"), ((32, 64), "small"), (65, "imagenet"),
                                        (224, "imagenet"), (None, "imagenet")])
def test_resnet_stem_follows_image_size(size, stem):
    spec = ImageModality("us", image_size=size).encoder_spec()
    assert spec["backbone_params"] == {"stem": stem}
    # an explicit stem is kept; other backbones get none
    kept = ImageModality("us", image_size=size, backbone_params={"stem": "imagenet"})
    assert kept.encoder_spec()["backbone_params"] == {"stem": "imagenet"}
    cnn = ImageModality("us", backbone="simple_cnn", image_size=size)
    assert "stem" not in cnn.encoder_spec()["backbone_params"]


def test_resnet_stem_follows_the_weights(tmp_path):
    import torch

    from skmultimodal.nn import ResNetBackbone

    small = tmp_path / "small.pt"
    torch.save(ResNetBackbone(stem="small").state_dict(), small)
    large = tmp_path / "large.pt"
    torch.save(ResNetBackbone(stem="imagenet").state_dict(), large)
    assert ImageModality("us", image_size=224, weights=str(small)).encoder_spec()[
        "backbone_params"] == {"stem": "small"}
    assert ImageModality("us", image_size=28, weights=str(large)).encoder_spec()[
        "backbone_params"] == {"stem": "imagenet"}


def test_image_modality_cells_and_missing_rows(tmp_path):
    X = pd.DataFrame({"us": [np.zeros((4, 4)), np.nan, None]}, index=["a", "b", "c"])
    mod = ImageModality("us", image_size=8)
    with pytest.raises(ValueError, match=r"2 image\(s\) in column 'us' are missing"):
        mod.cells_from_frame(X)
    cells, labels = mod.cells_from_frame(X, allow_missing=True)
    src = mod.make_source(cells, labels, allow_missing=True)
    assert src[1].shape == (3, 8, 8) and not src.present(1) and src.present(0)
    with pytest.raises(KeyError, match="available columns"):
        ImageModality("mammo").cells_from_frame(X)


def test_tabular_modality_preprocessing_and_names():
    X = pd.DataFrame({"age": [40, 50, 60, 70], "stage": ["I", "II", None, "I"],
                      "size": ["1.5", "2", "3", "4"]})
    mod = TabularModality(["age", "stage", "size"]).fit(X)
    assert mod.numeric_columns_ == ["age", "size"] and mod.categorical_columns_ == ["stage"]
    out = mod.transform(X)
    assert out.dtype == np.float32 and out.shape == (4, mod.n_features_out_)
    np.testing.assert_allclose(out[:, 0].mean(), 0, atol=1e-6)
    assert "categorical__stage_missing" in mod.get_feature_names_out()


def test_tabular_modality_missing_blocks_are_skipped():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, np.nan, 4.0]})
    mod = TabularModality()
    missing = mod.missing_rows(X)
    np.testing.assert_array_equal(missing, [False, True, False])
    out = mod.fit(X, skip_rows=missing).transform(X, skip_rows=missing)
    np.testing.assert_array_equal(out[1], [0, 0])


def test_tabular_modality_errors():
    X = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(KeyError, match="not among"):
        TabularModality(["a"], categorical=["b"]).fit(X)
    with pytest.raises(ValueError, match="'impute' parameter of TabularModality must be"):
        TabularModality(impute="knn").fit(X)
    with pytest.raises(ValueError, match="more than once"):
        TabularModality(["a", "a"]).fit(X)


# -- columns holding images are never tabular features ------------------------
def _frame_with_images(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    return pd.DataFrame({
        "age": [50.0, 61.0, 47.0, 70.0],
        "image": [np.zeros((4, 4))] * 4,
        "path": [str(tmp_path / "a.png")] * 4,
        "site": ["x", "y", "x", "y"],
    })


def test_columns_none_leaves_out_image_columns_with_a_warning(tmp_path):
    X = _frame_with_images(tmp_path)
    with pytest.warns(UserWarning, match=r"leaves out column\(s\) \['image', 'path'\]"):
        mod = TabularModality().fit(X)
    assert mod.columns_ == ["age", "site"]
    assert mod.categorical_columns_ == ["site"]
    assert mod.transform(X).shape == (4, 3)


def test_listed_image_column_is_refused(tmp_path):
    X = _frame_with_images(tmp_path)
    with pytest.raises(ValueError, match=r"\['image'\] hold images"):
        TabularModality(["age", "image"]).fit(X)


def test_lesion_box_columns_are_no_tabular_features():
    X = pd.DataFrame({"age": [50.0, 61.0, 47.0], "box": [(0, 0, 4, 4), (1, 1, 3, 3), None]})
    with pytest.warns(UserWarning, match=r"\['box'\].*lesion boxes"):
        assert TabularModality().fit(X).columns_ == ["age"]
    with pytest.raises(ValueError, match=r"\['box'\] hold images .* or lesion boxes"):
        TabularModality(["age", "box"]).fit(X)


def test_empty_column_list_says_so():
    with pytest.raises(ValueError, match=r"at least one column; got columns=\[\]"):
        TabularModality([]).fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match=r"at least one column; got columns=\[\]"):
        TabularModality([]).missing_rows(pd.DataFrame({"a": [1.0, 2.0]}))


def test_values_beyond_float32_are_refused_with_column_and_row():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1e200, 2.0, 3.0]},
                     index=["p1", "p2", "p3", "p4"])
    with pytest.raises(ValueError, match=r"too large for float32.*\['b'\] at rows \['p2'\]"):
        TabularModality().fit(X)
    fitted = TabularModality().fit(X.assign(b=[0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"too large for float32.*\['a'\] at rows \['p3'\]"):
        fitted.transform(X.assign(a=[1.0, 2.0, -1e300, 4.0], b=0.0))
    # within float32, but so far from a training column of tiny spread that
    # the standardised value overflows float32
    tiny = TabularModality().fit(X.assign(a=[0.0, 1e-6, 2e-6, 3e-6], b=0.0))
    with pytest.raises(ValueError, match=r"not finite in float32 for feature\(s\) "
                                         r"\['numeric__a'\] at rows \['p3'\]"):
        tiny.transform(X.assign(a=[0.0, 0.0, 1e33, 0.0], b=0.0))


@pytest.mark.parametrize("n_columns, expected", [(5, 0.1), (100, 0.1), (101, 0.5)])
def test_tabular_dropout_auto_depends_on_the_width(n_columns, expected):
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(10, n_columns)))
    X.columns = [f"c{i}" for i in range(n_columns)]
    modality = TabularModality().fit(X)
    assert modality.dropout_ == expected
    assert modality.encoder_spec()["dropout"] == expected
    # a number is kept as it is
    assert TabularModality(dropout=0.3).fit(X).encoder_spec()["dropout"] == 0.3
    with pytest.raises(ValueError, match="dropout"):
        TabularModality(dropout="wide").fit(X)


def test_modality_present_reads_missing_cells_as_the_modalities_do():
    from skmultimodal.modalities._multimodal import modality_present

    X = pd.DataFrame({
        "image": pd.Series([np.zeros((4, 4)), None, np.nan, "a.png", None], dtype=object),
        "bag": pd.Series([[np.zeros((2, 2))], [], None, (), ["b.png"]], dtype=object),
        "age": [1.0, np.nan, 3.0, np.nan, np.nan],
        "size": [np.nan, np.nan, 2.0, np.nan, np.nan],
    })
    assert modality_present(X, ["image"]).tolist() == [True, False, False, True, False]
    assert modality_present(X, ["bag"]).tolist() == [True, False, False, False, True]
    assert modality_present(X, ["age", "size"]).tolist() == [True, False, True, False, False]
