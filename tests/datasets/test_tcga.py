"""Tests of load_tcga_brca_pam50 and read_tcga_brca.

Real-data tests need SKMULTIMODAL_DATA.
"""
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.datasets import load_tcga_brca_pam50, read_tcga_brca
from skmultimodal.datasets._tcga import (
    CLINICAL_COLUMNS,
    CLINICAL_FILE,
    CLINICAL_SHA256,
    EXPRESSION_FILE,
    EXPRESSION_SHA256,
    PAM50_GENES,
    _realign_barcodes,
)
from skmultimodal.datasets._verify import DataFileError, _DataFile

from ._damage import cut_mid_line, keep_lines, truncate_bytes

# The loader wants the 49 PAM50 genes of the file; the tests check the first 3.
GENES = ["NAT1", "ESR1", "ERBB2"]
GENES += [g for g in PAM50_GENES if g not in GENES]
# Sample -> (clinical ER IHC status, PAM50 call); S2 and S6 have no ER status.
SAMPLES = {
    "S0": ("Positive", "LumA"),
    "S1": ("Negative", "Basal"),
    "S2": (None, "LumA"),
    "S3": ("Positive", "LumB"),
    "S4": ("Negative", "Her2"),
    "S5": ("Positive", "Normal"),
    "S6": (None, None),
}


def _barcode(sample, aliquot=True):
    patient = f"TCGA-A{sample[1]}-000{sample[1]}"
    return f"{patient}-01A-11R-A115-07" if aliquot else f"{patient}-01"


def _clinical(extra=()):
    rows = [(_barcode(s, aliquot=False), er, call) for s, (er, call) in SAMPLES.items()]
    rows += list(extra)
    n = len(rows)
    return pd.DataFrame(
        {
            "sampleID": [r[0] for r in rows],
            "ER_Status_nature2012": [r[1] for r in rows],
            "PAM50Call_RNAseq": [r[2] for r in rows],
            "PAM50_mRNA_nature2012": [r[2] for r in rows],
            "age_at_initial_pathologic_diagnosis": np.arange(40, 40 + n, dtype=float),
            "breast_carcinoma_estrogen_receptor_status": [r[1] for r in rows],
            "breast_carcinoma_progesterone_receptor_status": ["Positive"] * n,
            "lab_proc_her2_neu_immunohistochemistry_receptor_status": ["Negative"] * n,
            "histological_type": ["Infiltrating Ductal Carcinoma"] * n,
            "pathologic_stage": ["Stage IIA"] * (n - 1) + ["[Discrepancy]"],
            "pathologic_T": ["T2"] * n,
            "pathologic_N": ["N0"] * n,
            "pathologic_M": ["M0"] * n,
            "menopause_status": [None] * n,
            "OS_Time_nature2012": [100] * n,
        }
    )


def _write_er_file(path, header, classes, values):
    """The exercise file: row 1 barcodes, row 2 class, then one row per gene."""
    lines = ["\t".join(["id", *header]), "\t".join(["class-ERstatus", *classes])]
    for gene_index, gene in enumerate(GENES):
        lines.append("\t".join([gene, *(f"{v + gene_index / 10:g}" for v in values)]))
    path.write_text("\n".join(lines) + "\n")


def _write_pam50_folder(home, aligned=False):
    """Files with the defect of the real one (or aligned ones).

    Gene NAT1 holds the sample's number (S4 -> 4.0); the two columns of
    unknown barcode hold -1 and -2.
    """
    folder = home / "tcga_brca_pam50genes"
    folder.mkdir(parents=True)
    _clinical().to_csv(folder / CLINICAL_FILE, sep="\t", index=False)
    if aligned:
        order = ["S1", "S4", "S0", "S3", "S5"]
        header = [_barcode(s) for s in order]
        classes = ["Negative", "Negative", "Positive", "Positive", "Positive"]
        values = [int(s[1]) for s in order]
    else:
        header = [_barcode(s) for s in SAMPLES]  # original order, S2/S6 included
        # columns sorted by class:
        # unknown negative, S1, S4, unknown positive, S0, S3, S5
        classes = ["Negative"] * 3 + ["Positive"] * 4
        values = [-1, 1, 4, -2, 0, 3, 5]
    _write_er_file(folder / EXPRESSION_FILE, header, classes, values)
    return folder


