"""Tests of load_busi (real-data tests need SKMULTIMODAL_DATA)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skmultimodal.datasets import load_busi
from skmultimodal.datasets._verify import DataFileError

from ._damage import png_bytes


def _write_busi(home, with_masks=False):
    folder = home / "busi_256"
    names = {"benign": [1, 2, 10], "malignant": [1, 3], "normal": [7]}
    png = png_bytes()
    for label, numbers in names.items():
        (folder / label).mkdir(parents=True)
        for n in numbers:
            (folder / label / f"{label} ({n}).png").write_bytes(png)
            if with_masks:
                (folder / label / f"{label} ({n})_mask.png").write_bytes(png)
                (folder / label / f"{label} ({n})_mask_1.png").write_bytes(png)
    (folder / "benign" / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.parametrize("with_masks", [False, True])
def test_small_copy(tmp_path, with_masks):
    folder = _write_busi(tmp_path, with_masks=with_masks)
    bunch = load_busi(data_home=tmp_path)
    assert list(bunch.data.columns) == ["image_path"]
    assert bunch.target.tolist() == ["benign"] * 3 + ["malignant"] * 2 + ["normal"]
    # natural order: (2) before (10)
    assert bunch.groups.tolist() == [
        "benign (1)", "benign (2)", "benign (10)",
        "malignant (1)", "malignant (3)", "normal (7)",
    ]
    expected = (folder / "benign" / "benign (10).png").resolve()
    assert bunch.data["image_path"].iloc[2] == str(expected)
    assert list(bunch.target_names) == ["benign", "malignant", "normal"]
    assert bunch.feature_groups == {"image": ["image_path"]}
    assert bunch.frame["target"].tolist() == bunch.target.tolist()
    assert "near-duplicate" in bunch.DESCR


def test_classes_subset_and_order(tmp_path):
    _write_busi(tmp_path)
    X, y = load_busi(
        data_home=tmp_path, classes=["malignant", "benign"], return_X_y=True
    )
    assert y.tolist() == ["malignant"] * 2 + ["benign"] * 3
    assert X.shape == (5, 1)
    bunch = load_busi(data_home=tmp_path, classes="normal")
    assert bunch.target.tolist() == ["normal"]


@pytest.mark.parametrize(
    "classes, match",
    [
        (("benign", "cancer"), "each of classes must be one of"),
        ((), "at least 1"),
        (("benign", "benign"), "repeat"),
        (5, "sequence of names"),
    ],
)
def test_invalid_classes(tmp_path, classes, match):
    with pytest.raises(ValueError, match=match):
        load_busi(data_home=tmp_path, classes=classes)


def test_missing_folder_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_busi(data_home=tmp_path)
    message = str(info.value)
    assert "'benign'" in message and str(tmp_path / "busi_256") in message
    assert "kaggle.com" in message


def test_empty_class_folder(tmp_path):
    folder = _write_busi(tmp_path)
    for path in (folder / "normal").iterdir():
        path.unlink()
    with pytest.raises(FileNotFoundError, match="holds no image"):
        load_busi(data_home=tmp_path)
    assert len(load_busi(data_home=tmp_path, classes=("benign",)).target) == 3


@pytest.fixture(scope="module")
def bunch(data_home):
    return load_busi(data_home=data_home)


@pytest.mark.real_data
def test_real_counts(bunch):
    assert bunch.data.shape == (780, 1)
    labels, counts = np.unique(bunch.target, return_counts=True)
    counts = dict(zip(labels, counts.tolist()))
    assert counts == {"benign": 437, "malignant": 210, "normal": 133}
    assert len(set(bunch.groups)) == 780
    assert bunch.groups[0] == "benign (1)" and bunch.groups[-1] == "normal (133)"
    for text in ("CC BY 4.0", "Al-Dhabyani", "10.1016/j.dib.2019.104863", "duplicate"):
        assert text in bunch.DESCR


@pytest.mark.real_data
def test_real_files(bunch):
    paths = [Path(p) for p in bunch.data["image_path"]]
    assert all(p.is_file() for p in paths)
    assert [p.parent.name for p in paths] == bunch.target.tolist()
    assert not any("_mask" in p.name for p in paths)
    with Image.open(paths[0]) as image:
        assert image.size == (256, 256)


@pytest.mark.real_data
def test_real_lesion_task(data_home):
    X, y = load_busi(
        data_home=data_home, classes=("benign", "malignant"), return_X_y=True
    )
    assert len(X) == 647 and (y == "malignant").sum() == 210


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(png_bytes((64, 64))[:-30]), "lacks its final IEND"),
        (lambda p: p.write_bytes(b"\xff\xd8\xff\xe0 a JPEG"), "is not a PNG file"),
    ],
    ids=["empty", "cut short", "not a PNG"],
)
def test_damaged_image_is_named(tmp_path, damage, match):
    folder = _write_busi(tmp_path)
    path = folder / "malignant" / "malignant (3).png"
    damage(path)
    with pytest.raises(DataFileError, match=match) as info:
        load_busi(data_home=tmp_path)
    message = str(info.value)
    assert f"BUSI image '{path}'" in message and "kaggle.com" in message
    assert len(load_busi(data_home=tmp_path, classes="benign").target) == 3
