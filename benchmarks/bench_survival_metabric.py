"""Survival benchmark on METABRIC: overall survival from clinical data + genes.

Protocol: the 1,904 patients of ``load_metabric(task="overall_survival")``
(event = death from any cause, 1,103 events; time in months), the 15
clinical columns of the loader with ``include_treatment=True`` (its 13
baseline columns + chemotherapy and hormone_therapy) and the mRNA z-scores
of 489 genes. Five folds, ``StratifiedKFold(5, shuffle=True,
random_state=0)`` stratified on the event indicator, the SAME folds for
every model; Harrell's concordance index on each test fold, fold mean +- std, beside
Uno's concordance index (truncated at the last evaluation time) and the
integrated Brier score of the predicted survival functions (lower is better)
over the evaluation times that ``evaluate()`` chooses for these folds (the
10th..80th percentiles of the event times inside every fold's follow-up; the
censoring distribution from each training fold), and the wall time of fit +
predict over the five folds.

Models:

- scikit-survival baselines: ``CoxPHSurvivalAnalysis`` and
  ``RandomSurvivalForest`` on six clinical columns (age_at_diagnosis,
  tumor_size, tumor_stage, lymph_nodes_examined_positive,
  nottingham_prognostic_index, chemotherapy), median imputation and scaling
  in a Pipeline (fitted per fold); an elastic-net Cox
  (``CoxnetSurvivalAnalysis``, l1_ratio=0.5) on the 15 clinical columns
  (numbers imputed and scaled, categories one-hot) + 489 genes, whose alpha
  is chosen on each outer training fold by an inner 3-fold CV (Harrell's C)
  over 12 alphas from 0.5 down to 0.01.
- the library's survival networks with their DEFAULTS (nothing tuned; only
  ``impute="median"`` where the clinical columns hold NaN, which the
  estimators require): ``TabularMLPSurvival`` on clinical + genes,
  ``IntermediateFusionSurvival`` (both losses) and
  ``CrossAttentionFusionSurvival`` on the modalities
  ("clinical", TabularModality(clinical, impute="median")) and
  ("genes", TabularModality(genes)).
- beside the defaults, one tuned variant: ``IntermediateFusionSurvival``
  (Cox loss) whose (lr, weight_decay, max_epochs) is chosen among four
  settings by an inner validation split (20% of the outer training fold,
  stratified on the event, Harrell's C); the outer test fold is never used.

Run from the repository root::

    python benchmarks/bench_survival_metabric.py            # full run
    python benchmarks/bench_survival_metabric.py --quick    # smoke run, subsample

Writes ``survival_metabric_folds.csv`` (one row per model and fold),
``survival_metabric.csv`` (summary), ``survival_metabric.md`` and
``survival_metabric.json`` (settings, machine, choices of the tuned
variants) to ``--output-dir`` (default benchmarks/results).
"""

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sksurv.ensemble import RandomSurvivalForest
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    integrated_brier_score,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, markdown_table, write_csv, write_json  # noqa: E402

from skmultimodal import TabularModality  # noqa: E402
from skmultimodal.datasets import load_metabric  # noqa: E402
from skmultimodal.model_selection._survival_metrics import (  # noqa: E402
    _truncate,
    survival_time_grid,
)
from skmultimodal.survival import (  # noqa: E402
    CrossAttentionFusionSurvival,
    IntermediateFusionSurvival,
    TabularMLPSurvival,
)

SEED = 0
SIX_CLINICAL = ["age_at_diagnosis", "tumor_size", "tumor_stage",
                "lymph_nodes_examined_positive", "nottingham_prognostic_index",
                "chemotherapy"]