@pytest.mark.parametrize("aligned", [False, True])
def test_pam50_task_restores_the_pairing(tmp_path, aligned):
    _write_pam50_folder(tmp_path, aligned=aligned)
    bunch = load_tcga_brca_pam50(data_home=tmp_path)
    data = bunch.data
    assert list(data.columns) == ["patient_id", *GENES, *CLINICAL_COLUMNS]
    assert data["NAT1"].tolist() == [1.0, 4.0, 0.0, 3.0, 5.0]
    assert data["ESR1"].tolist() == pytest.approx([1.1, 4.1, 0.1, 3.1, 5.1])
    assert bunch.target.tolist() == ["Basal", "Her2", "LumA", "LumB", "Normal"]
    assert data["patient_id"].tolist() == [f"TCGA-A{i}-000{i}" for i in (1, 4, 0, 3, 5)]
    assert np.array_equal(bunch.groups, data["patient_id"].to_numpy())
    assert bunch.sample_ids.tolist() == [
        f"TCGA-A{i}-000{i}-01" for i in (1, 4, 0, 3, 5)
    ]
    ages = data["age_at_initial_pathologic_diagnosis"].tolist()
    assert ages == [41.0, 44.0, 40.0, 43.0, 45.0]
    assert bunch.feature_groups == {"genes": GENES, "clinical": list(CLINICAL_COLUMNS)}
    assert list(bunch.target_names) == ["LumA", "LumB", "Basal", "Her2", "Normal"]
    assert bunch.frame["target"].tolist() == bunch.target.tolist()


def test_other_tasks(tmp_path):
    _write_pam50_folder(tmp_path)
    binary = load_tcga_brca_pam50(data_home=tmp_path, task="luminal_vs_basal_her2")
    assert binary.data["NAT1"].tolist() == [1.0, 4.0, 0.0, 3.0]
    assert binary.target.tolist() == [1, 1, 0, 0]
    assert list(binary.target_names) == ["Luminal", "Basal/Her2"]
    X, y = load_tcga_brca_pam50(data_home=tmp_path, task="er_status", return_X_y=True)
    assert X["NAT1"].tolist() == [1.0, 4.0, 0.0, 3.0, 5.0]
    assert y.tolist() == [0, 0, 1, 1, 1]


def test_realign_rules():
    header = np.array(["a", "b", "c", "d"], dtype=object)
    ihc = np.array(["Positive", None, "Negative", "Positive"], dtype=object)
    # aligned: returned as is
    classes = np.array(["Positive", "Negative", "Negative", "Positive"])
    assert _realign_barcodes(header, classes, ihc).tolist() == ["a", "b", "c", "d"]
    # sorted by class under the original header: one unknown negative column
    classes = np.array(["Negative", "Negative", "Positive", "Positive"])
    assert _realign_barcodes(header, classes, ihc).tolist() == [None, "c", "a", "d"]
    with pytest.raises(ValueError, match="cannot be repaired"):
        unsorted = np.array(["Positive", "Negative", "Positive", "Negative"])
        _realign_barcodes(header, unsorted, ihc)


def test_missing_files_say_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_tcga_brca_pam50(data_home=tmp_path)
    message = str(info.value)
    assert EXPRESSION_FILE in message and CLINICAL_FILE in message
    assert str(tmp_path / "tcga_brca_pam50genes") in message
    assert "xenabrowser.net" in message and "cBioPortal" in message


def test_invalid_task_and_layouts(tmp_path):
    with pytest.raises(ValueError, match="task must be one of"):
        load_tcga_brca_pam50(data_home=tmp_path, task="subtype")
    folder = _write_pam50_folder(tmp_path)
    (folder / EXPRESSION_FILE).write_text("id\tTCGA-A1-0001-01A\nNAT1\t3\n")
    with pytest.raises(ValueError, match="expected layout"):
        load_tcga_brca_pam50(data_home=tmp_path)
    _write_pam50_folder(tmp_path / "b")
    pd.DataFrame({"sample": ["x"]}).to_csv(
        tmp_path / "b" / "tcga_brca_pam50genes" / CLINICAL_FILE, sep="\t", index=False
    )
    with pytest.raises(ValueError, match="sampleID"):
        load_tcga_brca_pam50(data_home=tmp_path / "b")


# --------------------------------------------------------------------------
# read_tcga_brca: files in the Xena layout


