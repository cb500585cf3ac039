"""Tests of load_breast_lesions_usg (real-data tests need SKMULTIMODAL_DATA)."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import load_breast_lesions_usg
from skmultimodal.datasets._breast_lesions_usg import (
    BIRADS_COLUMNS,
    CLINICAL_COLUMNS,
    FILENAME,
)
from skmultimodal.datasets._verify import DataFileError

from ._damage import png_bytes, truncate_bytes

LEAKING = {"Diagnosis", "Verification", "Classification", *BIRADS_COLUMNS}
ROWS = [
    # CaseID, Age, Classification, BIRADS, mask
    (1, 57, "benign", 2, "case001_tumor.png"),
    (2, "not available", "malignant", "4c", "case002_tumor.png"),
    (3, 43, "normal", 1, None),
    (4, 71, "malignant", 5, "case004_tumor.png"),
]


def _write_lesions(home, image_folder="images", skip=()):
    """A small copy of the data set in the published layout."""
    folder = home / "breast_lesions_usg"
    (folder / image_folder).mkdir(parents=True)
    table = pd.DataFrame(
        {
            "CaseID": [r[0] for r in ROWS],
            "Image_filename": [f"case{r[0]:03d}.png" for r in ROWS],
            "Mask_tumor_filename": [r[4] for r in ROWS],
            "Mask_other_filename": [None] * len(ROWS),
            "Pixel_size": [0.0078125, 0.006462, 0.01, 0.0069],
            "Age": [r[1] for r in ROWS],
            "Tissue_composition": [
                "homogeneous: fat", "not available", "lactating", "homogeneous: fat",
            ],
            "Signs": ["no", "palpable", "no", "skin retraction&palpable"],
            "Symptoms": ["no", "not available", "no", "nipple discharge"],
            **{c: ["x"] * len(ROWS) for c in BIRADS_COLUMNS if c != "BIRADS"},
            "BIRADS": [r[3] for r in ROWS],
            "Verification": [
                "confirmed by follow-up care", "confirmed by biopsy",
                "not applicable", "confirmed by biopsy",
            ],
            "Diagnosis": [
                "not applicable", "Invasive carcinoma", "not applicable", "DCIS",
            ],
            "Classification": [r[2] for r in ROWS],
        }
    )
    with pd.ExcelWriter(folder / FILENAME) as writer:
        table.to_excel(
            writer, sheet_name="BrEaST-Lesions-USG clinical dat", index=False
        )
        pd.DataFrame({"type": ["CaseID"], "description": ["id"]}).to_excel(
            writer, sheet_name="Data Dictionary", index=False
        )
    for case, *_, mask in ROWS:
        for name in (f"case{case:03d}.png", mask):
            if name and name not in skip:
                (folder / image_folder / name).write_bytes(png_bytes())
    return folder


def test_small_copy(tmp_path):
    folder = _write_lesions(tmp_path)
    bunch = load_breast_lesions_usg(data_home=tmp_path)
    data = bunch.data
    assert list(data.columns) == ["image_path", "mask_path", *CLINICAL_COLUMNS]
    assert bunch.target.tolist() == [0, 1, 1]  # the normal case is dropped
    assert bunch.groups.tolist() == [1, 2, 4]
    assert list(bunch.target_names) == ["benign", "malignant"]
    assert data["image_path"].tolist() == [
        str((folder / "images" / f"case{i:03d}.png").resolve()) for i in (1, 2, 4)
    ]
    assert all(
        Path(p).is_absolute() and p.endswith("_tumor.png") for p in data["mask_path"]
    )
    assert data["Age"].dtype == np.float64
    assert data["Age"].tolist()[0] == 57.0 and np.isnan(data["Age"].iloc[1])
    assert data["Tissue_composition"].tolist() == [
        "homogeneous: fat", "not available", "homogeneous: fat",
    ]
    assert bunch.feature_groups == {
        "image": ["image_path"], "clinical": list(CLINICAL_COLUMNS),
    }
    assert bunch.pixel_size.tolist() == [0.0078125, 0.006462, 0.0069]
    assert bunch.frame["target"].tolist() == [0, 1, 1]
    assert not LEAKING & set(data.columns)
    X, y = load_breast_lesions_usg(data_home=tmp_path, return_X_y=True)
    pd.testing.assert_frame_equal(X, data)
    arrays = load_breast_lesions_usg(data_home=tmp_path, as_frame=False)
    assert arrays.data.shape == (3, 6) and arrays.data.dtype == object
    assert arrays.feature_names == list(data.columns) and arrays.frame is None


def test_birads_on_request_warns(tmp_path):
    _write_lesions(tmp_path)
    with pytest.warns(UserWarning, match="leak the benign/malignant label"):
        bunch = load_breast_lesions_usg(data_home=tmp_path, include_birads=True)
    assert bunch.feature_groups["birads"] == list(BIRADS_COLUMNS)
    assert list(bunch.data.columns[-len(BIRADS_COLUMNS):]) == list(BIRADS_COLUMNS)
    assert bunch.data["BIRADS"].tolist() == ["2", "4c", "5"]  # ints -> strings
    assert not {"Diagnosis", "Verification", "Classification"} & set(bunch.data.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_breast_lesions_usg(data_home=tmp_path)  # no warning by default


def test_tcia_folder_name(tmp_path):
    folder = _write_lesions(
        tmp_path, image_folder="BrEaST-Lesions_USG-images_and_masks"
    )
    bunch = load_breast_lesions_usg(data_home=tmp_path)
    assert bunch.data["image_path"].iloc[0] == str(
        (folder / "BrEaST-Lesions_USG-images_and_masks" / "case001.png").resolve()
    )


def test_missing_images_are_named(tmp_path):
    _write_lesions(tmp_path, skip=("case002.png", "case004_tumor.png", "case003.png"))
    with pytest.raises(FileNotFoundError) as info:
        load_breast_lesions_usg(data_home=tmp_path)
    message = str(info.value)
    assert "'images/case002.png'" in message and "'images/case004_tumor.png'" in message
    assert "case003" not in message  # the normal case is not needed
    assert "10.7937/9WKK-Q141" in message


def test_missing_table_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_breast_lesions_usg(data_home=tmp_path)
    message = str(info.value)
    assert FILENAME in message and str(tmp_path / "breast_lesions_usg") in message
    assert "Cancer Imaging Archive" in message


def test_bad_layout_and_values(tmp_path):
    folder = tmp_path / "breast_lesions_usg"
    folder.mkdir()
    pd.DataFrame({"CaseID": [1], "Age": [3]}).to_excel(folder / FILENAME, index=False)
    with pytest.raises(ValueError, match="expected layout"):
        load_breast_lesions_usg(data_home=tmp_path)


def test_unexpected_age_string_is_an_error(tmp_path):
    folder = _write_lesions(tmp_path)
    table = pd.read_excel(folder / FILENAME)
    table.loc[0, "Age"] = "about 50"
    table.to_excel(folder / FILENAME, index=False)
    with pytest.raises(ValueError):
        load_breast_lesions_usg(data_home=tmp_path)


@pytest.mark.parametrize("name", ["include_birads", "as_frame", "return_X_y"])
def test_invalid_flags(tmp_path, name):
    with pytest.raises(ValueError, match=f"{name} must be a bool"):
        load_breast_lesions_usg(data_home=tmp_path, **{name: "yes"})


@pytest.fixture(scope="module")
def bunch(data_home):
    return load_breast_lesions_usg(data_home=data_home)


@pytest.mark.real_data
def test_real_counts_and_columns(bunch):
    data, target = bunch.data, bunch.target
    assert data.shape == (252, 6) and target.shape == (252,)
    assert np.bincount(target).tolist() == [154, 98]
    assert list(data.columns) == [
        "image_path", "mask_path", "Age", "Tissue_composition", "Signs", "Symptoms",
    ]
    assert not LEAKING & set(data.columns)
    assert len(np.unique(bunch.groups)) == 252  # one image per patient
    assert int(data["Age"].isna().sum()) == 41
    assert 18 <= data["Age"].min() and data["Age"].max() <= 90
    assert data["Signs"].str.contains("palpable").sum() > 40
    for text in ("CC BY 4.0", "10.7937/9WKK-Q141", "Pawlowska", "s41597-024-02984-z"):
        assert text in bunch.DESCR


@pytest.mark.real_data
def test_real_image_files_exist(bunch):
    paths = zip(bunch.data["image_path"], bunch.data["mask_path"], bunch.groups)
    for image, mask, case in paths:
        assert Path(image).is_file() and Path(image).name == f"case{case:03d}.png"
        assert Path(mask).is_file() and Path(mask).name == f"case{case:03d}_tumor.png"


@pytest.mark.real_data
def test_real_target_matches_classification(bunch, data_home):
    raw = pd.read_excel(data_home / "breast_lesions_usg" / FILENAME)
    label = raw.set_index("CaseID").loc[bunch.groups, "Classification"]
    assert np.array_equal(bunch.target, (label == "malignant").to_numpy().astype(int))


@pytest.mark.real_data
def test_real_birads_warns_and_leaks(data_home):
    with pytest.warns(UserWarning, match="radiologist"):
        full = load_breast_lesions_usg(data_home=data_home, include_birads=True)
    assert full.data.shape == (252, 6 + 9)
    categories = pd.crosstab(full.data["BIRADS"], full.target)
    # BI-RADS 2 and 3 are benign in every case: a near-label
    assert categories.loc[["2", "3"], 1].sum() == 0
    assert categories.loc[["2", "3"], 0].sum() == 67
    assert set(full.data["BIRADS"]) == {"2", "3", "4a", "4b", "4c", "5"}


# --------------------------------------------------------------------------
# damaged files


def _refused(home, path, match):
    """The DataFileError of the loader; it names the file and the source."""
    with pytest.raises(DataFileError, match=match) as info:
        load_breast_lesions_usg(data_home=home)
    message = str(info.value)
    assert f"'{path}'" in message and "10.7937/9WKK-Q141" in message
    return message


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (truncate_bytes, "BadZipFile"),
        (lambda p: p.write_text("CaseID,Age\n1,50\n"), "BadZipFile"),
    ],
    ids=["empty", "cut short", "a CSV"],
)
def test_damaged_table(tmp_path, damage, match):
    folder = _write_lesions(tmp_path)
    damage(folder / FILENAME)
    _refused(tmp_path, folder / FILENAME, match)


@pytest.mark.parametrize(
    "column, value, match",
    [
        ("Classification", "malignnt", "unexpected classes in 'Classification' "
                                       "'malignnt'"),
        ("CaseID", None, "empty cells .* among its case ids"),
        ("Pixel_size", "0,01", "among its pixel sizes: 'Pixel_size'='0,01'"),
        ("Age", "about 50", "among its ages: 'Age'='about 50'"),
    ],
)
def test_bad_values(tmp_path, column, value, match):
    folder = _write_lesions(tmp_path)
    table = pd.read_excel(folder / FILENAME).astype({column: object})
    table.loc[1, column] = value
    table.to_excel(folder / FILENAME, index=False)
    _refused(tmp_path, folder / FILENAME, match)


def test_header_only_table(tmp_path):
    folder = _write_lesions(tmp_path)
    pd.read_excel(folder / FILENAME).iloc[:0].to_excel(folder / FILENAME, index=False)
    _refused(tmp_path, folder / FILENAME, "holds 0 cases, expected at least 1")


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(png_bytes((64, 64))[:-30]), "lacks its final IEND"),
        (lambda p: p.write_bytes(b"<html>404</html>"), "is not a PNG file"),
    ],
    ids=["empty", "cut short", "not a PNG"],
)
def test_damaged_image(tmp_path, damage, match):
    folder = _write_lesions(tmp_path)
    path = folder / "images" / "case004_tumor.png"
    damage(path)
    _refused(tmp_path, path, match)
