"""Tests of the command-line interface (``python -m skmultimodal``)."""

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
