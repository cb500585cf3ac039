"""Tests of the MIMIC-IV recipe on tiny tables in the real column layout."""
import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import mimic_iv_patient_table
from skmultimodal.datasets._verify import DataFileError

from ._damage import keep_lines, truncate_bytes, write_text


def _write(folder, name, frame):
    frame.to_csv(folder / name, index=False, compression="gzip")


@pytest.fixture
def hosp(tmp_path):
    folder = tmp_path / "hosp"
    folder.mkdir()
    _write(folder, "patients.csv.gz", pd.DataFrame({
        "subject_id": [10000032, 10000001, 10000002],
        "gender": ["F", "M", "F"],
        "anchor_age": [52, 70, 91],
        "anchor_year": [2180, 2150, 2130],
        "anchor_year_group": ["2014 - 2016", "2008 - 2010", "2017 - 2019"],
        "dod": [None, "2152-03-01", None],
    }))
    _write(folder, "admissions.csv.gz", pd.DataFrame({
        "subject_id": [10000032, 10000032, 10000001],
        "hadm_id": [22595853, 22841357, 29079034],
        "admittime": [
            "2182-05-06 19:17:00", "2180-06-26 18:27:00", "2151-07-16 14:29:00",
        ],
        "dischtime": [
            "2182-05-07 12:00:00", "2180-06-27 18:49:00", "2151-07-19 17:10:00",
        ],
        "deathtime": [None, None, None],
        "admission_type": ["URGENT", "EW EMER.", "ELECTIVE"],
        "hospital_expire_flag": [0, 0, 0],
    }))
    _write(folder, "diagnoses_icd.csv.gz", pd.DataFrame({
        "subject_id": [10000032, 10000032, 10000001, 10000001, 10000002],
        "hadm_id": [22595853, 22841357, 29079034, 29079034, 1],
        "seq_num": [1, 1, 1, 2, 1],
        "icd_code": ["C50911", "4019", "1749", "E119", "25000"],
        "icd_version": [10, 9, 9, 10, 10],  # 25000 as ICD-10 is not diabetes
    }))
    _write(folder, "d_labitems.csv.gz", pd.DataFrame({
        "itemid": [50912, 51222, 50931],
        "label": ["Creatinine", "Hemoglobin", "Glucose"],
        "fluid": ["Blood"] * 3,
        "category": ["Chemistry", "Hematology", "Chemistry"],
    }))
    _write(folder, "labevents.csv.gz", pd.DataFrame({
        "labevent_id": range(1, 8),
        "subject_id": [
            10000032, 10000032, 10000032, 10000001, 10000001, 10000032, 10000001,
        ],
        "hadm_id": [22595853, 22841357, None, 29079034, 29079034, 22595853, 29079034],
        "specimen_id": range(100, 107),
        "itemid": [50912, 50912, 50912, 51222, 51222, 51222, 50931],
        "charttime": [
            "2182-05-06 20:00:00",  # latest creatinine of 10000032
            "2180-06-26 19:00:00",
            "2182-05-07 08:00:00",  # later, but no numeric value
            "2151-07-17 06:00:00",
            "2151-07-16 15:00:00",
            "2182-05-06 21:00:00",
            "2151-07-16 15:00:00",
        ],
        "value": ["1.1", "0.7", "___", "9.8", "10.4", "12.0", "140"],
        "valuenum": [1.1, 0.7, None, 9.8, 10.4, 12.0, 140.0],
        "valueuom": ["mg/dL", "mg/dL", None, "g/dL", "g/dL", "g/dL", "mg/dL"],
        "flag": [None] * 7,
    }))
    return folder


