"""Tests of ``python -m skmultimodal reproduce``.

The public-data runs use the real data sets (``data_home`` fixture: skipped
when SKMULTIMODAL_DATA is unset); the ``--source original`` runs use tiny
fixture files written here, so they need no data.
"""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skmultimodal import _reproduce
from skmultimodal.__main__ import build_parser, main
from skmultimodal._reproduce import CSV_COLUMNS, check_original_args, output_files

STUDY1_MODELS = {
    "Cross-attention fusion (genes+clinical)",
    "Cross-attention fusion, genes only",
    "Cross-attention fusion, clinical only",
    "Fusion without cross-attention (n_layers=0, genes+clinical)",
    "Intermediate fusion, concatenation (genes+clinical)",
    "LogisticRegression (genes)",
    "XGBoost (genes)",
}
STUDY2_USG_MODELS = {
    "Intermediate fusion, SimpleCNN + clinical MLP (image+clinical)",
    "Intermediate fusion, SimpleCNN + clinical MLP, image only",
    "Intermediate fusion, SimpleCNN + clinical MLP, clinical only",
    "XGBoost (clinical)",
    "MLP (clinical)",
    "SimpleCNN (image)",
}
IMAGE_MODELS = {"SimpleCNN (image)", "ResNet-18 from scratch (image)"}
STUDY3_MODELS = {
    "ECA-ResNet-18 (us)",
    "ResNet-18 without attention (us)",
    "Stacking ensemble on ECA-ResNet-18 features (us)",
}
STUDY1_METRICS = {"accuracy", "average_precision", "f1"}


def _tiny_config(monkeypatch):
    """Smaller still than --quick, for the fixture runs: 2 folds, 1 epoch."""
    cfg = _reproduce.CONFIGS["quick"]
    small = dataclasses.replace(cfg, n_splits=2, image_epochs=1, tabular_epochs=1,
                                fusion_epochs=1, embed_dim=8, image_size=16,
                                xgb_estimators=5, n_bootstrap=10)
    monkeypatch.setitem(_reproduce.CONFIGS, "quick", small)


