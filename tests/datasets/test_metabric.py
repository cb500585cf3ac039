"""Tests of load_metabric (real-data tests need SKMULTIMODAL_DATA)."""
import gzip
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import _metabric, load_metabric
from skmultimodal.datasets._metabric import (
    CLINICAL_COLUMNS,
    FILENAME,
    LABEL,
    LABELS,
    N_CLINICAL,
    N_GENES,
    RECEPTOR_COLUMNS,
    TREATMENT_COLUMNS,
)
from skmultimodal.datasets._verify import DataFileError

from ._damage import contents, cut_mid_line, keep_lines, truncate_bytes, write_text

# Columns that give away the PAM50 label or the outcome.
LEAKING = {
    "pam50_+_claudin-low_subtype",
    "integrative_cluster",
    "3-gene_classifier_subtype",
    "overall_survival",
    "overall_survival_months",
    "death_from_cancer",
    "cohort",
    *RECEPTOR_COLUMNS,
    *TREATMENT_COLUMNS,
}


def test_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_metabric(data_home=tmp_path)
    assert "METABRIC_RNA_Mutation.csv.gz" in str(info.value)
    assert str(tmp_path / "metabric") in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"task": "subtype"}, "task must be one of"),
        ({"modalities": ("clinical", "rna")}, "each modality must be one of"),
        ({"modalities": ()}, "at least one"),
        ({"modalities": ("genes", "genes")}, "repeat"),
        ({"modalities": 3}, "sequence of names"),
        ({"include_receptor_status": "yes"}, "include_receptor_status"),
        ({"include_treatment": 1}, "include_treatment must be a bool"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_metabric(data_home=tmp_path, **kwargs)


def test_bad_layout_is_reported(tmp_path):
    folder = tmp_path / "metabric"
    folder.mkdir()
    with gzip.open(folder / "METABRIC_RNA_Mutation.csv.gz", "wt") as f:
        f.write("patient_id,age\n1,50\n")
    with pytest.raises(ValueError, match="expected layout"):
        load_metabric(data_home=tmp_path)


@pytest.fixture(scope="module")
def full(data_home):
    return load_metabric(
        data_home=data_home, modalities=("clinical", "genes", "mutations")
    )


@pytest.fixture(scope="module")
def raw(data_home):
    return pd.read_csv(
        data_home / "metabric" / "METABRIC_RNA_Mutation.csv.gz", low_memory=False
    )


@pytest.mark.real_data
def test_luminal_vs_basal_her2(full):
    data, target = full.data, full.target
    assert data.shape[0] == len(target) == 1559
    assert np.bincount(target).tolist() == [1140, 419]
    assert list(full.target_names) == ["Luminal", "Basal/Her2"]
    assert data.columns[0] == "patient_id"
    assert list(full.feature_groups) == ["clinical", "genes", "mutations"]
    assert data.shape[1] == 1 + 13 + 489 + 173
    assert np.array_equal(full.groups, data["patient_id"].to_numpy())
    assert len(np.unique(full.groups)) == 1559
    assert full.frame["target"].tolist() == target.tolist()
    for text in ("ODbL", "Curtis C", "Pereira B", "cBioPortal"):
        assert text in full.DESCR


@pytest.mark.real_data
def test_target_matches_label(full, raw):
    label = raw.set_index("patient_id").loc[full.groups, "pam50_+_claudin-low_subtype"]
    expected = label.isin(["Basal", "Her2"]).to_numpy().astype(int)
    assert np.array_equal(full.target, expected)
    assert set(label) == {"LumA", "LumB", "Basal", "Her2"}


@pytest.mark.real_data
def test_genes(full):
    genes = full.feature_groups["genes"]
    assert len(genes) == 489 and genes[0] == "brca1" and genes[-1] == "ugt2b7"
    assert (full.data[genes].dtypes == np.float64).all()
    # z-scores: roughly centred over the cohort
    assert abs(float(full.data[genes].mean().mean())) < 0.2


@pytest.mark.real_data
def test_clinical_has_no_leaking_column(full, raw):
    clinical = full.feature_groups["clinical"]
    assert clinical == list(CLINICAL_COLUMNS)
    assert not LEAKING & set(full.data.columns)
    # kept as published: NaNs and string categories
    assert full.data["tumor_stage"].isna().any()
    assert not pd.api.types.is_numeric_dtype(full.data["cellularity"])
    assert set(full.data["cellularity"].dropna()) == {"High", "Moderate", "Low"}
    row = raw.set_index("patient_id").loc[full.groups[:50], clinical]
    pd.testing.assert_frame_equal(
        full.data[clinical].iloc[:50].reset_index(drop=True),
        row.reset_index(drop=True),
    )


@pytest.mark.real_data
def test_mutations_are_binary(full, raw):
    mutations = full.feature_groups["mutations"]
    assert len(mutations) == 173 and all(c.endswith("_mut") for c in mutations)
    values = full.data[mutations]
    assert set(np.unique(values.to_numpy())) == {0, 1}
    source = raw.set_index("patient_id").loc[full.groups]
    pik3ca = source["pik3ca_mut"].to_numpy()
    assert np.array_equal(values["pik3ca_mut"].to_numpy(), (pik3ca != "0").astype(int))
    # the 4 numeric columns: NA means mutated, 0 means not
    hras = source["hras_mut"]
    assert np.array_equal(
        values["hras_mut"].to_numpy(), hras.isna().to_numpy().astype(int)
    )


@pytest.mark.real_data
def test_receptor_status_on_request_warns(data_home):
    with pytest.warns(UserWarning, match="strongly tied to the PAM50"):
        bunch = load_metabric(
            data_home=data_home, modalities="clinical", include_receptor_status=True
        )
    assert bunch.feature_groups["clinical"] == [*CLINICAL_COLUMNS, *RECEPTOR_COLUMNS]
    assert list(bunch.feature_groups) == ["clinical"]


@pytest.mark.real_data
def test_pam50_task_and_return_x_y(data_home):
    X, y = load_metabric(
        data_home=data_home, task="pam50", modalities=["genes"], return_X_y=True
    )
    assert X.shape == (1898, 1 + 489)
    assert list(X.columns[:2]) == ["patient_id", "brca1"]
    counts = pd.Series(y).value_counts().to_dict()
    assert counts == {
        "LumA": 679, "LumB": 461, "Her2": 220,
        "claudin-low": 199, "Basal": 199, "Normal": 140,
    }
    assert "NC" not in counts


@pytest.mark.real_data
def test_treatment_on_request_warns(data_home):
    with pytest.warns(UserWarning, match="proxies of the PAM50"):
        bunch = load_metabric(
            data_home=data_home, modalities="clinical", include_treatment=True
        )
    assert bunch.feature_groups["clinical"] == [*CLINICAL_COLUMNS, *TREATMENT_COLUMNS]
    assert set(bunch.data["hormone_therapy"].unique()) == {0, 1}


# --------------------------------------------------------------------------
# damaged files: a small table in the layout of the real one


N_ROWS = 8


def _small_table():
    """N_ROWS patients in the column layout of METABRIC_RNA_Mutation."""
    rng = np.random.default_rng(0)
    required = ["patient_id", LABEL, *CLINICAL_COLUMNS, *TREATMENT_COLUMNS,
                *RECEPTOR_COLUMNS]
    others = [f"other_{i}" for i in range(N_CLINICAL - len(required))]
    table = {name: ["x"] * N_ROWS for name in required[2:] + others}
    table["patient_id"] = np.arange(N_ROWS)
    table[LABEL] = [LABELS[i % len(LABELS)] for i in range(N_ROWS)]
    for i in range(N_GENES):
        table[f"gene{i}"] = rng.normal(size=N_ROWS).round(3)
    table["tp53_mut"] = ["0", "R175H"] * (N_ROWS // 2)
    order = ["patient_id", LABEL, *required[2:], *others]
    return pd.DataFrame(table)[order + [f"gene{i}" for i in range(N_GENES)]
                               + ["tp53_mut"]]


@pytest.fixture
def small(tmp_path, monkeypatch):
    """A valid small copy (the loader is told to expect N_ROWS patients)."""
    monkeypatch.setattr(_metabric, "N_PATIENTS", N_ROWS)
    folder = tmp_path / "metabric"
    folder.mkdir()
    _small_table().to_csv(folder / FILENAME, index=False)
    return folder / FILENAME


def _refused(home, *, match):
    """The DataFileError of load_metabric; it names the file and the source."""
    with pytest.raises(DataFileError, match=match) as info:
        load_metabric(data_home=home)
    message = str(info.value)
    assert str(home / "metabric" / FILENAME) in message
    assert "kaggle.com" in message and "Replace it" in message
    return message


def test_small_copy_loads(small, tmp_path):
    bunch = load_metabric(data_home=tmp_path, task="pam50",
                          modalities=("clinical", "genes", "mutations"))
    assert len(bunch.target) == 7  # the NC row is dropped
    assert bunch.feature_groups["mutations"] == ["tp53_mut"]


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: cut_mid_line(p, 5), r"line 5 has \d+ of the 521 fields"),
        (lambda p: cut_mid_line(p, N_ROWS + 1, keep=0.999),
         "last line .* ends without a line break"),
        (lambda p: keep_lines(p, 1), "holds 0 rows, expected at least 8"),
        (lambda p: keep_lines(p, 5), "holds 4 rows, expected at least 8"),
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: write_text(p, ""), "holds no data"),
        (lambda p: truncate_bytes(p), "Compressed file ended"),
        (lambda p: p.write_bytes(b"PK\x03\x04 not gzip"), "BadGzipFile"),
        (lambda p: write_text(p, contents(p) + "1,2,3\n"), "line 10 has 3 of"),
    ],
    ids=["cut mid-row", "last field cut", "header only", "rows lost", "0 bytes",
         "empty text", "gzip cut", "not gzip", "extra row"],
)
def test_damaged_file_is_refused(small, tmp_path, damage, match):
    damage(small)
    _refused(tmp_path, match=match)


