"""Fusion benchmark on METABRIC: Luminal vs Basal/Her2 from clinical data + genes.

Stand-in for study 1 (arXiv 2503.02849: TCGA-BRCA histology + expression,
cross-attention fusion, five-fold CV, F1 / PR-AUC / accuracy). METABRIC has
no histology images, so the two fused modalities here are the 15 baseline
clinical columns of ``load_metabric`` and the mRNA z-scores of 489 genes.

Protocol: the 1,559 patients with subtype LumA, LumB, Her2 or Basal (positive
class Basal/Her2), StratifiedKFold(5, shuffle=True, random_state=0), the same
folds for every model, scored by ``skmultimodal.model_selection.evaluate``
(accuracy, F1, average precision = PR-AUC, ROC AUC; fold mean +- std and a
percentile bootstrap CI of the pooled out-of-fold metric).

Hyperparameters. The scikit-learn baselines and the TabularMLPClassifier use
settings fixed before any run (library defaults; XGBoost as in the METABRIC
example). The neural fusion models are tuned by *nested* cross-validation: a
small GridSearchCV (inner StratifiedKFold(3) on the outer training folds,
scoring average precision) is the estimator evaluated on the outer folds, so
the outer test folds never influence the choice. The settings chosen in each
outer fold are printed and saved.

Run from the repository root::

    python benchmarks/bench_fusion_metabric.py            # full run
    python benchmarks/bench_fusion_metabric.py --quick    # smoke run, subsample

Writes ``metabric_summary.csv``, ``metabric_folds.csv``, ``metabric.md``
and ``metabric_roc.png`` to ``--output-dir`` (default benchmarks/results).
"""

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from skmultimodal import (
    CrossAttentionFusionClassifier,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    TabularMLPClassifier,
    TabularModality,
)
from skmultimodal.datasets import load_metabric
from skmultimodal.model_selection import EvaluationReport, evaluate

SCORING = ["accuracy", "f1", "average_precision", "roc_auc"]
SEED = 0
# Published figures and the data README's baselines, for the comparison table.
README_BASELINES = {
    "LR genes": {"f1": 0.870, "average_precision": 0.951},
    "XGBoost genes": {"f1": 0.874, "average_precision": 0.954},
    "LR clinical": {"f1": 0.786, "average_precision": 0.872},
    "LR concat (early fusion)": {"f1": 0.867, "average_precision": 0.950},
}


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 400 patients, tiny grids, few epochs, 200 bootstraps")
    p.add_argument("--output-dir", type=Path, default=here / "results")
    p.add_argument("--data-home", default=None,
                   help="folder holding metabric/ (default: SKMULTIMODAL_DATA or "
                        "../shared/data next to the repository)")
    p.add_argument("--torch-threads", type=int, default=1,
                   help="torch intra-op threads (1 is much faster on a busy 2-core "
                        "machine: see benchmarks/README.md)")
    p.add_argument("--n-bootstrap", type=int, default=None)
    p.add_argument("--skip", nargs="*", default=[],
                   help="model names to leave out")
    return p.parse_args(argv)


def default_data_home(arg):
    if arg is not None:
        return arg
    import os

    if os.environ.get("SKMULTIMODAL_DATA"):
        return None  # the loader reads the variable itself
    guess = Path(__file__).resolve().parents[2] / "shared" / "data"
    return str(guess) if guess.is_dir() else None


# -- models ---------------------------------------------------------------
def clinical_preprocessor(numeric, categorical):
    """Median imputation + scaling of numbers, one-hot of categories (NaN -> 'missing')."""
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
    ])


def lr():
    return LogisticRegression(max_iter=5000)


def xgb():
    # Fixed a priori (the settings of examples/plot_tabular_metabric.py).
    return XGBClassifier(n_estimators=300, max_depth=3, learning_rate=0.05,
                         subsample=0.8, colsample_bytree=0.5, tree_method="hist",
                         n_jobs=1, random_state=SEED)