def _write_xena(tmp_path, gz=False):
    samples = [_barcode(s, aliquot=False) for s in ("S0", "S1", "S3", "S4", "S6")]
    samples += ["TCGA-A1-0001-11", "TCGA-A9-0009-01"]  # a normal of S1; unlabelled
    genes = ["GENE_A", "ESR1", "GENE_B"]
    values = np.arange(len(genes) * len(samples), dtype=float).reshape(len(genes), -1)
    expression = pd.DataFrame(
        values, index=pd.Index(genes, name="sample"), columns=samples
    )
    path = tmp_path / ("HiSeqV2.gz" if gz else "HiSeqV2")
    if gz:
        with gzip.open(path, "wt") as f:
            expression.to_csv(f, sep="\t")
    else:
        expression.to_csv(path, sep="\t")
    clinical = _clinical(extra=[("TCGA-A1-0001-11", None, "Normal")])
    clinical.to_csv(tmp_path / "BRCA_clinicalMatrix", sep="\t", index=False)
    return path, tmp_path / "BRCA_clinicalMatrix", expression


@pytest.mark.parametrize("gz", [False, True])
def test_read_tcga_brca_tables(tmp_path, gz):
    expression_path, clinical_path, expression = _write_xena(tmp_path, gz=gz)
    bunch = read_tcga_brca(expression_path, clinical_path)
    data = bunch.data
    # primary tumours with a call: S0, S1, S3, S4 (the normal sample is left out)
    assert data["patient_id"].tolist() == [
        "TCGA-A0-0000", "TCGA-A1-0001", "TCGA-A3-0003", "TCGA-A4-0004",
    ]
    assert bunch.target.tolist() == ["LumA", "Basal", "LumB", "Her2"]
    assert list(data.columns[:4]) == ["patient_id", "GENE_A", "ESR1", "GENE_B"]
    assert data["ESR1"].tolist() == expression.loc["ESR1"].iloc[:4].tolist()
    assert "breast_carcinoma_estrogen_receptor_status" not in data.columns
    assert "PAM50_mRNA_nature2012" not in data.columns
    assert bunch.feature_groups["genes"] == ["GENE_A", "ESR1", "GENE_B"]
    with_normals = read_tcga_brca(
        expression_path, clinical_path, sample_types=("01", "11"), task="pam50"
    )
    assert with_normals.target.tolist()[-1] == "Normal"
    assert with_normals.sample_ids.tolist()[-1] == "TCGA-A1-0001-11"
    X, y = read_tcga_brca(
        expression_path, clinical_path, task="luminal_vs_basal_her2", genes=["ESR1"],
        return_X_y=True,
    )
    assert list(X.columns[:2]) == ["patient_id", "ESR1"] and y.tolist() == [0, 1, 0, 1]


def _write_tiles(tmp_path):
    tiles = tmp_path / "tiles"
    for patient, names in {
        "TCGA-A1-0001": ["t2.png", "t1.jpg", "notes.txt"],
        "TCGA-A3-0003": ["a.TIF"],
        "TCGA-A4-0004": ["readme.md"],  # a folder without tiles
        "TCGA-Z9-9999": ["x.png"],  # not in the table
    }.items():
        (tiles / patient).mkdir(parents=True)
        for name in names:
            (tiles / patient / name).write_bytes(b"img")
    return tiles


def test_read_tcga_brca_tiles(tmp_path):
    expression_path, clinical_path, _ = _write_xena(tmp_path)
    tiles = _write_tiles(tmp_path)
    bunch = read_tcga_brca(expression_path, clinical_path, tiles)
    assert bunch.data.equals(
        read_tcga_brca(expression_path, clinical_path, tiles, tiles="rows").data
    )
    data = bunch.data
    assert list(data.columns[:3]) == ["patient_id", "image_path", "GENE_A"]
    names = [p.split("/")[-1] for p in data["image_path"]]
    assert names == ["t1.jpg", "t2.png", "a.TIF"]
    assert bunch.groups.tolist() == ["TCGA-A1-0001", "TCGA-A1-0001", "TCGA-A3-0003"]
    assert bunch.target.tolist() == ["Basal", "Basal", "LumB"]
    # the patient's genes on each tile
    assert data.loc[0, "ESR1"] == data.loc[1, "ESR1"]
    assert bunch.patients_without_tiles == ["TCGA-A0-0000", "TCGA-A4-0004"]
    assert list(bunch.feature_groups) == ["image", "genes", "clinical"]


