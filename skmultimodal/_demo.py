"""The ``demo`` command: unimodal baselines and fusion side by side, honestly scored.

``python -m skmultimodal demo`` runs, in this order:

1. synthetic image + tabular data from
   :func:`~skmultimodal.datasets.make_multimodal_classification`, with the
   class signal split between the modalities and several samples per patient,
   cross-validated with :class:`~sklearn.model_selection.StratifiedGroupKFold`
   on the patient groups: an image CNN, a tabular MLP, a tabular logistic
   regression, early fusion (image embeddings beside the tabular columns in a
   scikit-learn ``ColumnTransformer``) and, when available, intermediate
   fusion;
2. when the public data sets are found under the data home: BreastMNIST
   (official train split -> test split) and METABRIC Luminal vs Basal/Her2 on
   the 489 genes (stratified k-fold);
3. a results table (mean and standard deviation across folds), written as
   ``results.csv`` and ``results.md``, plus ROC and precision-recall curves
   built from out-of-fold predictions, as PNG files.

Every figure printed or written is computed here; nothing is typed in.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .datasets import get_data_home, load_breastmnist, load_metabric
from .datasets import make_multimodal_classification
from .estimators import ImageClassifier, ImageEmbedder, TabularMLPClassifier
from .modalities import ImageModality, TabularModality

__all__ = ["DemoConfig", "CONFIGS", "METRICS", "run_demo", "score_binary"]

#: Metrics of the results table, in column order.
METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "f1", "average_precision")
_METRIC_HEADERS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced acc.",
    "roc_auc": "ROC AUC",
    "f1": "F1",
    "average_precision": "PR-AUC (AP)",
}
MAJORITY = "Majority class"
_NOTES = {
    "synthetic": "synthetic: make_multimodal_classification, the class signal split "
                 "between image and table, several samples per patient; folds grouped "
                 "by patient; positive class = 1.",
    "breastmnist": "breastmnist: trained on the official train split, scored on the "
                   "test split; positive class = malignant (label 0).",
    "metabric": "metabric: Luminal (LumA + LumB) vs Basal/Her2 on the 489 mRNA z-scores; "
                "positive class = Basal/Her2.",
}


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one run of the demo."""

    n_samples: int  # synthetic rows
    n_patients: int  # synthetic patients (groups)
    image_size: int  # synthetic image side in pixels
    n_splits: int  # folds of the synthetic and METABRIC cross-validation
    # Epochs; None keeps the estimator's default max_epochs.
    image_epochs: int | None  # ImageClassifier on synthetic data
    tabular_epochs: int | None  # TabularMLPClassifier on synthetic data
    fusion_epochs: int | None  # IntermediateFusionClassifier
    breastmnist_epochs: int | None
    metabric_epochs: int | None


CONFIGS = {
    "full": DemoConfig(
        n_samples=600, n_patients=200, image_size=24, n_splits=5, image_epochs=15,
        tabular_epochs=None, fusion_epochs=15, breastmnist_epochs=30, metabric_epochs=None,
    ),
    "quick": DemoConfig(
        n_samples=240, n_patients=80, image_size=16, n_splits=3, image_epochs=8,
        tabular_epochs=30, fusion_epochs=8, breastmnist_epochs=15, metabric_epochs=20,
    ),
}


def _epochs(n):
    return {} if n is None else {"max_epochs": n}


def _log(message, verbose):
    if verbose:
        print(message, flush=True)