COXNET_ALPHAS = np.geomspace(0.5, 0.01, 12)
# Settings the tuned variant chooses from (the first is the default).
TUNED_GRID = [
    {"lr": [1e-3], "weight_decay": [1.0], "max_epochs": [30]},   # defaults
    {"lr": [3e-4], "weight_decay": [1.0], "max_epochs": [30]},
    {"lr": [1e-3], "weight_decay": [3.0], "max_epochs": [30]},
    {"lr": [1e-3], "weight_decay": [1.0], "max_epochs": [50]},
]
# Figures measured earlier on this machine with the same protocol.
PREVIOUS = {"CoxPH, 6 clinical": 0.660, "RSF, 6 clinical": 0.673,
            "Elastic-net Cox, clinical + genes": 0.670}


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 400 patients, 3 epochs, small forest and grid")
    p.add_argument("--output-dir", type=Path, default=here / "results")
    p.add_argument("--torch-threads", type=int, default=1,
                   help="torch intra-op threads (1 is faster on a busy 2-core machine)")
    p.add_argument("--skip", nargs="*", default=[], help="model names to leave out")
    return p.parse_args(argv)


def harrell(y, risk):
    return concordance_index_censored(y["event"], y["time"], risk)[0]


def uno(y_train, y_test, risk, times):
    return concordance_index_ipcw(y_train, _truncate(y_test, y_train), risk,
                                  tau=times[-1])[0]


def ibs(est, y_train, y_test, X_test, times):
    """Integrated Brier score of the survival functions; NaN without them."""
    model = getattr(est, "best_estimator_", est)
    if isinstance(model, CoxnetCV):
        functions = model.model_.predict_survival_function(X_test, alpha=model.alpha_)
    elif hasattr(model, "predict_survival_function"):
        functions = model.predict_survival_function(X_test)
    else:
        return float("nan")
    probs = np.array([[fn(t) for t in times] for fn in functions])
    return integrated_brier_score(y_train, _truncate(y_test, y_train), probs, times)


def clinical_preprocessor(numeric, categorical):
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
    ])


def build_models(clinical, numeric, categorical, genes, quick):
    small = dict(max_epochs=3) if quick else {}

    def modalities():
        return [("clinical", TabularModality(clinical, impute="median")),
                ("genes", TabularModality(genes))]

    six = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    coxnet = make_pipeline(
        ColumnTransformer([("clinical", clinical_preprocessor(numeric, categorical), clinical),
                           ("genes", StandardScaler(), genes)]),
        CoxnetSurvivalAnalysis(l1_ratio=0.5, max_iter=100_000, fit_baseline_model=True))
    alphas = np.geomspace(0.5, 0.1, 3) if quick else COXNET_ALPHAS
    inner = StratifiedKFold(2 if quick else 3, shuffle=True, random_state=1)
    grid = TUNED_GRID[:2] if quick else TUNED_GRID
    if quick:
        grid = [{**g, "max_epochs": [2]} for g in grid]
    models = {
        "CoxPH, 6 clinical": (make_pipeline(clone(six), CoxPHSurvivalAnalysis()),
                              SIX_CLINICAL),
        "RSF, 6 clinical": (make_pipeline(clone(six), RandomSurvivalForest(
            n_estimators=20 if quick else 200, min_samples_leaf=15, max_features="sqrt",
            n_jobs=2, random_state=SEED)), SIX_CLINICAL),
        "Elastic-net Cox, clinical + genes": (CoxnetCV(coxnet, alphas, inner), None),
        "TabularMLPSurvival (defaults), clinical + genes": (TabularMLPSurvival(
            clinical + genes, impute="median", random_state=SEED, **small), None),
        "IntermediateFusionSurvival cox (defaults)": (IntermediateFusionSurvival(
            modalities(), random_state=SEED, **small), None),
        "IntermediateFusionSurvival discrete_time (defaults)": (IntermediateFusionSurvival(
            modalities(), loss="discrete_time", random_state=SEED, **small), None),
        "CrossAttentionFusionSurvival cox (defaults)": (CrossAttentionFusionSurvival(
            modalities(), random_state=SEED, **small), None),
        "IntermediateFusionSurvival cox (tuned on inner split)": (GridSearchCV(
            IntermediateFusionSurvival(modalities(), random_state=SEED), grid,
            cv=EventSplit(StratifiedShuffleSplit(1, test_size=0.2, random_state=1)), n_jobs=1,
            error_score="raise"), None),
    }
    return models