def test_read_tcga_brca_tile_bags(tmp_path):
    expression_path, clinical_path, _ = _write_xena(tmp_path)
    tiles = _write_tiles(tmp_path)
    bunch = read_tcga_brca(expression_path, clinical_path, tiles, tiles="bag")
    table = read_tcga_brca(expression_path, clinical_path)
    data = bunch.data
    # one row per patient, as without tiles, the bag of tile paths second
    assert list(data.columns) == ["patient_id", "tiles", *table.data.columns[1:]]
    pd.testing.assert_frame_equal(data.drop(columns="tiles"), table.data)
    assert data["tiles"].dtype == object
    bags = data["tiles"].tolist()
    assert bags[0] is None and bags[3] is None  # patients without tiles
    assert [p.split("/")[-1] for p in bags[1]] == ["t1.jpg", "t2.png"]
    assert [p.split("/")[-1] for p in bags[2]] == ["a.TIF"]
    assert all(isinstance(p, str) and Path(p).is_absolute() for p in bags[1])
    assert bunch.target.tolist() == table.target.tolist()
    assert bunch.groups.tolist() == data["patient_id"].tolist()
    assert bunch.sample_ids.tolist() == table.sample_ids.tolist()
    assert bunch.patients_without_tiles == ["TCGA-A0-0000", "TCGA-A4-0004"]
    assert bunch.feature_groups["image"] == ["tiles"]
    assert list(bunch.feature_groups) == ["image", "genes", "clinical"]
    assert bunch.frame["target"].tolist() == bunch.target.tolist()
    X, y = read_tcga_brca(
        expression_path, clinical_path, tiles, tiles="bag", return_X_y=True,
        task="luminal_vs_basal_her2",
    )
    assert X["tiles"].isna().tolist() == [True, False, False, True]
    assert y.tolist() == [0, 1, 0, 1]


