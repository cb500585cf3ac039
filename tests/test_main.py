"""Tests of the command-line interface (``python -m skmultimodal``)."""

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

from skmultimodal import _demo
from skmultimodal.__main__ import build_parser, main
from skmultimodal._demo import METRICS, score_split

SYNTHETIC_MODELS = {
    "Majority class",
    "ImageClassifier (image)",
    "TabularMLPClassifier (tabular)",
    "LogisticRegression (tabular)",
    "Early fusion: ImageEmbedder + tabular -> LogisticRegression",
}
SUMMARY_COLUMNS = ["dataset", "protocol", "model", "metric", "mean", "std", "pooled",
                   "ci_low", "ci_high", "n_folds"]


def _check_results(results, datasets, n_folds):
    """One row per (dataset, model, metric), every score finite and in [0, 1]."""
    assert list(results.columns) == SUMMARY_COLUMNS
    assert set(results["dataset"]) == set(datasets)
    for (dataset, model), rows in results.groupby(["dataset", "model"]):
        assert sorted(rows["metric"]) == sorted(METRICS), (dataset, model)
        assert (rows["n_folds"] == n_folds[dataset]).all(), (dataset, model)
    for dataset, rows in results.groupby("dataset"):
        single_split = n_folds[dataset] == 1  # no spread, no interval
        for column in ("mean", "pooled", "std", "ci_low", "ci_high"):
            values = rows[column].to_numpy(dtype=float)
            if single_split and column in ("std", "ci_low", "ci_high"):
                assert np.isnan(values).all(), (dataset, column)
                continue
            assert np.isfinite(values).all(), (dataset, column)
            assert ((values >= 0) & (values <= 1)).all(), (dataset, column, values)
    ci = results.dropna(subset=["ci_low"])
    assert (ci["ci_low"] <= ci["ci_high"]).all()