@pytest.mark.parametrize("chunksize", [1_000_000, 2])
def test_patient_table(hosp, chunksize):
    table = mimic_iv_patient_table(
        hosp, lab_itemids=[50912, 51222, 50931], chunksize=chunksize
    )
    assert table["subject_id"].tolist() == [10000001, 10000002, 10000032]
    assert list(table.columns) == [
        "subject_id", "age", "age_at_first_admission", "gender", "n_admissions",
        "icd_breast_cancer", "icd_diabetes", "icd_hypertension",
        "icd_chronic_kidney_disease", "lab_creatinine", "lab_hemoglobin", "lab_glucose",
    ]
    assert table["age"].tolist() == [70.0, 91.0, 52.0]
    assert table["age_at_first_admission"].tolist()[0] == 71.0  # 70 + 2151 - 2150
    assert np.isnan(table["age_at_first_admission"].iloc[1])
    assert table["age_at_first_admission"].iloc[2] == 52.0  # first admission 2180
    assert table["gender"].tolist() == ["M", "F", "F"]
    assert table["n_admissions"].tolist() == [1, 0, 2]
    assert table["icd_breast_cancer"].tolist() == [1, 0, 1]  # ICD-9 1749, ICD-10 C50911
    assert table["icd_diabetes"].tolist() == [1, 0, 0]
    assert table["icd_hypertension"].tolist() == [0, 0, 1]
    assert table["icd_chronic_kidney_disease"].tolist() == [0, 0, 0]
    assert table["lab_creatinine"].tolist()[2] == 1.1
    assert np.isnan(table["lab_creatinine"].iloc[0])
    assert table["lab_hemoglobin"].tolist()[0] == 9.8  # the later one, not the last row
    assert table["lab_hemoglobin"].tolist()[2] == 12.0
    assert table["lab_glucose"].tolist()[0] == 140.0
    assert table["lab_glucose"].isna().tolist() == [False, True, True]


def test_custom_flags(hosp):
    table = mimic_iv_patient_table(
        hosp, icd_flags={"any_c50": {10: "C50"}}, lab_itemids=[50912]
    )
    assert table["icd_any_c50"].tolist() == [0, 0, 1]
    assert [c for c in table.columns if c.startswith(("icd_", "lab_"))] == [
        "icd_any_c50", "lab_creatinine",
    ]


def test_errors(hosp, tmp_path):
    with pytest.raises(ValueError, match="itemids not in d_labitems"):
        mimic_iv_patient_table(hosp, lab_itemids=[50912, 99999])
    (hosp / "labevents.csv.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        mimic_iv_patient_table(hosp)
    assert "labevents.csv.gz" in str(info.value) and "physionet.org" in str(info.value)
    folder = tmp_path / "other"
    folder.mkdir()
    for name in ("patients", "admissions", "diagnoses_icd", "labevents", "d_labitems"):
        _write(folder, f"{name}.csv.gz", pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="MIMIC-IV columns"):
        mimic_iv_patient_table(folder)


@pytest.mark.parametrize(
    "name, damage, match",
    [
        ("patients.csv.gz", lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        ("admissions.csv.gz", truncate_bytes, "EOFError|BadGzipFile"),
        ("diagnoses_icd.csv.gz", lambda p: p.write_bytes(b"subject_id,"),
         "BadGzipFile"),
        ("d_labitems.csv.gz", lambda p: write_text(p, ""), "holds no data"),
        ("patients.csv.gz", lambda p: keep_lines(p, 1),
         "holds 0 patients, expected at least 1"),
    ],
    ids=["empty", "gzip cut", "not gzip", "empty text", "header only"],
)
def test_damaged_tables_are_named(hosp, name, damage, match):
    damage(hosp / name)
    with pytest.raises(DataFileError, match=match) as info:
        mimic_iv_patient_table(hosp)
    message = str(info.value)
    assert f"MIMIC-IV table '{hosp / name}'" in message and "physionet.org" in message


def test_labevents_cut_short_while_read_in_chunks(hosp):
    rng = np.random.default_rng(0)
    n = 20_000
    _write(hosp, "labevents.csv.gz", pd.DataFrame({
        "subject_id": rng.choice([10000032, 10000001], n),
        "itemid": 50912,
        "charttime": "2182-05-06 20:00:00",
        "valuenum": rng.normal(size=n).round(6),
    }))
    truncate_bytes(hosp / "labevents.csv.gz", 0.8)
    with pytest.raises(DataFileError, match="EOFError") as info:
        mimic_iv_patient_table(hosp, lab_itemids=[50912], chunksize=1000)
    assert "labevents.csv.gz" in str(info.value)