def build_models(genes, numeric, categorical, quick):
    clinical = numeric + categorical
    genes_only = ColumnTransformer([("genes", StandardScaler(), genes)])
    clin_only = clinical_preprocessor(numeric, categorical)
    both = ColumnTransformer([
        ("genes", StandardScaler(), genes),
        ("clinical", clinical_preprocessor(numeric, categorical), clinical),
    ])
    epochs = 5 if quick else None

    def modalities():
        # Encoder sizes fixed a priori: the genes branch uses the
        # TabularMLPClassifier defaults (one wide layer, dropout 0.5), the
        # 15-column clinical branch a small layer.
        return [
            ("genes", TabularModality(genes, hidden_layer_sizes=(256,), dropout=0.5)),
            ("clinical", TabularModality(clinical, impute="median",
                                         categorical=categorical,
                                         hidden_layer_sizes=(32,), dropout=0.1)),
        ]

    inner = StratifiedKFold(2 if quick else 3, shuffle=True, random_state=1)

    def tuned(est, grid):
        if quick:
            grid = {k: v[:1] for k, v in grid.items()}
            grid["max_epochs"] = [epochs]
        return GridSearchCV(est, grid, cv=inner, scoring="average_precision",
                            refit=True, n_jobs=1, error_score="raise")

    mlp_kw = dict(max_epochs=epochs) if quick else {}
    inter_grid = {"lr": [1e-3, 3e-4], "dropout": [0.2, 0.5], "max_epochs": [20, 40]}
    gated_grid = {"lr": [1e-3, 3e-4], "embed_dim": [32, 128]}
    xattn_grid = {"lr": [1e-3, 3e-4], "embed_dim": [32, 64]}
    models = {
        # unimodal: genes
        "LR genes": make_pipeline(genes_only, lr()),
        "XGBoost genes": make_pipeline(genes_only, xgb()),
        "TabularMLP genes": TabularMLPClassifier(columns=genes, random_state=SEED,
                                                 **mlp_kw),
        # unimodal: clinical
        "LR clinical": make_pipeline(clin_only, lr()),
        "XGBoost clinical": make_pipeline(clinical_preprocessor(numeric, categorical),
                                          xgb()),
        # fusion
        "LR concat (early fusion)": make_pipeline(both, lr()),
        "Late fusion soft (LR+LR)": LateFusionClassifier(
            [("genes", make_pipeline(StandardScaler(), lr()), genes),
             ("clinical", make_pipeline(clinical_preprocessor(numeric, categorical),
                                        lr()), clinical)],
            voting="soft"),
        "Late fusion stacking (LR+LR)": LateFusionClassifier(
            [("genes", make_pipeline(StandardScaler(), lr()), genes),
             ("clinical", make_pipeline(clinical_preprocessor(numeric, categorical),
                                        lr()), clinical)],
            voting="stacking", cv=5, random_state=SEED),
        # fusion="concat" pinned: the study's fusion, no longer the default
        "Intermediate concat (defaults)": IntermediateFusionClassifier(
            modalities(), embed_dim=64, fusion="concat", random_state=SEED, **mlp_kw),
        "Intermediate concat (tuned)": tuned(
            IntermediateFusionClassifier(modalities(), embed_dim=64, fusion="concat",
                                         random_state=SEED),
            inter_grid),
        "Intermediate gated (tuned)": tuned(
            IntermediateFusionClassifier(modalities(), fusion="gated", random_state=SEED,
                                         max_epochs=20),
            gated_grid),
        "Cross-attention (tuned)": tuned(
            CrossAttentionFusionClassifier(modalities(), n_heads=4, n_layers=1,
                                           n_tokens=4, max_epochs=20, random_state=SEED),
            xattn_grid),
    }
    grids = {"Intermediate concat (tuned)": inter_grid,
             "Intermediate gated (tuned)": gated_grid,
             "Cross-attention (tuned)": xattn_grid}
    modality_of = {
        "LR genes": "genes", "XGBoost genes": "genes", "TabularMLP genes": "genes",
        "LR clinical": "clinical", "XGBoost clinical": "clinical",
    }
    return models, grids, modality_of


