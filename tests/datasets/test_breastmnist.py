"""Tests of load_breastmnist (real-data tests need SKMULTIMODAL_DATA)."""
import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import load_breastmnist


def test_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_breastmnist(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert "breastmnist.npz" in message
    assert str(tmp_path / "breastmnist") in message
    assert not (tmp_path / "breastmnist").exists()  # nothing created


@pytest.mark.parametrize("split", ["training", "Train", "", 0])
def test_invalid_split(tmp_path, split):
    with pytest.raises(ValueError, match="split must be one of"):
        load_breastmnist(data_home=tmp_path, split=split)
    assert not (tmp_path / "breastmnist").exists()  # checked before downloading


@pytest.fixture(scope="module")
def bunch(data_home):
    return load_breastmnist(data_home=data_home)


@pytest.mark.real_data
def test_all_splits(bunch):
    data, target = bunch.data, bunch.target
    assert list(data.columns) == ["image", "split"]
    assert data.shape == (780, 2)
    counts = data["split"].value_counts().to_dict()
    assert counts == {"train": 546, "val": 78, "test": 156}
    assert list(pd.unique(data["split"])) == ["train", "val", "test"]
    assert data["image"].dtype == object
    first = data["image"].iloc[0]
    assert first.shape == (28, 28) and first.dtype == np.uint8
    assert bunch.images.shape == (780, 28, 28) and bunch.images.dtype == np.uint8
    assert np.array_equal(np.stack(data["image"].to_list()), bunch.images)
    assert target.dtype.kind == "i" and target.shape == (780,)
    assert np.bincount(target).tolist() == [210, 570]
    assert list(bunch.target_names) == ["malignant", "normal/benign"]
    assert bunch.feature_groups == {"image": ["image"]}
    assert list(bunch.split) == list(data["split"])
    assert bunch.frame["target"].tolist() == target.tolist()
    assert bunch.filename.endswith("breastmnist.npz")


@pytest.mark.real_data
def test_descr_has_provenance_licence_and_citations(bunch):
    for text in ("CC BY 4.0", "MedMNIST v2", "Al-Dhabyani", "s41597-022-01721-8"):
        assert text in bunch.DESCR


@pytest.mark.real_data
@pytest.mark.parametrize(
    "split, n, n_malignant", [("train", 546, 147), ("val", 78, 21), ("test", 156, 42)]
)
def test_one_split(data_home, bunch, split, n, n_malignant):
    part = load_breastmnist(data_home=data_home, split=split)
    assert list(part.data.columns) == ["image"]
    assert len(part.data) == len(part.target) == len(part.images) == n
    assert int((part.target == 0).sum()) == n_malignant
    rows = bunch.split == split
    assert np.array_equal(part.images, bunch.images[rows])
    assert np.array_equal(part.target, bunch.target[rows])


@pytest.mark.real_data
def test_return_x_y_and_as_frame_false(data_home):
    X, y = load_breastmnist(data_home=data_home, split="val", return_X_y=True)
    assert isinstance(X, pd.DataFrame) and X.shape == (78, 1) and y.shape == (78,)
    arrays = load_breastmnist(data_home=data_home, as_frame=False)
    assert isinstance(arrays.data, np.ndarray) and arrays.data.shape == (780, 28, 28)
    assert arrays.frame is None


@pytest.mark.real_data
def test_data_home_from_environment(data_home, monkeypatch):
    monkeypatch.setenv("SKMULTIMODAL_DATA", str(data_home))
    assert len(load_breastmnist(split="test").target) == 156