def _check_pngs(out, names):
    for name in names:
        for kind in ("roc", "pr"):
            path = out / f"{kind}_{name}.png"
            assert path.is_file() and path.stat().st_size > 0, path
            with open(path, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n", path


def test_demo_synthetic_only(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SKMULTIMODAL_DATA", raising=False)
    out = tmp_path / "results"
    # An empty data home too, so that a ~/skmultimodal_data on the machine is not used.
    status = main(["demo", "--quick", "--output-dir", str(out),
                   "--data-home", str(tmp_path / "no-data")])
    assert status == 0

    results = pd.read_csv(out / "results.csv")
    _check_results(results, {"synthetic"}, {"synthetic": 3})
    assert SYNTHETIC_MODELS <= set(results["model"])
    extra = set(results["model"]) - SYNTHETIC_MODELS
    assert extra <= {"IntermediateFusionClassifier (image + tabular)"}
    majority = results[results["model"] == "Majority class"].set_index("metric")
    assert majority.loc["roc_auc", "mean"] == 0.5
    assert majority.loc["roc_auc", "ci_low"] == majority.loc["roc_auc", "ci_high"] == 0.5

    _check_pngs(out, ["synthetic"])
    assert (out / "results.md").stat().st_size > 0
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "ImageClassifier (image)" in markdown and "±" in markdown and "[" in markdown

    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and "ImageClassifier (image)" in printed
    assert printed.count("±") >= 5 * len(SYNTHETIC_MODELS)
    assert str(out.resolve()) in printed.strip().splitlines()[-1]


def test_demo_with_breastmnist(tmp_path, monkeypatch, capsys):
    """The train -> test path, on a tiny BreastMNIST file and tiny synthetic data."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 40), ("val", 4), ("test", 20)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        # 0 = malignant for a third of the images, as in the real file
        arrays[f"{split}_labels"] = (np.arange(n) % 3 != 0).astype(np.uint8).reshape(n, 1)
    (tmp_path / "data" / "breastmnist").mkdir(parents=True)
    np.savez(tmp_path / "data" / "breastmnist" / "breastmnist.npz", **arrays)
    monkeypatch.setitem(_demo.CONFIGS, "tiny", _demo.DemoConfig(
        n_samples=60, n_patients=20, image_size=16, n_splits=2, image_epochs=1,
        tabular_epochs=1, fusion_epochs=1, breastmnist_epochs=1, metabric_epochs=1,
    ))
    monkeypatch.setattr(_demo, "N_BOOTSTRAP", 20)
    out = tmp_path / "results"
    results = _demo.run_demo(out, size="tiny", data_home=tmp_path / "data")

    assert results.equals(pd.read_csv(out / "results.csv"))
    _check_results(results, {"synthetic", "breastmnist"}, {"synthetic": 2, "breastmnist": 1})
    breast = results[results["dataset"] == "breastmnist"]
    assert set(breast["model"]) == {"Majority class", "ImageClassifier (simple_cnn, augment)"}
    # 1 = malignant (label 0 of the file) is the positive class: the majority
    # class (benign) predicts no malignant case.
    majority = breast[breast["model"] == "Majority class"].set_index("metric")["mean"]
    assert majority["f1"] == 0.0 and majority["roc_auc"] == 0.5
    assert majority["average_precision"] == pytest.approx(np.mean(arrays["test_labels"] == 0))
    _check_pngs(out, ["synthetic", "breastmnist"])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        _demo.output_files(tmp_path / "data"))
    assert "official train -> test split" in capsys.readouterr().out


def test_main_without_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_demo_arguments():
    args = build_parser().parse_args(["demo"])
    assert args.output_dir == "skmultimodal-results"
    assert not args.quick and args.data_home is None and args.random_state == 0
    args = build_parser().parse_args(
        ["demo", "--quick", "--data-home", "/data", "--random-state", "3"]
    )
    assert args.quick and args.data_home == "/data" and args.random_state == 3
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--random-state", "x"])


def test_score_split_matches_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + rng.normal(size=80) > 0, "malignant", "benign")
    models = {"logreg": LogisticRegression(), "majority": DummyClassifier()}
    summary, proba = score_split(models, X[:50], y[:50], X[50:], y[50:])

    assert list(summary.columns) == ["model", "metric", "mean", "std", "pooled",
                                     "ci_low", "ci_high", "n_folds"]
    assert list(summary["metric"][:len(METRICS)]) == list(METRICS)
    scores = summary[summary["model"] == "logreg"].set_index("metric")["mean"]
    fitted = LogisticRegression().fit(X[:50], y[:50])
    p = fitted.predict_proba(X[50:])[:, 1]  # column of "malignant", the greater label
    positive = y[50:] == "malignant"
    assert np.array_equal(proba["logreg"][:, 1], p)
    assert scores["accuracy"] == accuracy_score(y[50:], fitted.predict(X[50:]))
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(positive, p))
    assert scores["average_precision"] == pytest.approx(average_precision_score(positive, p))
    assert scores["f1"] == pytest.approx(f1_score(positive, fitted.predict(X[50:]) == "malignant"))
    assert (summary["pooled"] == summary["mean"]).all() and (summary["n_folds"] == 1).all()
    assert summary[["std", "ci_low", "ci_high"]].isna().all().all()
    assert proba["majority"].shape == (30, 2)


# -- output folder and errors ---------------------------------------------------------
def _fail_if_called(*args, **kwargs):
    raise AssertionError("the demo started working")


def _demo_argv(out, *extra):
    return ["demo", "--quick", "--synthetic-only", "--output", str(out), *extra]


def test_demo_refuses_an_existing_file_before_any_work(tmp_path, monkeypatch, cli_error):
    monkeypatch.setattr(_demo, "_synthetic", _fail_if_called)
    target = tmp_path / "results"
    target.write_text("not a folder")
    start = time.perf_counter()
    assert main(_demo_argv(target)) == 2
    assert time.perf_counter() - start < 5
    line = cli_error()
    assert f"the output folder {target} is an existing file, not a folder" in line
    assert target.read_text() == "not a folder"
    # a folder that cannot be created under it
    assert main(_demo_argv(target / "sub")) == 2
    assert f"{target} is a file, not a folder" in cli_error()


def test_demo_refuses_an_unwritable_folder(tmp_path, monkeypatch, cli_error):
    monkeypatch.setattr(_demo, "_synthetic", _fail_if_called)
    # simulated, so that the test also runs as root (which ignores permissions)
    monkeypatch.setattr(_demo.os, "access", lambda path, mode: False)
    assert main(_demo_argv(tmp_path / "new" / "results")) == 2
    assert f"cannot create the output folder {tmp_path / 'new' / 'results'}: " \
        f"{tmp_path} is not writable" in cli_error()
    assert main(_demo_argv(tmp_path)) == 2
    assert f"cannot write to the output folder {tmp_path}" in cli_error()
    assert not (tmp_path / "new").exists()


def test_demo_refuses_to_overwrite_results(tmp_path, monkeypatch, cli_error):
    monkeypatch.setattr(_demo, "_synthetic", _fail_if_called)
    out = tmp_path / "results"
    out.mkdir()
    for name in ("results.csv", "roc_synthetic.png", "notes.txt"):
        (out / name).write_text("earlier run")
    assert main(_demo_argv(out)) == 2
    line = cli_error()
    assert "already holds results.csv, roc_synthetic.png: pass --overwrite" in line
    assert "notes.txt" not in line
    assert (out / "results.csv").read_text() == "earlier run"
    # with --overwrite, and in an empty or unrelated folder, the work starts
    for argv in (_demo_argv(out, "--overwrite"), _demo_argv(tmp_path / "new"),
                 _demo_argv(tmp_path)):
        with pytest.raises(AssertionError, match="started working"):
            main(argv)


@pytest.mark.parametrize("error, message", [
    (ValueError("The table has no column\n'label'."),
     "skmultimodal: error: The table has no column 'label'."),
    (FileNotFoundError(2, "No such file or directory", "x.csv"),
     "skmultimodal: error: [Errno 2] No such file or directory: 'x.csv'"),
    (KeyError("label"), "skmultimodal: error: missing key or column 'label'"),
    (ImportError("xgboost is needed: pip install xgboost"),
     "skmultimodal: error: xgboost is needed: pip install xgboost"),
])
def test_errors_print_one_line(tmp_path, monkeypatch, cli_error, error, message):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(_demo, "_synthetic", fail)
    monkeypatch.delenv("SKMULTIMODAL_DEBUG", raising=False)
    assert main(_demo_argv(tmp_path / "out")) == 2
    assert cli_error() == message
    # --debug, before or after the command, or SKMULTIMODAL_DEBUG: the traceback
    for argv in (["--debug", *_demo_argv(tmp_path / "out")],
                 _demo_argv(tmp_path / "out", "--debug")):
        with pytest.raises(type(error)):
            main(argv)
    monkeypatch.setenv("SKMULTIMODAL_DEBUG", "1")
    with pytest.raises(type(error)):
        main(_demo_argv(tmp_path / "out"))


def test_bugs_keep_their_traceback(tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(_demo, "_synthetic", bug)
    with pytest.raises(TypeError, match="unsupported operand"):
        main(_demo_argv(tmp_path / "out"))


def test_interrupted(tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_demo, "_synthetic", interrupt)
    monkeypatch.delenv("SKMULTIMODAL_DEBUG", raising=False)
    assert main(_demo_argv(tmp_path / "out")) == 130
    assert capsys.readouterr().err.strip() == "skmultimodal: interrupted"


def test_demo_output_files(tmp_path):
    assert _demo.output_files(real_data=False) == [
        "results.csv", "results.md", "roc_synthetic.png", "pr_synthetic.png"]
    (tmp_path / "metabric").mkdir()
    (tmp_path / "metabric" / "METABRIC_RNA_Mutation.csv.gz").write_bytes(b"")
    assert _demo.output_files(tmp_path)[-2:] == ["roc_metabric.png", "pr_metabric.png"]