# -- reports --------------------------------------------------------------
METRIC_FUNCS = {
    "roc_auc": lambda y, p: roc_auc_score(y, p),
    "average_precision": lambda y, p: average_precision_score(y, p),
    "f1": lambda y, p: f1_score(y, p >= 0.5),
}


def paired_differences(report, models, reference, n_boot, seed=SEED, metric_funcs=None):
    """Pooled metric of each model minus the reference, paired bootstrap 95% CI.

    ``p_not_better`` is the share of resamples where the model does not beat
    the reference (a one-sided bootstrap p-value).
    """
    metric_funcs = METRIC_FUNCS if metric_funcs is None else metric_funcs
    y = report.y_true
    pos = list(report.classes).index(1)
    ref = report.scores[reference][:, pos]
    rng = np.random.default_rng(seed)
    draws = [rng.integers(len(y), size=len(y)) for _ in range(n_boot)]
    rows = []
    for model in models:
        p = report.scores[model][:, pos]
        for metric, f in metric_funcs.items():
            diff = f(y, p) - f(y, ref)
            boot = np.array([f(y[d], p[d]) - f(y[d], ref[d]) for d in draws])
            lo, hi = np.percentile(boot, [2.5, 97.5])
            rows.append({"model": model, "reference": reference, "metric": metric,
                         "difference": diff, "ci_low": lo, "ci_high": hi,
                         "p_not_better": float(np.mean(boot <= 0))})
    return pd.DataFrame(rows)


