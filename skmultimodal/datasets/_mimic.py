"""Example recipe: one row per patient from the MIMIC-IV ``hosp`` module.

MIMIC-IV is not a breast-cancer data set and needs credentialed access
(PhysioNet); this recipe shows how to turn a relational EHR export into the
one-row-per-patient table the estimators take, so that users with access can
rerun the EHR part of the studies. Nothing here is downloaded.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import _check_int, _require_files
from ._verify import _DataFile

FILES = (
    "patients.csv.gz",
    "admissions.csv.gz",
    "diagnoses_icd.csv.gz",
    "labevents.csv.gz",
    "d_labitems.csv.gz",
)
HOW_TO_GET = (
    "MIMIC-IV needs credentialed access: https://physionet.org/content/mimiciv/ "
    "(hosp module)."
)

# Flag name -> {ICD version: code prefixes}; MIMIC stores codes without dots.
ICD_FLAGS = {
    "breast_cancer": {9: ("174", "175"), 10: ("C50",)},
    "diabetes": {9: ("250",), 10: ("E10", "E11", "E13")},
    "hypertension": {9: ("401",), 10: ("I10",)},
    "chronic_kidney_disease": {9: ("585",), 10: ("N18",)},
}
# Common blood labs (MIMIC-IV itemids); column names come from d_labitems.
LAB_ITEMIDS = (
    50912,  # Creatinine
    50931,  # Glucose
    50971,  # Potassium
    50983,  # Sodium
    51222,  # Hemoglobin
    51265,  # Platelet Count
    51301,  # White Blood Cells
)


def _source(path):
    return _DataFile(path, "MIMIC-IV table", HOW_TO_GET)


def _read(path, columns, **kwargs):
    """Read ``columns`` of a table, checking first that the header has them.

    A damaged file (empty, truncated gzip stream, ...) raises a
    ``DataFileError`` naming it; with ``chunksize`` the chunks are read lazily,
    so the caller iterates them inside ``_source(path).reading()``.
    """
    source = _source(path)
    with source.reading():
        header = pd.read_csv(path, nrows=0).columns
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(
            f"{Path(path).name} does not have the MIMIC-IV columns {missing}"
        )
    with source.reading():
        return pd.read_csv(path, usecols=list(columns), **kwargs)


def _slug(label):
    return re.sub(r"[^0-9a-z]+", "_", str(label).lower()).strip("_")


def _lab_names(path, itemids):
    """itemid -> column name ``lab_<label>`` from d_labitems."""
    items = _read(path, ["itemid", "label"]).drop_duplicates("itemid")
    items = items.set_index("itemid")["label"]
    missing = [i for i in itemids if i not in items.index]
    if missing:
        raise ValueError(f"itemids not in d_labitems: {missing}")
    names = {i: f"lab_{_slug(items[i])}" for i in itemids}
    if len(set(names.values())) != len(names):
        names = {i: f"{name}_{i}" for i, name in names.items()}
    return names


def _last_lab_values(path, itemids, chunksize):
    """Last non-missing valuenum (by charttime) per (subject_id, itemid)."""
    columns = ["subject_id", "itemid", "charttime", "valuenum"]
    last = []
    with _source(path).reading():
        for chunk in _read(path, columns, chunksize=chunksize):
            chunk = chunk[chunk["itemid"].isin(itemids) & chunk["valuenum"].notna()]
            chunk = chunk.assign(charttime=pd.to_datetime(chunk["charttime"]))
            last.append(chunk)
            if len(last) > 1:  # keep memory bounded by the number of patients
                last = [_keep_last(pd.concat(last, ignore_index=True))]
    if not last:
        return pd.DataFrame(columns=columns)
    return _keep_last(pd.concat(last, ignore_index=True))


def _keep_last(events):
    events = events.sort_values(["subject_id", "itemid", "charttime"], kind="stable")
    return events.drop_duplicates(["subject_id", "itemid"], keep="last")


def mimic_iv_patient_table(
    hosp_dir, *, icd_flags=None, lab_itemids=LAB_ITEMIDS, chunksize=1_000_000
):
    """One row per patient from MIMIC-IV ``hosp`` tables (example recipe).

    Parameters
    ----------
    hosp_dir : str or path-like
        The ``hosp`` folder of MIMIC-IV (v2 or later) holding
        patients.csv.gz, admissions.csv.gz, diagnoses_icd.csv.gz,
        labevents.csv.gz and d_labitems.csv.gz.
    icd_flags : dict, default=None
        Flag name -> ``{icd_version: code prefixes}``; a patient's flag is 1
        if any of their diagnoses (any admission) starts with one of the
        prefixes of its version. None uses ``ICD_FLAGS``: breast_cancer
        (ICD-9 174/175, ICD-10 C50), diabetes, hypertension and
        chronic_kidney_disease.
    lab_itemids : sequence of int, default=LAB_ITEMIDS
        Lab items (``itemid`` of d_labitems) whose last value is reported:
        creatinine, glucose, potassium, sodium, hemoglobin, platelet count and
        white blood cells by default.
    chunksize : int, default=1_000_000
        Rows of labevents read at a time (the full table has over 100 million
        rows).

    Returns
    -------
    table : DataFrame
        One row per patient of patients.csv.gz, sorted by ``subject_id``:
        ``subject_id``; ``age`` (``anchor_age``, the age in the patient's
        anchor year; ages over 89 are grouped by MIMIC); ``age_at_first_admission``
        (NaN without admission); ``gender``; ``n_admissions``; one int 0/1
        column ``icd_<flag>`` per flag; one float column ``lab_<label>`` per
        lab item (the last value by ``charttime`` over all admissions, NaN if
        never measured).

    Raises
    ------
    FileNotFoundError
        If a table is missing.
    ValueError
        If a table lacks a MIMIC-IV column or an itemid is unknown, or a table
        is damaged (a ``DataFileError``, whose message names the file and
        where to obtain MIMIC-IV again): empty, a truncated or corrupt gzip
        stream, a malformed row, or a patients table without rows.

    Notes
    -----
    Beware of leakage when building a prediction task from this table: the
    last lab values and the diagnosis flags are taken over the whole record,
    including after any prediction time. Restrict the tables to events before
    the prediction time first (e.g. by ``admittime`` / ``charttime``).
    """
    icd_flags = ICD_FLAGS if icd_flags is None else icd_flags
    lab_itemids = [int(i) for i in lab_itemids]
    chunksize = _check_int(chunksize, "chunksize", min_value=1)
    paths = _require_files(
        hosp_dir, FILES, "MIMIC-IV hosp", how_to_get=HOW_TO_GET, from_data_home=False
    )
    patients_path, admissions_path, diagnoses_path, labs_path, items_path = paths

    patients = _read(
        patients_path, ["subject_id", "gender", "anchor_age", "anchor_year"]
    )
    _source(patients_path).check_count(len(patients), 1, unit="patients")
    table = patients.sort_values("subject_id").reset_index(drop=True)
    subjects = table["subject_id"]

    admissions = _read(admissions_path, ["subject_id", "hadm_id", "admittime"])
    per_patient = admissions.groupby("subject_id")
    n_admissions = per_patient["hadm_id"].nunique()
    first_year = pd.to_datetime(per_patient["admittime"].min()).dt.year
    out = pd.DataFrame({"subject_id": subjects})
    out["age"] = table["anchor_age"].astype(np.float64)
    out["age_at_first_admission"] = (
        table["anchor_age"] + subjects.map(first_year) - table["anchor_year"]
    ).astype(np.float64)
    out["gender"] = table["gender"]
    out["n_admissions"] = subjects.map(n_admissions).fillna(0).astype(np.int64)

    diagnoses = _read(
        diagnoses_path,
        ["subject_id", "icd_code", "icd_version"],
        dtype={"icd_code": str},
    )
    codes = diagnoses["icd_code"].astype(str).str.strip().str.upper()
    versions = diagnoses["icd_version"].to_numpy()
    for flag, by_version in icd_flags.items():
        hit = np.zeros(len(diagnoses), dtype=bool)
        for version, prefixes in by_version.items():
            prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
            starts = codes.str.startswith(tuple(p.upper() for p in prefixes))
            hit |= (versions == int(version)) & starts.to_numpy()
        flagged = set(diagnoses.loc[hit, "subject_id"])
        out[f"icd_{flag}"] = subjects.isin(flagged).astype(np.int64)

    names = _lab_names(items_path, lab_itemids)
    last = _last_lab_values(labs_path, lab_itemids, chunksize)
    wide = last.pivot(index="subject_id", columns="itemid", values="valuenum")
    for itemid, name in names.items():
        values = wide[itemid] if itemid in wide.columns else pd.Series(dtype=np.float64)
        out[name] = subjects.map(values).astype(np.float64)
    return out