def _check(out, expected, n_folds, pngs):
    """results.csv: the models and metrics expected per dataset, scores in [0, 1]."""
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns) == CSV_COLUMNS
    assert set(results["dataset"]) == set(expected)
    for dataset, (models, metrics) in expected.items():
        rows = results[results["dataset"] == dataset]
        assert set(rows["model"]) == set(models), dataset
        for model, by_model in rows.groupby("model"):
            assert set(by_model["metric"]) == set(metrics), (dataset, model)
        assert (rows["n_folds"] == n_folds).all(), dataset
    for column in ("mean", "pooled"):
        values = results[column].to_numpy(dtype=float)
        assert np.isfinite(values).all(), column
        assert ((values >= 0) & (values <= 1)).all(), column
    ci = results.dropna(subset=["ci_low"])
    assert ((ci["ci_low"] >= 0) & (ci["ci_high"] <= 1)).all()
    assert (ci["ci_low"] <= ci["ci_high"]).all()
    for name in pngs:
        for kind in ("roc", "pr"):
            path = out / f"{kind}_{name}.png"
            assert path.is_file(), path
            with open(path, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n", path
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "±" in markdown
    return results, markdown


# -- public data, --quick ------------------------------------------------------------
def test_study1_quick(data_home, tmp_path, capsys):
    out = tmp_path / "s1"
    assert main(["reproduce", "study1", "--quick", "--output-dir", str(out),
                 "--data-home", str(data_home)]) == 0
    expected = {"metabric": (STUDY1_MODELS, STUDY1_METRICS),
                "tcga": (STUDY1_MODELS, STUDY1_METRICS)}
    results, markdown = _check(out, expected, 3, ["metabric", "tcga"])
    assert "Stand-in data: METABRIC" in markdown
    assert results["data"].str.contains("stand-in").all()
    printed = capsys.readouterr().out
    assert "Stand-in data:" in printed
    assert "Cross-attention fusion (genes+clinical)" in printed
    assert printed.strip().splitlines()[-1] == str(out.resolve())
    assert sorted(os.listdir(out)) == sorted(output_files("study1"))


def test_study2_quick(data_home, tmp_path, capsys):
    out = tmp_path / "s2"
    assert main(["reproduce", "study2", "--quick", "--output-dir", str(out),
                 "--data-home", str(data_home)]) == 0
    busi = {"accuracy", "roc_auc_ovr", "roc_auc[benign]", "roc_auc[malignant]",
            "roc_auc[normal]"}
    usg = {"accuracy", "roc_auc_ovr", "roc_auc[benign]", "roc_auc[malignant]"}
    expected = {"busi": (IMAGE_MODELS, busi),
                "breast_lesions_usg": (STUDY2_USG_MODELS, usg)}
    results, markdown = _check(out, expected, 3, ["busi", "breast_lesions_usg"])
    assert "Stand-in data: BUSI" in markdown
    assert "StratifiedGroupKFold(3) grouped by patient" in set(results["protocol"])
    # binary problem: the AUCs of both classes (one vs rest) are the same number
    rows = results[results["dataset"] == "breast_lesions_usg"].pivot(
        index="model", columns="metric", values="mean")
    np.testing.assert_allclose(rows["roc_auc[benign]"], rows["roc_auc[malignant]"])
    np.testing.assert_allclose(rows["roc_auc[benign]"], rows["roc_auc_ovr"])
    assert "Stand-in data:" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == sorted(output_files("study2"))


def test_study3_quick(data_home, tmp_path, capsys):
    out = tmp_path / "s3"
    assert main(["reproduce", "study3", "--quick", "--output-dir", str(out),
                 "--data-home", str(data_home)]) == 0
    expected = {"breast_lesions_usg": (STUDY3_MODELS, {"roc_auc"})}
    _, markdown = _check(out, expected, 3, ["breast_lesions_usg"])
    assert "no paired mammography" in markdown
    assert "no paired mammography" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == sorted(output_files("study3"))


# -- --source original on fixture files -------------------------------------------------
def _png(path, rng, size=20, mode="RGB"):
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(path)


def test_study1_original_tcga_with_tiles(tmp_path, monkeypatch):
    _tiny_config(monkeypatch)
    rng = np.random.default_rng(0)
    patients = [f"TCGA-AA-{i:04d}" for i in range(16)]
    calls = ["LumA", "LumB", "Basal", "Her2"] * 4
    genes = [f"G{j}" for j in range(6)]
    expression = pd.DataFrame(rng.normal(size=(6, 16)),
                              index=pd.Index(genes, name="sample"),
                              columns=[f"{p}-01A" for p in patients])
    expression.loc["G0"] += np.isin(calls, ["Basal", "Her2"]) * 3.0
    expression.to_csv(tmp_path / "expr.tsv", sep="\t")
    pd.DataFrame({"sampleID": [f"{p}-01" for p in patients], "PAM50Call_RNAseq": calls,
                  "age_at_initial_pathologic_diagnosis": rng.integers(30, 80, 16)}
                 ).to_csv(tmp_path / "clin.tsv", sep="\t", index=False)
    for p in patients[:-1]:  # the last patient has no tile
        (tmp_path / "tiles" / p).mkdir(parents=True)
        for k in range(2):
            _png(tmp_path / "tiles" / p / f"{k}.png", rng)
    out = tmp_path / "out"
    assert main(["reproduce", "study1", "--quick", "--source", "original",
                 "--expression", str(tmp_path / "expr.tsv"),
                 "--clinical", str(tmp_path / "clin.tsv"),
                 "--tiles", str(tmp_path / "tiles"), "--output-dir", str(out)]) == 0
    models = {
        "Cross-attention fusion (histology+genes)",
        "Cross-attention fusion, histology only",
        "Cross-attention fusion, genes only",
        "Fusion without cross-attention (n_layers=0, histology+genes)",
        "Intermediate fusion, concatenation (histology+genes)",
        "LogisticRegression (genes)",
        "XGBoost (genes)",
    }
    results, markdown = _check(out, {"tcga": (models, STUDY1_METRICS)}, 2, ["tcga"])
    assert "Original data: TCGA-BRCA" in markdown
    assert "1 patient(s) without tiles" in markdown
    assert "each patient's tiles form one bag" in markdown
    assert "grouped by patient" in results["protocol"].iloc[0]
    assert sorted(os.listdir(out)) == sorted(output_files("study1", "original"))


def test_study2_original_brecahad_and_ehr(tmp_path, monkeypatch):
    _tiny_config(monkeypatch)
    rng = np.random.default_rng(1)
    root = tmp_path / "brecahad"
    (root / "images").mkdir(parents=True)
    (root / "groundTruth").mkdir()
    classes = ("mitosis", "tumor", "non_tumor")
    for i in range(6):
        stem = f"Case_{i // 2}-0{i % 2}"
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
            root / "images" / f"{stem}.tif")
        points = {name: [{"x": float(x), "y": float(y)} for x, y in rng.random((n, 2))]
                  for name, n in zip(classes, (1, 3, 3))}
        (root / "groundTruth" / f"{stem}.json").write_text(json.dumps(points))
    ehr = pd.DataFrame({
        "subject_id": range(30), "label": list(classes) * 10,
        "age": rng.integers(30, 80, 30).astype(float), "gender": ["F", "M"] * 15,
        "lab_glucose": rng.normal(100, 10, 30),
    })
    ehr.loc[3, "age"] = np.nan
    ehr.to_csv(tmp_path / "ehr.csv", index=False)
    out = tmp_path / "out"
    assert main(["reproduce", "study2", "--quick", "--source", "original",
                 "--brecahad", str(root), "--patch-size", "16",
                 "--ehr", str(tmp_path / "ehr.csv"), "--output-dir", str(out)]) == 0
    metrics = {"accuracy", "roc_auc_ovr", "roc_auc[mitosis]", "roc_auc[non_tumor]",
               "roc_auc[tumor]"}
    fusion = "Intermediate fusion, SimpleCNN + EHR MLP"
    expected = {
        "brecahad": (IMAGE_MODELS, metrics),
        "brecahad_ehr": ({f"{fusion} (image+EHR)", f"{fusion}, image only",
                          f"{fusion}, EHR only", "XGBoost (EHR)", "MLP (EHR)",
                          "SimpleCNN (image)"}, metrics),
    }
    results, markdown = _check(out, expected, 2, ["brecahad", "brecahad_ehr"])
    assert "artificial pairing" in markdown and "Original data: BreCaHAD" in markdown
    assert sorted(os.listdir(out)) == sorted(output_files("study2", "original", ehr="x"))