def frame_to_markdown(frame, digits=4):
    """Markdown table of a DataFrame (no tabulate dependency)."""
    def cell(v):
        return f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*Device.*")
    n_boot = args.n_bootstrap if args.n_bootstrap is not None else (200 if args.quick
                                                                       else 1000)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    prefix = "metabric_quick" if args.quick else "metabric"
    t_start = time.time()

    bunch = load_metabric(data_home=default_data_home(args.data_home),
                          modalities=("clinical", "genes"))
    X, y = bunch.data, bunch.target
    genes = bunch.feature_groups["genes"]
    clinical = bunch.feature_groups["clinical"]
    categorical = [c for c in clinical if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in clinical if c not in categorical]
    if args.quick:
        keep, _ = train_test_split(np.arange(len(y)), train_size=400, stratify=y,
                                   random_state=SEED)
        X, y = X.iloc[np.sort(keep)].reset_index(drop=True), y[np.sort(keep)]
    print(f"METABRIC Luminal vs Basal/Her2: {len(y)} patients "
          f"({int(y.sum())} Basal/Her2), {len(clinical)} clinical columns "
          f"({len(categorical)} categorical), {len(genes)} genes")
    print(f"machine: {platform.platform()}, python {platform.python_version()}, "
          f"torch {torch.__version__} with {torch.get_num_threads()} thread(s), "
          f"CUDA available: {torch.cuda.is_available()}")

    models, grids, modality_of = build_models(genes, numeric, categorical, args.quick)
    cv = StratifiedKFold(5, shuffle=True, random_state=SEED)
    reports, times, chosen = [], {}, {}
    for name, est in models.items():
        if name in args.skip:
            continue
        t0 = time.time()
        rep = evaluate({name: est}, X, y, cv=cv, scoring=SCORING, n_bootstrap=n_boot,
                       random_state=SEED, return_estimators=True)
        times[name] = time.time() - t0
        fold_ests = rep.estimators[name]
        rep.estimators = None
        if isinstance(est, GridSearchCV):
            chosen[name] = [e.best_params_ for e in fold_ests]
        reports.append(rep)
        means = rep.pivot().loc[name]
        print(f"  {name:<34s} {times[name]:7.1f} s   "
              + "  ".join(f"{m} {means[m]:.3f}" for m in rep.metrics), flush=True)
        if name in chosen:
            print(f"      chosen per outer fold (inner CV): {chosen[name]}")
    report = EvaluationReport.concat(reports)
    total = time.time() - t_start

    # which models are unimodal, and did fusion beat the best of them?
    unimodal = [m for m in report.models if m in modality_of]
    fusion = [m for m in report.models if m not in modality_of]
    table = report.pivot()
    best_uni = table.loc[unimodal, "average_precision"].idxmax()
    diffs = paired_differences(report, fusion, best_uni, n_boot)

    md = report.to_markdown(digits=3)
    base = pd.DataFrame([
        {"model": m, "metric": k, "README": v, "measured (fold mean)": table.loc[m, k]}
        for m, d in README_BASELINES.items() if m in table.index for k, v in d.items()])
    timing = pd.DataFrame({"model": list(times), "wall_s": [round(t, 1) for t in
                                                            times.values()]})
    tuning_note = (
        "Fusion hyperparameters of the '(tuned)' rows: nested CV - GridSearchCV "
        f"(inner StratifiedKFold({2 if args.quick else 3}, shuffle=True, random_state=1), "
        "scoring=average_precision) on each outer training fold; the outer test folds "
        "were never used to choose settings. Grids: "
        + "; ".join(f"{k}: {v}" for k, v in grids.items())
        + ". Every other model uses settings fixed before the run.")
    print("\n" + md)
    print(tuning_note)
    print("\nChosen settings per outer fold:")
    for k, v in chosen.items():
        print(f"  {k}: {v}")
    print(f"\nPooled out-of-fold difference vs the best single-modality model by "
          f"PR-AUC ({best_uni}), paired bootstrap 95% CI ({n_boot} resamples):")
    print(diffs.to_string(index=False, float_format="%.4f"))
    if len(base):
        print("\nData README baselines vs this run:")
        print(base.to_string(index=False, float_format="%.3f"))
    print("\nWall time per model (s):")
    print(timing.to_string(index=False))
    print(f"total wall time: {total:.1f} s")

    report.to_csv(out / f"{prefix}_summary.csv")
    report.to_csv(out / f"{prefix}_folds.csv", which="folds")
    report.plot_roc(path=out / f"{prefix}_roc.png",
                    title="METABRIC Luminal vs Basal/Her2, out-of-fold ROC")
    cmd = "python benchmarks/bench_fusion_metabric.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    with open(out / f"{prefix}.md", "w") as fh:
        fh.write(f"# METABRIC Luminal vs Basal/Her2: fusion benchmark\n\n"
                 f"Command: `{cmd.strip()}`  \n"
                 f"{len(y)} patients ({int(y.sum())} Basal/Her2); clinical: "
                 f"{len(clinical)} columns ({len(categorical)} categorical), genes: "
                 f"{len(genes)}; StratifiedKFold(5, shuffle=True, random_state=0).  \n"
                 f"Cells: fold mean ± std [95% bootstrap CI of the pooled out-of-fold "
                 f"metric, {n_boot} resamples].  \n"
                 f"Machine: {platform.platform()}, torch {torch.__version__}, "
                 f"{torch.get_num_threads()} torch thread(s), CUDA: "
                 f"{torch.cuda.is_available()}. Total wall time {total:.0f} s.\n\n")
        fh.write(md + "\n" + tuning_note + "\n\nChosen settings per outer fold:\n\n")
        for k, v in chosen.items():
            fh.write(f"- {k}: `{json.dumps(v)}`\n")
        fh.write(f"\nPooled out-of-fold difference vs the best single-modality model "
                 f"by PR-AUC (**{best_uni}**), paired bootstrap 95% CI:\n\n")
        fh.write(frame_to_markdown(diffs) + "\n\n")
        if len(base):
            fh.write("Data README baselines (its LR on 11 clinical columns; 15 here) vs "
                     "this run:\n\n" + frame_to_markdown(base, 3) + "\n")
        fh.write("Wall time per model (5 outer folds, incl. inner CV and bootstrap):\n\n")
        fh.write(frame_to_markdown(timing, 1) + "\n")
    diffs.to_csv(out / f"{prefix}_fusion_vs_best_single.csv", index=False)
    timing.to_csv(out / f"{prefix}_times.csv", index=False)
    print(f"written to {out}/{prefix}*")


if __name__ == "__main__":
    main()