def test_bad_values_are_refused(small, tmp_path):
    table = pd.read_csv(small).astype({"gene7": object, "patient_id": object})
    table.loc[3, "gene7"] = "1.2.3"
    table.to_csv(small, index=False)
    message = _refused(tmp_path, match="not finite numbers among its gene z-scores")
    assert "'gene7'='1.2.3'" in message
    table.loc[3, "gene7"] = 0.5
    table.loc[2, LABEL] = "LumC"
    table.to_csv(small, index=False)
    _refused(tmp_path, match="unexpected subtypes .*'LumC'")
    table.loc[2, LABEL] = "LumA"
    table.loc[1, "patient_id"] = 1.5
    table.to_csv(small, index=False)
    _refused(tmp_path, match="not whole numbers among its patient ids")


@pytest.mark.real_data
def test_real_file_is_known(data_home):
    source = _metabric._DataFile(
        data_home / "metabric" / FILENAME, "METABRIC file", sha256=_metabric.SHA256
    )
    assert source.is_known()


@pytest.mark.real_data
def test_real_copy_of_other_checksum_passes_the_checks(data_home, tmp_path, full):
    """Another valid copy (here re-compressed) loads the same, checked by structure."""
    (tmp_path / "metabric").mkdir()
    copy = tmp_path / "metabric" / FILENAME
    original = contents(data_home / "metabric" / FILENAME)
    copy.write_bytes(gzip.compress(original.encode(), mtime=0))
    bunch = load_metabric(
        data_home=tmp_path, modalities=("clinical", "genes", "mutations")
    )
    pd.testing.assert_frame_equal(bunch.data, full.data)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: cut_mid_line(p, 484, keep=0.1),
         r"looks truncated or damaged: line 484 has \d+ of the 693 fields of its "
         r"first line \(expected 1,904 rows\)"),
        (lambda p: keep_lines(p, 1), "holds 0 rows, expected at least 1,904"),
        (lambda p: keep_lines(p, 483), "holds 482 rows, expected at least 1,904"),
    ],
    ids=["cut mid-row", "header only", "cut between rows"],
)
def test_real_file_damaged(data_home, tmp_path, damage, match):
    (tmp_path / "metabric").mkdir()
    copy = tmp_path / "metabric" / FILENAME
    shutil.copyfile(data_home / "metabric" / FILENAME, copy)
    damage(copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _refused(tmp_path, match=match)