def score_binary(y_true, y_pred, score, pos_label):
    """The demo's metrics of one binary test set.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    score : array-like of shape (n_samples,)
        Predicted probability of ``pos_label``.
    pos_label : label
        The positive class, for F1 and average precision (ROC AUC and the
        accuracies do not depend on it).

    Returns
    -------
    scores : dict
        Metric name -> value, for the names in :data:`METRICS`.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    score = np.asarray(score, dtype=float)
    positive = y_true == pos_label
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "roc_auc": roc_auc_score(positive, score),
        "f1": f1_score(positive, y_pred == pos_label, zero_division=0.0),
        "average_precision": average_precision_score(positive, score),
    }


def _predict(estimator, X, pos_label):
    """Predicted labels and probability of ``pos_label``, from one predict_proba call."""
    proba = estimator.predict_proba(X)
    classes = np.asarray(estimator.classes_)
    return classes[np.argmax(proba, axis=1)], proba[:, list(classes).index(pos_label)]


def _take(X, rows):
    return X.iloc[rows] if isinstance(X, (pd.DataFrame, pd.Series)) else X[rows]


def _evaluate(name, estimator, splits, X, y, pos_label, verbose):
    """Fit ``estimator`` on each split; return (fold scores, out-of-fold scores, seconds)."""
    oof = np.full(len(y), np.nan)
    folds = []
    start = time.perf_counter()
    for k, (train, test) in enumerate(splits, start=1):
        t0 = time.perf_counter()
        est = clone(estimator).fit(_take(X, train), y[train])
        y_pred, score = _predict(est, _take(X, test), pos_label)
        oof[test] = score
        folds.append(score_binary(y[test], y_pred, score, pos_label))
        if len(splits) > 1:
            _log(f"    {name}: fold {k}/{len(splits)} in {time.perf_counter() - t0:.1f} s, "
                 f"ROC AUC {folds[-1]['roc_auc']:.3f}", verbose)
    seconds = time.perf_counter() - start
    return folds, oof, seconds


def _summary_row(dataset, protocol, name, folds, seconds):
    row = {"dataset": dataset, "protocol": protocol, "model": name, "n_splits": len(folds)}
    for metric in METRICS:
        values = np.array([f[metric] for f in folds], dtype=float)
        row[f"{metric}_mean"] = values.mean()
        row[f"{metric}_std"] = values.std() if len(values) > 1 else np.nan
    row["fit_predict_seconds"] = seconds
    return row


def _run_models(dataset, protocol, models, splits, X, y, pos_label, verbose):
    """Evaluate every model; return (table rows, {name: out-of-fold scores})."""
    rows, curves = [], {}
    for name, estimator in models.items():
        _log(f"  [{dataset}] {name} ...", verbose)
        folds, oof, seconds = _evaluate(name, estimator, splits, X, y, pos_label, verbose)
        rows.append(_summary_row(dataset, protocol, name, folds, seconds))
        summary = ", ".join(
            f"{_METRIC_HEADERS[m]} {rows[-1][m + '_mean']:.3f}" for m in ("accuracy", "roc_auc")
        )
        _log(f"  [{dataset}] {name}: {summary} ({seconds:.1f} s)", verbose)
        if name != MAJORITY:
            curves[name] = oof
    return rows, curves


def _plot_curves(key, title, y_true, curves, pos_label, output_dir, source):
    """Write ``roc_<key>.png`` and ``pr_<key>.png``; return their paths."""
    # A bare Figure draws with Agg without touching pyplot's global backend.
    from matplotlib.figure import Figure
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    y_true = np.asarray(y_true)
    paths = []
    for kind, Display in (("roc", RocCurveDisplay), ("pr", PrecisionRecallDisplay)):
        fig = Figure(figsize=(6.4, 5.2))
        ax = fig.subplots()
        for i, (name, score) in enumerate(curves.items()):
            keep = ~np.isnan(score)
            Display.from_predictions(
                y_true[keep], score[keep], pos_label=pos_label, name=name, ax=ax,
                plot_chance_level=i == len(curves) - 1,
            )
        what = "ROC" if kind == "roc" else "Precision-recall"
        ax.set_title(f"{what} curves, {title}\n({source})", fontsize=10)
        ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")
        fig.tight_layout()
        path = Path(output_dir) / f"{kind}_{key}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths


def _intermediate_fusion(tab_cols, image_size, epochs, random_state):
    """An IntermediateFusionClassifier when ``skmultimodal.fusion`` provides one."""
    try:
        from .fusion import IntermediateFusionClassifier
    except ImportError:
        return None
    clf = IntermediateFusionClassifier(
        modalities=[
            ("image", ImageModality("image", backbone="simple_cnn", image_size=image_size)),
            ("tab", TabularModality(tab_cols)),
        ]
    )
    wanted = {"random_state": random_state, **_epochs(epochs)}
    params = clf.get_params(deep=False)
    return clf.set_params(**{k: v for k, v in wanted.items() if k in params})


# -- the three data sets ------------------------------------------------------
def _synthetic(cfg, random_state, verbose):
    X, y = make_multimodal_classification(
        cfg.n_samples, image_size=cfg.image_size, n_features=10, n_informative=4,
        image_share=0.5, n_patients=cfg.n_patients, random_state=random_state,
    )
    groups = X["patient_id"].to_numpy()
    tab_cols = [c for c in X.columns if c.startswith("tab_")]
    size = cfg.image_size
    models = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        "ImageClassifier (image)": ImageClassifier(
            column="image", backbone="simple_cnn", image_size=size,
            random_state=random_state, **_epochs(cfg.image_epochs),
        ),
        "TabularMLPClassifier (tabular)": TabularMLPClassifier(
            tab_cols, random_state=random_state, **_epochs(cfg.tabular_epochs),
        ),
        "LogisticRegression (tabular)": make_pipeline(
            ColumnTransformer([("tab", StandardScaler(), tab_cols)]),
            LogisticRegression(max_iter=1000),
        ),
        "Early fusion: ImageEmbedder + tabular -> LogisticRegression": make_pipeline(
            ColumnTransformer([
                ("img", ImageEmbedder(column="image", backbone="simple_cnn",
                                      image_size=size, random_state=0), ["image"]),
                ("tab", "passthrough", tab_cols),
            ]),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
    }
    fusion = _intermediate_fusion(tab_cols, size, cfg.fusion_epochs, random_state)
    if fusion is None:
        _log("  (skmultimodal.fusion.IntermediateFusionClassifier not available: skipped)",
             verbose)
    else:
        models["IntermediateFusionClassifier (image + tabular)"] = fusion
    cv = StratifiedGroupKFold(cfg.n_splits, shuffle=True, random_state=random_state)
    splits = list(cv.split(X, y, groups))
    n_patients = len(np.unique(groups))
    _log(f"[synthetic] {len(y)} samples of {n_patients} patients, {size}x{size} images "
         f"+ {len(tab_cols)} tabular columns, class 1 rate {np.mean(y == 1):.2f}; "
         f"StratifiedGroupKFold({cfg.n_splits}) on patient_id", verbose)
    protocol = f"StratifiedGroupKFold({cfg.n_splits}) on patients"
    rows, curves = _run_models("synthetic", protocol, models, splits, X, y, 1, verbose)
    return rows, curves, y, 1, "synthetic image + tabular (positive class 1)"


def _breastmnist(cfg, data_home, random_state, verbose):
    train = load_breastmnist(data_home=data_home, split="train")
    test = load_breastmnist(data_home=data_home, split="test")
    X = pd.concat([train.data, test.data], ignore_index=True)
    y = np.concatenate([train.target, test.target])
    n_train = len(train.target)
    splits = [(np.arange(n_train), np.arange(n_train, len(y)))]
    pos_label = 0  # malignant
    models = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        "ImageClassifier (simple_cnn, augment)": ImageClassifier(
            column="image", backbone="simple_cnn", image_size=28, channels=1,
            augment=True, random_state=random_state, **_epochs(cfg.breastmnist_epochs),
        ),
    }
    majority = np.mean(test.target == np.bincount(train.target).argmax())
    _log(f"[breastmnist] train {n_train} / test {len(test.target)} images (28x28); "
         f"majority-class test accuracy {majority:.3f}; positive class = malignant",
         verbose)
    rows, curves = _run_models("breastmnist", "official train -> test split", models,
                               splits, X, y, pos_label, verbose)
    test_rows = splits[0][1]
    curves = {name: score[test_rows] for name, score in curves.items()}
    return rows, curves, y[test_rows], pos_label, "BreastMNIST test split (positive: malignant)"


def _metabric(cfg, data_home, random_state, verbose):
    bunch = load_metabric(data_home=data_home, task="luminal_vs_basal_her2",
                          modalities=("genes",))
    genes = bunch.feature_groups["genes"]
    X, y = bunch.data, bunch.target
    models = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        "TabularMLPClassifier (genes)": TabularMLPClassifier(
            genes, random_state=random_state, **_epochs(cfg.metabric_epochs),
        ),
        "LogisticRegression (genes)": make_pipeline(
            ColumnTransformer([("genes", StandardScaler(), genes)]),
            LogisticRegression(max_iter=1000),
        ),
    }
    cv = StratifiedKFold(cfg.n_splits, shuffle=True, random_state=random_state)
    splits = list(cv.split(X, y))
    _log(f"[metabric] {len(y)} patients x {len(genes)} genes, Basal/Her2 rate "
         f"{np.mean(y == 1):.3f}; StratifiedKFold({cfg.n_splits})", verbose)
    rows, curves = _run_models("metabric", f"StratifiedKFold({cfg.n_splits})", models,
                               splits, X, y, 1, verbose)
    return rows, curves, y, 1, "METABRIC Luminal vs Basal/Her2 (positive: Basal/Her2)"


# -- output ---------------------------------------------------------------------
def _format(mean, std):
    if np.isnan(mean):
        return "-"
    return f"{mean:.3f}" if np.isnan(std) else f"{mean:.3f} ± {std:.3f}"


def format_table(results):
    """Return the results as a Markdown table of "mean ± std" cells."""
    header = ["dataset", "model", "protocol"] + [_METRIC_HEADERS[m] for m in METRICS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in results.iterrows():
        cells = [row["dataset"], row["model"], row["protocol"]] + [
            _format(row[f"{m}_mean"], row[f"{m}_std"]) for m in METRICS
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _write_markdown(path, results, mode, notes):
    text = [
        f"# skmultimodal demo results ({mode} run)",
        "",
        "Mean ± standard deviation across folds (a single value: one train/test split). "
        "Predicted class: the most probable one. ROC and PR curves pool the out-of-fold "
        "predictions of all folds, so their AUC can differ from the mean of the folds.",
        "",
        format_table(results),
        "",
    ]
    text += [f"- {n}" for n in notes]
    Path(path).write_text("\n".join(text) + "\n", encoding="utf-8")


def _real_data_present(data_home):
    home = get_data_home(data_home)
    return {
        "breastmnist": (home / "breastmnist" / "breastmnist.npz").is_file(),
        "metabric": (home / "metabric" / "METABRIC_RNA_Mutation.csv.gz").is_file(),
    }, home


def run_demo(output_dir="skmultimodal-results", *, quick=False, data_home=None,
             random_state=0, size=None, real_data=True, verbose=True):
    """Run the demo and write its results.

    Parameters
    ----------
    output_dir : str or path-like, default="skmultimodal-results"
        Folder receiving ``results.csv``, ``results.md`` and the curves
        (``roc_<dataset>.png``, ``pr_<dataset>.png``); created if needed.
    quick : bool, default=False
        Small sizes, few epochs and 3 folds (a minute or two on 2 CPU cores).
    data_home : str or path-like, default=None
        Folder of the public data sets (see
        :func:`~skmultimodal.datasets.get_data_home`). The real-data parts
        run for the data sets found there.
    random_state : int, default=0
        Seed of the synthetic data, the splits and the networks.
    size : {"full", "quick"}, default=None
        Overrides ``quick`` when given.
    real_data : bool, default=True
        Set to False to use synthetic data only.
    verbose : bool, default=True
        Print progress and the table.

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, model): ``<metric>_mean`` and ``<metric>_std``
        for the metrics in :data:`METRICS`, ``n_splits`` and the seconds spent.
    """
    mode = size or ("quick" if quick else "full")
    if mode not in CONFIGS:
        raise ValueError(f"size={size!r} must be one of {sorted(CONFIGS)} or None.")
    cfg = CONFIGS[mode]
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _log(f"skmultimodal demo ({mode} run), random_state={random_state}", verbose)

    present, home = _real_data_present(data_home) if real_data else ({}, None)
    parts = [("synthetic", lambda: _synthetic(cfg, random_state, verbose))]
    if present.get("breastmnist"):
        parts.append(("breastmnist", lambda: _breastmnist(cfg, home, random_state, verbose)))
    if present.get("metabric"):
        parts.append(("metabric", lambda: _metabric(cfg, home, random_state, verbose)))
    notes = []
    if real_data and not any(present.values()):
        notes.append(
            f"No public data set found under {home}: synthetic data only (set "
            "SKMULTIMODAL_DATA or --data-home to the folder holding breastmnist/ "
            "and metabric/)."
        )
        _log(notes[-1], verbose)

    all_rows, figures = [], []
    for key, part in parts:
        rows, curves, y_curve, pos_label, title = part()
        all_rows += rows
        source = ("test-split predictions" if key == "breastmnist"
                  else "out-of-fold predictions of all folds pooled")
        figures += _plot_curves(key, title, y_curve, curves, pos_label, output_dir, source)

    results = pd.DataFrame(all_rows)
    results.to_csv(output_dir / "results.csv", index=False)
    notes += [_NOTES[key] for key, _ in parts]
    _write_markdown(output_dir / "results.md", results, mode, notes)
    elapsed = time.perf_counter() - start
    if verbose:
        print()
        print(format_table(results))
        print()
        print(f"Finished in {elapsed:.0f} s. Wrote results.csv, results.md and "
              f"{len(figures)} figures to:")
        print(output_dir.resolve())
    return results
