"""Tests of read_brecahad on small files in the BreCaHAD layout."""
import json

import numpy as np
import pytest
from PIL import Image

from skmultimodal.datasets import read_brecahad
from skmultimodal.datasets._verify import DataFileError

WIDTH, HEIGHT = 40, 30


def _image(offset):
    """RGB image whose pixel (row, col) is (row, col, offset): patches are checkable."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([rows, cols, np.full_like(rows, offset)], axis=-1).astype(np.uint8)


def _write_brecahad(root, annotations):
    (root / "images").mkdir(parents=True)
    (root / "groundTruth").mkdir()
    for i, (stem, points) in enumerate(annotations.items()):
        Image.fromarray(_image(10 * i)).save(root / "images" / f"{stem}.tif")
        (root / "groundTruth" / f"{stem}.json").write_text(json.dumps(points))
    return root


ANNOTATIONS = {
    "Case_1-01": {
        "mitosis": [{"x": 0.5, "y": 0.5}],
        "non_mitosis": [{"x": 0.1, "y": 0.1}],
        "apoptosis": [],
        "tumor": [{"x": 0.25, "y": 0.2}, {"x": 1.0, "y": 1.0}],
        "non_tumor": [],
        "lumen": [],
        "non_lumen": [],
    },
    "Case_1-02": {
        "tumor": [{"x": 0.0, "y": 0.0}],
        "non_tumor": [{"x": 0.75, "y": 0.5}],
    },
    "Case_2-01": {"lumen": [{"x": 0.5, "y": 0.5}]},  # no point of the default classes
}


@pytest.fixture
def root(tmp_path):
    return _write_brecahad(tmp_path / "BreCaHAD", ANNOTATIONS)


def test_patch_table(root):
    bunch = read_brecahad(root, patch_size=8)
    data = bunch.data
    assert list(data.columns) == ["image", "source_image"]
    # per image, classes in the order asked, points in file order
    assert bunch.target.tolist() == ["mitosis", "tumor", "tumor", "tumor", "non_tumor"]
    assert data["source_image"].tolist() == ["Case_1-01"] * 3 + ["Case_1-02"] * 2
    assert bunch.groups.tolist() == data["source_image"].tolist()
    assert bunch.coordinates.tolist() == [[20, 15], [10, 6], [39, 29], [0, 0], [30, 15]]
    assert list(bunch.target_names) == ["mitosis", "tumor", "non_tumor"]
    assert bunch.feature_groups == {"image": ["image"]}
    assert bunch.frame["target"].tolist() == bunch.target.tolist()
    assert "BreCaHAD" in bunch.DESCR and "source image" in bunch.DESCR
    rows = zip(data["image"], bunch.coordinates, data["source_image"])
    for patch, (x, y), source in rows:
        assert patch.shape == (8, 8, 3) and patch.dtype == np.uint8
        # the annotated pixel sits at index patch_size // 2
        assert patch[4, 4].tolist() == [y, x, 0 if source == "Case_1-01" else 10]


def test_patch_content_inside_and_at_borders(root):
    bunch = read_brecahad(root, patch_size=8)
    image = _image(0)
    inside = bunch.data["image"].iloc[0]  # mitosis at (20, 15)
    np.testing.assert_array_equal(inside, image[11:19, 16:24])
    corner = bunch.data["image"].iloc[3]  # tumour at (0, 0) of Case_1-02: mirrored
    assert corner[4, 4].tolist() == [0, 0, 10]
    assert corner[3, 4].tolist() == [1, 0, 10] and corner[4, 3].tolist() == [0, 1, 10]


def test_classes_and_group_by_case(root):
    bunch = read_brecahad(
        root, patch_size=4, classes=("lumen", "non_mitosis"), group_by="case"
    )
    assert bunch.target.tolist() == ["non_mitosis", "lumen"]
    assert bunch.groups.tolist() == ["Case_1", "Case_2"]
    assert bunch.data["source_image"].tolist() == ["Case_1-01", "Case_2-01"]
    X, y = read_brecahad(root, patch_size=4, classes="apoptosis", return_X_y=True)
    assert len(X) == 0 and list(X.columns) == ["image", "source_image"] and len(y) == 0


def test_bags_per_image(root):
    bunch = read_brecahad(root, patch_size=8, bags=True)
    data = bunch.data
    assert list(data.columns) == ["patches", "source_image"]
    assert data["source_image"].tolist() == ["Case_1-01", "Case_1-02"]  # Case_2 empty
    assert bunch.target.dtype == np.int64 and bunch.target.tolist() == [1, 0]
    assert list(bunch.target_names) == ["no mitosis", "mitosis"]
    assert bunch.groups.tolist() == ["Case_1-01", "Case_1-02"]
    assert bunch.feature_groups == {"image": ["patches"]}
    assert bunch.frame["target"].tolist() == [1, 0]
    # patches in reading order (row, then column), not grouped by class
    assert [t.tolist() for t in bunch.instance_targets] == [
        ["tumor", "mitosis", "tumor"], ["tumor", "non_tumor"],
    ]
    assert [c.tolist() for c in bunch.coordinates] == [
        [[10, 6], [20, 15], [39, 29]], [[0, 0], [30, 15]],
    ]
    assert [i.tolist() for i in bunch.instance_images] == [
        ["Case_1-01"] * 3, ["Case_1-02"] * 2,
    ]
    # the same patches as the patch table
    table = read_brecahad(root, patch_size=8)
    for bag, coords, source in zip(data["patches"], bunch.coordinates,
                                   data["source_image"]):
        assert isinstance(bag, list) and len(bag) == len(coords)
        for patch, xy in zip(bag, coords.tolist()):
            assert patch.shape == (8, 8, 3) and patch.dtype == np.uint8
            row = next(i for i, (c, s) in enumerate(
                zip(table.coordinates.tolist(), table.data["source_image"]))
                if c == xy and s == source)
            np.testing.assert_array_equal(patch, table.data["image"].iloc[row])
    X, y = read_brecahad(root, patch_size=8, bags=True, return_X_y=True)
    assert X["source_image"].tolist() == ["Case_1-01", "Case_1-02"]
    assert X["patches"].map(len).tolist() == [3, 2] and y.tolist() == [1, 0]


def test_bags_per_case_and_positive_class(root):
    bunch = read_brecahad(root, patch_size=4, bags=True, group_by="case")
    assert list(bunch.data.columns) == ["patches", "case"]
    assert bunch.data["case"].tolist() == ["Case_1"] and bunch.target.tolist() == [1]
    assert len(bunch.data["patches"].iloc[0]) == 5
    assert bunch.instance_images[0].tolist() == ["Case_1-01"] * 3 + ["Case_1-02"] * 2
    bunch = read_brecahad(
        root, patch_size=4, bags=True, group_by="case",
        classes=("mitosis", "non_mitosis", "lumen"),
    )
    assert bunch.data["case"].tolist() == ["Case_1", "Case_2"]
    assert bunch.target.tolist() == [1, 0]
    assert [t.tolist() for t in bunch.instance_targets] == [
        ["non_mitosis", "mitosis"], ["lumen"],
    ]
    bunch = read_brecahad(root, patch_size=4, bags=True, positive_class="non_tumor")
    assert bunch.target.tolist() == [0, 1]
    assert list(bunch.target_names) == ["no non_tumor", "non_tumor"]
    X, y = read_brecahad(
        root, patch_size=4, bags=True, classes="apoptosis", positive_class="apoptosis",
        return_X_y=True,
    )
    assert len(X) == 0 and list(X.columns) == ["patches", "source_image"] and len(y) == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bags": 1}, "bags must be a bool"),
        ({"positive_class": "tubule"}, "positive_class must be one of"),
        ({"bags": True, "positive_class": "lumen"}, "must be one of classes"),
        ({"patch_size": 1}, "patch_size must be >= 2"),
        ({"patch_size": 8.0}, "patch_size must be an int"),
        ({"patch_size": 60}, "too large"),
        ({"classes": ("mitosis", "tubule")}, "each of classes must be one of"),
        ({"group_by": "patient"}, "group_by must be one of"),
    ],
)
def test_invalid_arguments(root, kwargs, match):
    with pytest.raises(ValueError, match=match):
        read_brecahad(root, **kwargs)


def test_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="images"):
        read_brecahad(tmp_path)
    root = _write_brecahad(tmp_path / "a", {"Case_1-01": {"tumor": []}})
    (root / "images" / "Case_1-01.tif").unlink()
    with pytest.raises(FileNotFoundError, match="Case_1-01"):
        read_brecahad(root)
    outside = {"Case_1-01": {"tumor": [{"x": 1.5, "y": 0.1}]}}
    root = _write_brecahad(tmp_path / "b", outside)
    with pytest.raises(ValueError, match="not normalised"):
        read_brecahad(root)
    root = _write_brecahad(tmp_path / "c", {"Case_1-01": {"tumor": [[0.1, 0.2]]}})
    with pytest.raises(ValueError, match="is not"):
        read_brecahad(root)
    root = _write_brecahad(tmp_path / "d", {})
    with pytest.raises(FileNotFoundError, match="No annotation file"):
        read_brecahad(root)


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "image file is truncated"),
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(b"<html>404</html>"), "UnidentifiedImageError"),
    ],
    ids=["cut short", "empty", "not an image"],
)
def test_damaged_image_is_named(root, damage, match):
    path = root / "images" / "Case_1-02.tif"
    damage(path)
    with pytest.raises(DataFileError, match=match) as info:
        read_brecahad(root, patch_size=8)
    assert f"BreCaHAD image '{path}'" in str(info.value)
    assert "figshare.com" in str(info.value)


def test_decompression_bomb_is_named(root, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DataFileError, match="larger than PIL's limit") as info:
        read_brecahad(root, patch_size=8)
    assert f"'{root / 'images' / 'Case_1-01.tif'}'" in str(info.value)


@pytest.mark.parametrize(
    "content, match",
    [
        ('{"tumor": [{"x": 0.5, "y"', "JSONDecodeError"),
        ("", r"is empty \(0 bytes\)"),
        (b"\xff\xfe{}", "UnicodeDecodeError"),
    ],
    ids=["cut short", "empty", "not UTF-8"],
)
def test_damaged_annotation_is_named(root, content, match):
    path = root / "groundTruth" / "Case_1-02.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(DataFileError, match=match) as info:
        read_brecahad(root, patch_size=8)
    assert f"BreCaHAD annotation file '{path}'" in str(info.value)