def test_study3_original_paired_table(tmp_path, monkeypatch):
    _tiny_config(monkeypatch)
    rng = np.random.default_rng(2)
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(20):
        for kind in ("us", "mammo"):
            _png(tmp_path / "img" / f"{kind}{i}.png", rng, mode="L")
        rows.append({"patient_id": i, "us_path": f"img/us{i}.png",
                     "mammo_path": str(tmp_path / "img" / f"mammo{i}.png"),
                     "label": ["benign", "malignant"][i % 2]})
    pd.DataFrame(rows).to_csv(tmp_path / "pairs.csv", index=False)
    out = tmp_path / "out"
    assert main(["reproduce", "study3", "--quick", "--source", "original",
                 "--table", str(tmp_path / "pairs.csv"), "--output-dir", str(out)]) == 0
    stacking = "Stacking ensemble on ECA-ResNet-18 features + CBAM-ResNet-18 features"
    models = {f"{stacking} (us+mammo)", f"{stacking}, us only", f"{stacking}, mammo only",
              "ECA-ResNet-18 (us)", "ResNet-18 without attention (us)",
              "CBAM-ResNet-18 (mammo)", "ResNet-18 without attention (mammo)"}
    results, _ = _check(out, {"original": (models, {"roc_auc"})}, 2, ["original"])
    assert "grouped by patient" in results["protocol"].iloc[0]
    assert sorted(os.listdir(out)) == sorted(output_files("study3", "original"))


# -- argument errors ----------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["reproduce", "study4"], "invalid choice: 'study4'"),
    (["reproduce"], "the following arguments are required: study"),
    (["reproduce", "study1", "--source", "other"], "invalid choice: 'other'"),
    (["reproduce", "study1", "--source", "original"], "needs --expression and --clinical"),
    (["reproduce", "study2", "--source", "original", "--ehr", "x.csv"],
     "needs --brecahad"),
    (["reproduce", "study1", "--expression", "x.tsv"], "only apply with --source original"),
    (["reproduce", "study3", "--source", "original", "--table", "t.csv", "--tiles", "d"],
     "--tiles do not apply to study3"),
    (["reproduce", "study1", "--random-state", "x"], "invalid int value"),
    (["reproduce", "study1", "--threads", "-1"], "--threads must be"),
])
def test_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_parser_defaults():
    args = build_parser().parse_args(["reproduce", "study2"])
    assert (args.study, args.source, args.quick, args.output_dir, args.random_state) == (
        "study2", "public", False, None, 0)