def test_read_tcga_brca_errors(tmp_path):
    expression_path, clinical_path, _ = _write_xena(tmp_path)
    with pytest.raises(ValueError, match="genes not in"):
        read_tcga_brca(expression_path, clinical_path, genes=["ESR1", "NOPE"])
    with pytest.raises(ValueError, match="task must be one of"):
        read_tcga_brca(expression_path, clinical_path, task="er_status")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        read_tcga_brca(expression_path, clinical_path, tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No tile found"):
        read_tcga_brca(expression_path, clinical_path, tmp_path / "empty")
    with pytest.raises(ValueError, match="No tile found"):
        read_tcga_brca(expression_path, clinical_path, tmp_path / "empty", tiles="bag")
    with pytest.raises(ValueError, match="tiles must be one of 'rows', 'bag'"):
        read_tcga_brca(expression_path, clinical_path, tmp_path / "empty", tiles="bags")
    with pytest.raises(ValueError, match="give tiles_dir"):
        read_tcga_brca(expression_path, clinical_path, tiles="bag")
    with pytest.raises(FileNotFoundError, match="nothere.tsv"):
        read_tcga_brca(tmp_path / "nothere.tsv", clinical_path)
    bad = tmp_path / "bad.tsv"
    bad_table = pd.DataFrame({"sample": ["ESR1"], "patient7": [1.0]})
    bad_table.to_csv(bad, sep="\t", index=False)
    with pytest.raises(ValueError, match="TCGA barcodes"):
        read_tcga_brca(bad, clinical_path)
    with pytest.raises(ValueError, match="has a PAM50 call"):
        read_tcga_brca(expression_path, clinical_path, sample_types=("06",))


# --------------------------------------------------------------------------
# real data


@pytest.fixture(scope="module")
def pam50(data_home):
    return load_tcga_brca_pam50(data_home=data_home)


@pytest.mark.real_data
def test_real_pam50(pam50):
    data = pam50.data
    assert data.shape == (759, 1 + 49 + 7)
    counts = pd.Series(pam50.target).value_counts().to_dict()
    assert counts == {"LumA": 385, "LumB": 172, "Basal": 127, "Her2": 60, "Normal": 15}
    assert (data["patient_id"].str.len() == 12).all()
    assert len(set(pam50.groups)) == 759
    genes = pam50.feature_groups["genes"]
    assert len(genes) == 49 and "ESR1" in genes and "ORC6" not in genes
    assert (data[genes].dtypes == np.float64).all()
    assert pam50.feature_groups["clinical"] == list(CLINICAL_COLUMNS)
    keys = ("estrogen", "progesterone", "her2", "nature2012", "PAM50")
    leaking = [c for c in data.columns if any(k in c for k in keys)]
    assert leaking == []
    for text in ("Barcode repair", "Xena", "Nature 490:61-70"):
        assert text in pam50.DESCR


@pytest.mark.real_data
@pytest.mark.parametrize(
    "task, counts", [("luminal_vs_basal_her2", [557, 187]), ("er_status", [226, 765])]
)
def test_real_binary_tasks(data_home, task, counts):
    X, y = load_tcga_brca_pam50(data_home=data_home, task=task, return_X_y=True)
    assert np.bincount(y).tolist() == counts and len(X) == sum(counts)


@pytest.mark.real_data
def test_real_source_counts(data_home):
    """The counts of SOURCE.txt, and those of the join as the header reads."""
    folder = data_home / "tcga_brca_pam50genes"
    raw = pd.read_csv(folder / EXPRESSION_FILE, sep="\t", header=None, index_col=0)
    assert raw.shape == (2 + 49, 1036)
    er_counts = raw.loc["class-ERstatus"].value_counts().to_dict()
    assert er_counts == {"Positive": 801, "Negative": 235}
    clinical = pd.read_csv(folder / CLINICAL_FILE, sep="\t", low_memory=False)
    assert clinical.shape == (1247, 194)
    assert clinical["PAM50Call_RNAseq"].value_counts(dropna=False).to_dict() == {
        "LumA": 434, "LumB": 194, "Basal": 142, "Normal": 119, "Her2": 67, np.nan: 291,
    }
    calls = clinical.set_index("sampleID")["PAM50Call_RNAseq"]
    naive = calls.reindex(raw.loc["id"].str[:15])
    assert naive.value_counts(dropna=False).to_dict() == {
        "LumA": 404, "LumB": 180, "Basal": 131, "Her2": 64, "Normal": 16, np.nan: 241,
    }


@pytest.mark.real_data
def test_real_repair_matches_the_luminal_basal_file(data_home):
    """The LumA-vs-Basal file of the same origin has correct barcodes."""
    bunch = load_tcga_brca_pam50(data_home=data_home, task="er_status")
    folder = data_home / "tcga_brca_pam50genes"
    raw = pd.read_csv(
        folder / "TCGA_breast_cancer_LumA_vs_Basal_PAM50.tsv",
        sep="\t", header=None, index_col=0,
    )
    other = raw.iloc[2:].T.astype(float)
    other.index = raw.loc["sample_id"].str[:15].to_numpy()
    genes = bunch.feature_groups["genes"]
    ours = bunch.data[genes].set_axis(bunch.sample_ids, axis=0)
    common = ours.index.intersection(other.index)
    assert len(common) == 307
    np.testing.assert_array_equal(
        ours.loc[common].to_numpy(), other.loc[common, genes].to_numpy()
    )
    # and the ER class of every row is the clinical IHC status of its sample
    clinical = pd.read_csv(folder / CLINICAL_FILE, sep="\t", low_memory=False)
    ihc = clinical.set_index("sampleID").loc[
        bunch.sample_ids, "breast_carcinoma_estrogen_receptor_status"
    ]
    assert np.array_equal((ihc == "Positive").to_numpy().astype(int), bunch.target)


@pytest.mark.real_data
def test_real_genes_predict_the_subtype(pam50):
    X = pam50.data[pam50.feature_groups["genes"]].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    accuracy = cross_val_score(model, X, pam50.target, cv=cv).mean()
    assert accuracy > 0.85  # about 0.5 with the header's pairing (chance level)


# --------------------------------------------------------------------------
# damaged files


def _refused(call, path, match):
    """The DataFileError of ``call``; it names the file and where to get it."""
    with pytest.raises(DataFileError, match=match) as info:
        call()
    message = str(info.value)
    assert f"'{path}'" in message and "xenabrowser.net" in message
    return message


@pytest.mark.parametrize(
    "damage, match",
    [
        # cut in the line of the 24th gene: the other 26 genes would be lost
        (lambda p: cut_mid_line(p, 2 + 24), r"line 26 has \d+ of the 8 fields"),
        (lambda p: keep_lines(p, 2 + 23), "lacks 26 of the 49 PAM50 genes"),
        (lambda p: cut_mid_line(p, 2 + 49, keep=0.98), "ends without a line break"),
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"), "Unicode"),
    ],
    ids=["cut mid-line", "genes lost", "last value cut", "empty", "garbage"],
)
def test_damaged_expression_file(tmp_path, damage, match):
    folder = _write_pam50_folder(tmp_path)
    damage(folder / EXPRESSION_FILE)
    _refused(lambda: load_tcga_brca_pam50(data_home=tmp_path),
             folder / EXPRESSION_FILE, match)


def test_non_numeric_expression(tmp_path):
    folder = _write_pam50_folder(tmp_path)
    path = folder / EXPRESSION_FILE
    lines = path.read_text().splitlines(keepends=True)
    assert lines[3].startswith("ESR1\t")
    lines[3] = lines[3].replace("\t4.1\t", "\t4,1\t")
    path.write_text("".join(lines))
    _refused(lambda: load_tcga_brca_pam50(data_home=tmp_path), path,
             r"not finite numbers among its expression values: 'ESR1'='4,1' \(1 ")
    lines[3] = lines[3].replace("\t4,1\t", "\t\t")
    path.write_text("".join(lines))
    _refused(lambda: load_tcga_brca_pam50(data_home=tmp_path), path,
             "empty cells or values that are not finite numbers")


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: keep_lines(p, 1), "holds 0 samples, expected at least 1"),
        (lambda p: keep_lines(p, 4), "lacks 4 of the 7 samples of TCGA_breast"),
        (lambda p: cut_mid_line(p, 4), r"line 4 has \d+ of the 15 fields"),
        (lambda p: p.write_text(""), r"is empty \(0 bytes\)"),
    ],
    ids=["header only", "samples lost", "cut mid-line", "empty"],
)
def test_damaged_clinical_matrix(tmp_path, damage, match):
    folder = _write_pam50_folder(tmp_path)
    damage(folder / CLINICAL_FILE)
    _refused(lambda: load_tcga_brca_pam50(data_home=tmp_path),
             folder / CLINICAL_FILE, match)