class EventSplit:
    """A scikit-learn splitter stratifying on the event indicator of a survival y."""

    def __init__(self, splitter):
        self.splitter = splitter

    def split(self, X, y, groups=None):
        return self.splitter.split(X, y["event"])

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.splitter.get_n_splits()


class CoxnetCV(BaseEstimator):
    """Elastic-net Cox whose alpha is chosen by an inner CV on the training rows.

    Each inner fit computes the whole (warm-started) path of ``alphas``; the
    alpha of the best mean inner Harrell's C is used to predict from a path
    fitted on all the training rows.
    """

    def __init__(self, pipeline, alphas, cv):
        self.pipeline = pipeline
        self.alphas = alphas
        self.cv = cv

    def _path(self, X, y):
        model = clone(self.pipeline).set_params(
            coxnetsurvivalanalysis__alphas=list(self.alphas))
        return model.fit(X, y)

    def fit(self, X, y):
        scores = np.zeros(len(self.alphas))
        for train, test in self.cv.split(X, y["event"]):
            path = self._path(X.iloc[train], y[train])
            for i, a in enumerate(self.alphas):
                scores[i] += harrell(y[test], path.predict(X.iloc[test], alpha=a))
        self.alpha_ = float(self.alphas[int(np.argmax(scores))])
        self.inner_scores_ = scores / self.cv.get_n_splits()
        self.model_ = self._path(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X, alpha=self.alpha_)


