"""Tests of load_metabric (real-data tests need SKMULTIMODAL_DATA)."""
import gzip

import numpy as np
import pandas as pd
import pytest

from skmultimodal.datasets import load_metabric
from skmultimodal.datasets._metabric import CLINICAL_COLUMNS, RECEPTOR_COLUMNS

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
    assert data.shape[1] == 1 + 15 + 489 + 173
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