@pytest.mark.parametrize(
    "damage, match",
    [
        (truncate_bytes, "EOFError: Compressed file ended"),
        (lambda p: p.write_bytes(b"sample\tTCGA-A1\n"), "BadGzipFile"),
        (lambda p: keep_lines(p, 1), "holds 0 gene rows, expected at least 1"),
        (lambda p: cut_mid_line(p, 3), r"line 3 has \d+ of the 8 fields"),
    ],
    ids=["gzip cut", "not gzip", "header only", "cut mid-line"],
)
def test_read_tcga_brca_damaged_expression(tmp_path, damage, match):
    expression_path, clinical_path, _ = _write_xena(tmp_path, gz=True)
    damage(expression_path)
    _refused(lambda: read_tcga_brca(expression_path, clinical_path),
             expression_path, match)


def test_read_tcga_brca_damaged_clinical(tmp_path):
    expression_path, clinical_path, _ = _write_xena(tmp_path)
    keep_lines(clinical_path, 1)
    _refused(lambda: read_tcga_brca(expression_path, clinical_path),
             clinical_path, "holds 0 samples")


@pytest.mark.real_data
def test_real_files_are_known(data_home):
    folder = data_home / "tcga_brca_pam50genes"
    assert _DataFile(folder / EXPRESSION_FILE, "", sha256=EXPRESSION_SHA256).is_known()
    assert _DataFile(folder / CLINICAL_FILE, "", sha256=CLINICAL_SHA256).is_known()


@pytest.fixture
def real_copy(data_home, tmp_path):
    """A copy of the real folder in tmp_path (files of the loader only)."""
    folder = tmp_path / "tcga_brca_pam50genes"
    folder.mkdir()
    for name in (EXPRESSION_FILE, CLINICAL_FILE):
        shutil.copyfile(data_home / "tcga_brca_pam50genes" / name, folder / name)
    return folder


@pytest.mark.real_data
def test_real_copy_of_other_checksum_passes_the_checks(real_copy, tmp_path, pam50):
    for name in (EXPRESSION_FILE, CLINICAL_FILE):  # CRLF line ends: other bytes
        path = real_copy / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    bunch = load_tcga_brca_pam50(data_home=tmp_path)
    pd.testing.assert_frame_equal(bunch.data, pam50.data)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "name, damage, match",
    [
        (EXPRESSION_FILE, lambda p: cut_mid_line(p, 2 + 24, keep=0.3),
         "line 26 has [0-9,]+ of the 1,037 fields"),
        (EXPRESSION_FILE, lambda p: keep_lines(p, 2 + 23),
         "lacks 26 of the 49 PAM50 genes"),
        (CLINICAL_FILE, lambda p: keep_lines(p, 601),
         "lacks [0-9,]+ of the 1,036 samples"),
    ],
    ids=["expression cut mid-line", "genes lost", "clinical rows lost"],
)
def test_real_files_damaged(real_copy, tmp_path, name, damage, match):
    damage(real_copy / name)
    _refused(lambda: load_tcga_brca_pam50(data_home=tmp_path), real_copy / name, match)
