"""Tests of load_breastmnist (real-data tests need SKMULTIMODAL_DATA)."""
import os

import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import load_breastmnist
from skmultimodal.datasets._verify import DataFileError

from ._damage import truncate_bytes


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


# --------------------------------------------------------------------------
# damaged files


def _arrays(n=(3, 2, 2)):
    """Valid arrays in the layout of breastmnist.npz, n images per split."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in zip(("train", "val", "test"), n):
        arrays[f"{split}_images"] = rng.integers(0, 256, (count, 28, 28), np.uint8)
        arrays[f"{split}_labels"] = (np.arange(count) % 2).astype(np.uint8)[:, None]
    return arrays


def _write_npz(home, **changes):
    folder = home / "breastmnist"
    folder.mkdir(exist_ok=True)
    arrays = {**_arrays(), **changes}
    np.savez(folder / "breastmnist.npz", **{k: v for k, v in arrays.items()
                                           if v is not None})
    return folder / "breastmnist.npz"


def _refused(home, match, **kwargs):
    """The DataFileError of load_breastmnist; it names the file and the fix."""
    with pytest.raises(DataFileError, match=match) as info:
        load_breastmnist(data_home=home, download_if_missing=False, **kwargs)
    message = str(info.value)
    assert f"'{home / 'breastmnist' / 'breastmnist.npz'}'" in message
    assert "download_if_missing=True" in message and "zenodo.org" in message
    return message


def test_small_valid_file(tmp_path):
    _write_npz(tmp_path)
    bunch = load_breastmnist(data_home=tmp_path)
    assert bunch.images.shape == (7, 28, 28) and bunch.target.tolist() == [
        0, 1, 0, 0, 1, 0, 1,
    ]


def test_whole_float_pixels_are_accepted(tmp_path):
    images = _arrays()["train_images"]
    _write_npz(tmp_path, train_images=images.astype(np.float32))
    bunch = load_breastmnist(data_home=tmp_path, split="train", as_frame=False)
    assert bunch.data.dtype == np.uint8 and np.array_equal(bunch.data, images)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"val_images": None}, r"lacks the arrays \['val_images'\]"),
        ({"train_images": np.full((3, 28, 28), 300.7)},
         r"train_images that are not whole pixel values in 0..255, e.g. \[300.7"),
        ({"train_images": np.full((3, 28, 28), -1)}, r"0..255, e.g. \[-1.0"),
        ({"train_images": np.full((3, 28, 28), np.nan)}, r"0..255, e.g. \[nan"),
        ({"test_images": np.zeros((2, 28 * 28), np.uint8)},
         r"test_images of shape \(2, 784\)"),
        ({"train_images": np.full((3, 28, 28), "x")}, "of dtype <U1, expected numbers"),
        ({"train_labels": np.array([[0], [5], [1]])},
         r"train_labels \[5\], expected 0 \(malignant\) or 1"),
        ({"val_labels": np.array([[0]])}, "holds 1 val_labels for 2 images"),
    ],
    ids=["missing array", "pixel 300.7", "negative pixel", "nan pixel", "flat images",
         "strings", "label 5", "labels lost"],
)
def test_damaged_arrays(tmp_path, change, match):
    _write_npz(tmp_path, **change)
    _refused(tmp_path, match)


def test_missing_array_of_another_split_is_not_needed(tmp_path):
    _write_npz(tmp_path, val_images=None)
    assert len(load_breastmnist(data_home=tmp_path, split="test").target) == 2


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (truncate_bytes, "is not a complete npz archive"),
        (lambda p: p.write_bytes(os.urandom(2000)), "is not a complete npz archive"),
        (lambda p: np.save(open(p, "wb"), np.zeros(3)), "not a complete npz archive"),
    ],
    ids=["empty", "cut short", "garbage", "npy array"],
)
def test_damaged_file(tmp_path, damage, match):
    damage(_write_npz(tmp_path))
    _refused(tmp_path, match)


def test_corrupt_member(tmp_path):
    path = _write_npz(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the compressed or stored image bytes
    path.write_bytes(bytes(data))
    _refused(tmp_path, "BadZipFile: Bad CRC-32")