def test_missing_public_data_is_a_clean_error(tmp_path, cli_error):
    assert main(["reproduce", "study3", "--quick", "--data-home", str(tmp_path),
                 "--output-dir", str(tmp_path / "out")]) == 2
    assert "BrEaST-Lesions-USG" in cli_error()
    assert not (tmp_path / "out").exists()


@pytest.fixture
def no_work(monkeypatch):
    """Every study fails if it is started."""
    def fail(*args, **kwargs):
        raise AssertionError("the study started working")

    for key in _reproduce._RUNNERS:
        monkeypatch.setitem(_reproduce._RUNNERS, key, fail)


def test_existing_file_as_output_is_refused_before_any_work(tmp_path, no_work, cli_error):
    target = tmp_path / "results.csv"
    target.write_text("a file")
    start = time.perf_counter()
    assert main(["reproduce", "study1", "--output", str(target)]) == 2
    assert time.perf_counter() - start < 5
    assert f"the output folder {target} is an existing file, not a folder" in \
        cli_error()
    assert target.read_text() == "a file"


def test_existing_file_as_output_from_the_shell(tmp_path):
    """The reported case: ``reproduce --output <file>`` ran 43 s, then a traceback."""
    target = tmp_path / "out.txt"
    target.write_text("a file")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("SKMULTIMODAL_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "skmultimodal", "reproduce", "study1", "--quick",
         "--output", str(target)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        (f"skmultimodal: error: the output folder {target} is an existing file, not a "
         "folder; choose another --output-dir.")]
    assert done.stdout == ""


def test_default_output_folder_is_checked(tmp_path, no_work, monkeypatch, cli_error):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "skmultimodal-results" / "study3").mkdir(parents=True)
    (tmp_path / "skmultimodal-results" / "study3" / "results.md").write_text("old")
    assert main(["reproduce", "study3"]) == 2
    line = cli_error()
    folder = Path("skmultimodal-results") / "study3"
    assert f"{folder} already holds results.md: pass --overwrite" in line
    with pytest.raises(AssertionError, match="started working"):
        main(["reproduce", "study2"])  # another study's folder


def test_rerun_refuses_to_overwrite_results(tmp_path, monkeypatch, capsys, cli_error):
    _tiny_config(monkeypatch)
    rng = np.random.default_rng(3)
    patients = [f"TCGA-AA-{i:04d}" for i in range(16)]
    calls = ["LumA", "LumB", "Basal", "Her2"] * 4
    expression = pd.DataFrame(rng.normal(size=(4, 16)),
                              index=pd.Index([f"G{j}" for j in range(4)], name="sample"),
                              columns=[f"{p}-01A" for p in patients])
    expression.to_csv(tmp_path / "expr.tsv", sep="\t")
    pd.DataFrame({"sampleID": [f"{p}-01" for p in patients], "PAM50Call_RNAseq": calls,
                  "age_at_initial_pathologic_diagnosis": rng.integers(30, 80, 16)}
                 ).to_csv(tmp_path / "clin.tsv", sep="\t", index=False)
    out = tmp_path / "out"
    argv = ["reproduce", "study1", "--quick", "--source", "original",
            "--expression", str(tmp_path / "expr.tsv"),
            "--clinical", str(tmp_path / "clin.tsv"), "--output-dir", str(out)]
    assert main(argv) == 0
    names = output_files("study1", "original")
    assert sorted(os.listdir(out)) == sorted(names)
    (out / "results.csv").write_text("earlier run")
    capsys.readouterr()

    assert main(argv) == 2
    line = cli_error()
    assert f"already holds {', '.join(names)}: pass --overwrite" in line
    assert (out / "results.csv").read_text() == "earlier run"

    assert main([*argv, "--overwrite"]) == 0
    assert list(pd.read_csv(out / "results.csv").columns) == CSV_COLUMNS


def test_check_original_args():
    check_original_args("study1", "public")
    check_original_args("study2", "original", brecahad="root", ehr="t.csv")
    with pytest.raises(ValueError, match="study must be one of"):
        check_original_args("study9", "public")
    with pytest.raises(ValueError, match="needs --table"):
        check_original_args("study3", "original")


def test_one_runner_per_study_and_source():
    assert set(_reproduce._RUNNERS) == {(s, src) for s in _reproduce.STUDIES
                                        for src in _reproduce.SOURCES}