def chosen(model):
    """The inner-CV choice of a tuned model, as a short string."""
    if isinstance(model, CoxnetCV):
        return f"alpha={model.alpha_:.3g}"
    if not isinstance(model, GridSearchCV):
        return ""
    return ", ".join(f"{k.split('__')[-1]}={v[0] if isinstance(v, list) else v:g}"
                     for k, v in model.best_params_.items())


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    bunch = load_metabric(task="overall_survival", modalities=("clinical", "genes"),
                          include_treatment=True)
    X, y = bunch.data, bunch.target
    clinical, genes = bunch.feature_groups["clinical"], bunch.feature_groups["genes"]
    categorical = [c for c in clinical if X[c].dtype.kind not in "biuf"]
    numeric = [c for c in clinical if c not in categorical]
    if args.quick:
        keep = StratifiedShuffleSplit(1, train_size=400, random_state=SEED)
        rows, _ = next(keep.split(X, y["event"]))
        rows = np.sort(rows)
        X, y = X.iloc[rows].reset_index(drop=True), y[rows]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(X, y["event"]))
    times = survival_time_grid(y, folds)
    print(f"METABRIC overall survival: {len(y)} patients, {int(y['event'].sum())} events; "
          f"{len(clinical)} clinical columns ({len(categorical)} categorical), "
          f"{len(genes)} genes; 5 folds" + (" [QUICK]" if args.quick else ""), flush=True)

    models = build_models(clinical, numeric, categorical, genes, args.quick)
    fold_rows, summary = [], []
    total = time.perf_counter()
    for name, (model, columns) in models.items():
        if name in args.skip:
            continue
        scores, seconds, choices, unos, ibss = [], [], [], [], []
        for k, (train, test) in enumerate(folds):
            Xtr, Xte = X.iloc[train], X.iloc[test]
            if columns is not None:
                Xtr, Xte = Xtr[columns], Xte[columns]
            est = clone(model)
            start = time.perf_counter()
            est.fit(Xtr, y[train])
            risk = est.predict(Xte)
            seconds.append(time.perf_counter() - start)
            scores.append(harrell(y[test], risk))
            unos.append(uno(y[train], y[test], risk, times))
            ibss.append(ibs(est, y[train], y[test], Xte, times))
            choices.append(chosen(est))
            fold_rows.append({"model": name, "fold": k, "c_index": round(scores[-1], 4),
                              "uno_c": round(unos[-1], 4), "ibs": round(ibss[-1], 4),
                              "seconds": round(seconds[-1], 2), "chosen": choices[-1]})
            print(f"  {name} fold {k}: C = {scores[-1]:.3f}, Uno {unos[-1]:.3f}, "
                  f"IBS {ibss[-1]:.3f} ({seconds[-1]:.1f} s)"
                  + (f" [{choices[-1]}]" if choices[-1] else ""), flush=True)
        row = {"model": name, "c_index_mean": float(np.mean(scores)),
               "c_index_std": float(np.std(scores)), "min": float(np.min(scores)),
               "max": float(np.max(scores)), "seconds": float(np.sum(seconds)),
               "uno_mean": float(np.mean(unos)), "uno_std": float(np.std(unos)),
               "ibs_mean": float(np.mean(ibss)), "ibs_std": float(np.std(ibss)),
               "previous": PREVIOUS.get(name), "chosen": "; ".join(c for c in choices if c)}
        summary.append(row)
        print(f"{name}: C = {row['c_index_mean']:.3f} +- {row['c_index_std']:.3f} "
              f"({row['seconds']:.0f} s)", flush=True)
    total = time.perf_counter() - total

    best_base = max((r for r in summary if r["model"] in PREVIOUS),
                    key=lambda r: r["c_index_mean"], default=None)
    for r in summary:
        r["c_index"] = f"{r['c_index_mean']:.3f} ± {r['c_index_std']:.3f}"
        r["range"] = f"{r['min']:.3f}–{r['max']:.3f}"
        r["uno"] = f"{r['uno_mean']:.3f} ± {r['uno_std']:.3f}"
        r["ibs"] = ("n/a" if np.isnan(r["ibs_mean"])
                    else f"{r['ibs_mean']:.3f} ± {r['ibs_std']:.3f}")
        if best_base is not None:
            r["vs_best_baseline"] = f"{r['c_index_mean'] - best_base['c_index_mean']:+.3f}"
    table = markdown_table(summary, [("model", "Model", None), ("c_index", "Harrell's C", None),
                                     ("range", "fold range", None),
                                     ("uno", "Uno's C", None), ("ibs", "IBS", None),
                                     ("vs_best_baseline", "vs best baseline", None),
                                     ("seconds", "wall time (s, 5 folds)", 0)])
    suffix = "_quick" if args.quick else ""
    out = args.output_dir
    write_csv(fold_rows, out / f"survival_metabric{suffix}_folds.csv")
    write_csv([{k: r[k] for k in ("model", "c_index_mean", "c_index_std", "min", "max",
                                  "uno_mean", "uno_std", "ibs_mean", "ibs_std",
                                  "seconds", "previous", "chosen")} for r in summary],
              out / f"survival_metabric{suffix}.csv")
    command = "python benchmarks/bench_survival_metabric.py" + (" --quick" if args.quick else "")
    md = (f"# METABRIC overall survival, 5-fold CV{' (QUICK smoke run)' if args.quick else ''}"
          f"\n\n{len(y)} patients, {int(y['event'].sum())} deaths; StratifiedKFold(5, "
          f"shuffle=True, random_state={SEED}) on the event, the same folds for every "
          f"model. Harrell's C, Uno's C and the integrated Brier score (IBS, lower is "
          f"better) on the test folds, mean ± std over folds; evaluation times "
          f"{', '.join(f'{t:.0f}' for t in times)} months. Total "
          f"{total / 60:.1f} min on {platform.machine()} ({args.torch_threads} torch "
          f"thread(s)).\n\nCommand: `{command}`\n\n{table}\n")
    (out / f"survival_metabric{suffix}.md").write_text(md)
    write_json({"command": command, "quick": args.quick, "n_patients": len(y),
                "n_events": int(y["event"].sum()), "clinical": clinical,
                "six_clinical": SIX_CLINICAL, "n_genes": len(genes),
                "coxnet_alphas": COXNET_ALPHAS.tolist(), "tuned_grid": TUNED_GRID,
                "evaluation_times": times.tolist(),
                "total_seconds": total, "environment": {
                    k: v for k, v in os.environ.items() if k == "SKMULTIMODAL_DATA"},
                "machine": machine_info(args.torch_threads), "summary": summary},
               out / f"survival_metabric{suffix}.json")
    print()
    print(md)
    return summary


if __name__ == "__main__":
    main()
