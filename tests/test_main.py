"""Tests of the command-line interface (``python -m skmultimodal``)."""

import numpy as np
import pandas as pd
import pytest

from skmultimodal.__main__ import build_parser, main
from skmultimodal._demo import METRICS, score_binary

SYNTHETIC_MODELS = {
    "Majority class",
    "ImageClassifier (image)",
    "TabularMLPClassifier (tabular)",
    "LogisticRegression (tabular)",
    "Early fusion: ImageEmbedder + tabular -> LogisticRegression",
}


def test_demo_synthetic_only(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SKMULTIMODAL_DATA", raising=False)
    out = tmp_path / "results"
    # An empty data home too, so that a ~/skmultimodal_data on the machine is not used.
    status = main(["demo", "--quick", "--output-dir", str(out),
                   "--data-home", str(tmp_path / "no-data")])
    assert status == 0

    results = pd.read_csv(out / "results.csv")
    assert set(results["dataset"]) == {"synthetic"}
    assert SYNTHETIC_MODELS <= set(results["model"])
    extra = set(results["model"]) - SYNTHETIC_MODELS
    assert extra <= {"IntermediateFusionClassifier (image + tabular)"}
    assert (results["n_splits"] == 3).all()
    for metric in METRICS:
        for stat in ("mean", "std"):
            values = results[f"{metric}_{stat}"].to_numpy(dtype=float)
            assert np.isfinite(values).all(), (metric, stat)
            assert ((values >= 0) & (values <= 1)).all(), (metric, stat, values)
    majority = results.set_index("model").loc["Majority class"]
    assert majority["roc_auc_mean"] == 0.5

    for name in ("roc_synthetic.png", "pr_synthetic.png", "results.md"):
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
    with open(out / "roc_synthetic.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "ImageClassifier (image)" in markdown and "±" in markdown

    printed = capsys.readouterr().out
    assert "ROC AUC" in printed
    assert str(out.resolve()) in printed.strip().splitlines()[-1]


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


def test_score_binary_positive_label():
    y = np.array(["benign", "malignant", "malignant", "benign"])
    score = np.array([0.2, 0.9, 0.4, 0.1])  # probability of "malignant"
    y_pred = np.where(score >= 0.5, "malignant", "benign")
    scores = score_binary(y, y_pred, score, "malignant")
    assert scores["accuracy"] == 0.75
    assert scores["roc_auc"] == 1.0
    assert scores["average_precision"] == 1.0
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["balanced_accuracy"] == 0.75
