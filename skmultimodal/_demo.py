"""The ``demo`` command: unimodal baselines and fusion side by side, honestly scored.

``python -m skmultimodal demo`` runs, in this order:

1. synthetic image + tabular data from
   :func:`~skmultimodal.datasets.make_multimodal_classification`, with the
   class signal split between the modalities and several samples per patient,
   cross-validated by :func:`~skmultimodal.model_selection.evaluate` on
   patient-grouped folds: an image CNN, a tabular MLP, a tabular logistic
   regression, early fusion (image embeddings beside the tabular columns in a
   scikit-learn ``ColumnTransformer``) and, when available, intermediate
   fusion;
2. when the public data sets are found under the data home: BreastMNIST
   (official train split -> test split, scored by the scorers of
   :func:`~skmultimodal.metrics.get_scorers`) and METABRIC Luminal vs
   Basal/Her2 on the 489 genes (stratified k-fold, by ``evaluate``);
3. a results table (mean and standard deviation across folds, bootstrap
   interval of the pooled out-of-fold metric), written as ``results.csv`` and
   ``results.md``, plus ROC and precision-recall curves as PNG files.

Every figure printed or written is computed here; nothing is typed in.
"""

import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .datasets import get_data_home, load_breastmnist, load_metabric, make_multimodal_classification
from .estimators import ImageClassifier, ImageEmbedder, TabularMLPClassifier
from .metrics import get_scorers, plot_pr_curves, plot_roc_curves
from .modalities import ImageModality, TabularModality
from .model_selection import evaluate

__all__ = ["DemoConfig", "CONFIGS", "METRICS", "check_output_dir", "format_table",
           "output_files", "run_demo", "score_split"]

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
N_BOOTSTRAP = 200  # resamples of the confidence intervals
_NOTES = {
    "synthetic": "synthetic: make_multimodal_classification, the class signal split "
                 "between image and table, several samples per patient; folds grouped "
                 "by patient, bootstrap over patients; positive class = 1.",
    "breastmnist": "breastmnist: trained on the official train split, scored on the "
                   "test split (no interval); positive class = malignant (label 0 of "
                   "the file, relabelled 1).",
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


def score_split(models, X_train, y_train, X_test, y_test):
    """Fit every model on one training split and score it on the test split.

    Parameters
    ----------
    models : dict of str to estimator
    X_train, y_train, X_test, y_test : the two splits
        The positive class of the binary metrics is the greater label.

    Returns
    -------
    summary : pandas.DataFrame
        The layout of :attr:`~skmultimodal.model_selection.EvaluationReport.summary`
        for one split: ``mean`` and ``pooled`` are the test score, ``std`` and
        the interval are NaN, ``n_folds`` is 1.
    proba : dict of str to ndarray
        Test-split ``predict_proba`` of each model (columns: sorted classes).
    """
    scorers = get_scorers(list(METRICS), labels=np.unique(y_train))
    rows, proba = [], {}
    for name, model in models.items():
        fitted = clone(model).fit(X_train, y_train)
        for metric, scorer in scorers.items():
            value = float(scorer(fitted, X_test, y_test))
            rows.append({"model": name, "metric": metric, "mean": value, "std": math.nan,
                         "pooled": value, "ci_low": math.nan, "ci_high": math.nan,
                         "n_folds": 1})
        proba[name] = fitted.predict_proba(X_test)
    return pd.DataFrame(rows), proba


def _cross_validate(models, X, y, groups, n_splits, random_state, verbose):
    """Run :func:`evaluate`; return (protocol, summary, y_true, out-of-fold scores)."""
    report = evaluate(models, X, y, groups=groups, cv=n_splits, scoring=list(METRICS),
                      n_bootstrap=N_BOOTSTRAP, random_state=random_state,
                      bootstrap_groups=groups is not None, verbose=int(verbose))
    protocol = f"{type(report.cv).__name__}({n_splits})"
    if groups is not None:
        protocol += " on patients"
    curves = {m: report.scores[m] for m in report.models if m != MAJORITY}
    return protocol, report.summary, report.y_true, curves


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


# -- the three data sets: each returns (protocol, summary, y_true, curves, title) -----
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
        # the generator's blobs sit at fixed places: flips and shifts would hide them
        "ImageClassifier (image)": ImageClassifier(
            column="image", backbone="simple_cnn", image_size=size, augment=False,
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
    _log(f"[synthetic] {len(y)} samples of {len(np.unique(groups))} patients, "
         f"{size}x{size} images + {len(tab_cols)} tabular columns, class 1 rate "
         f"{np.mean(y == 1):.2f}; {cfg.n_splits} folds grouped by patient_id", verbose)
    return (*_cross_validate(models, X, y, groups, cfg.n_splits, random_state, verbose),
            "synthetic image + tabular (positive class 1)")


def _breastmnist(cfg, data_home, random_state, verbose):
    train = load_breastmnist(data_home=data_home, split="train")
    test = load_breastmnist(data_home=data_home, split="test")
    # 1 = malignant (label 0 of the file): the positive class of the scorers.
    y_train, y_test = (train.target == 0).astype(int), (test.target == 0).astype(int)
    models = {
        MAJORITY: DummyClassifier(strategy="most_frequent"),
        "ImageClassifier (simple_cnn, augment)": ImageClassifier(
            column="image", backbone="simple_cnn", image_size=28, channels=1,
            augment=True, random_state=random_state, **_epochs(cfg.breastmnist_epochs),
        ),
    }
    majority = np.mean(y_test == np.bincount(y_train).argmax())
    _log(f"[breastmnist] train {len(y_train)} / test {len(y_test)} images (28x28); "
         f"majority-class test accuracy {majority:.3f}; positive class = malignant",
         verbose)
    summary, proba = score_split(models, train.data, y_train, test.data, y_test)
    del proba[MAJORITY]
    return ("official train -> test split", summary, y_test, proba,
            "BreastMNIST test split (positive class 1 = malignant)")


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
    _log(f"[metabric] {len(y)} patients x {len(genes)} genes, Basal/Her2 rate "
         f"{np.mean(y == 1):.3f}; {cfg.n_splits} stratified folds", verbose)
    return (*_cross_validate(models, X, y, None, cfg.n_splits, random_state, verbose),
            "METABRIC Luminal vs Basal/Her2 (positive class 1 = Basal/Her2)")


# -- output ---------------------------------------------------------------------
def format_table(results, *, ci=False):
    """Markdown table of the results: a row per (dataset, model), a column per metric.

    Cells read ``mean ± std`` across folds (one value for a single split),
    followed with ``ci=True`` by the bootstrap interval ``[ci_low, ci_high]``.
    """
    header = ["dataset", "model", "protocol"] + [_METRIC_HEADERS[m] for m in METRICS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_key = results.set_index(["dataset", "model", "metric"])
    for dataset, model, protocol in results[["dataset", "model", "protocol"]] \
            .drop_duplicates().itertuples(index=False):
        cells = [dataset, model, protocol]
        for metric in METRICS:
            r = by_key.loc[(dataset, model, metric)]
            cell = f"{r['mean']:.3f}" + ("" if np.isnan(r["std"]) else f" ± {r['std']:.3f}")
            if ci and not np.isnan(r["ci_low"]):
                cell += f" [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_markdown(path, results, mode, notes):
    text = [
        f"# skmultimodal demo results ({mode} run)",
        "",
        "Mean ± standard deviation across folds (a single value: one train/test split), "
        f"then the 95% percentile bootstrap interval ({N_BOOTSTRAP} resamples) of the "
        "metric on the pooled out-of-fold predictions. Predicted class: the most probable "
        "one. ROC and PR curves pool the out-of-fold predictions of all folds, so their "
        "AUC can differ from the mean of the folds.",
        "",
        format_table(results, ci=True),
        "",
    ]
    text += [f"- {n}" for n in notes]
    Path(path).write_text("\n".join(text) + "\n", encoding="utf-8")


def check_output_dir(output_dir, names, *, overwrite=False):
    """Check, before any work, that ``names`` can be written to ``output_dir``.

    Nothing is created: a folder that does not exist yet must be creatable
    (its nearest existing parent a writable folder).

    Parameters
    ----------
    output_dir : str or path-like
    names : list of str
        Files the command will write there.
    overwrite : bool, default=False
        Replace those of ``names`` that exist; otherwise they are an error.

    Raises
    ------
    NotADirectoryError
        ``output_dir`` or one of its parents is a file.
    PermissionError
        The folder cannot be created or written, or a file to replace cannot.
    FileExistsError
        The folder holds some of ``names`` and ``overwrite`` is False.
    """
    path = Path(output_dir)
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"cannot write to the output folder {path}.")
        existing = [name for name in names if os.path.lexists(path / name)]
        if existing and not overwrite:
            raise FileExistsError(
                f"the output folder {path} already holds {', '.join(existing)}: pass "
                "--overwrite to replace them, or choose another --output-dir."
            )
        for name in existing:
            if (path / name).is_dir():
                raise IsADirectoryError(f"{path / name} is a folder; it cannot be "
                                        "replaced by a results file.")
            if not os.access(path / name, os.W_OK):
                raise PermissionError(f"cannot overwrite {path / name}.")
        return
    if os.path.lexists(path):
        raise NotADirectoryError(f"the output folder {path} is an existing file, not a "
                                 "folder; choose another --output-dir.")
    parent = path.absolute().parent
    while not os.path.lexists(parent):
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"cannot create the output folder {path}: {parent} is "
                                 "a file, not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot create the output folder {path}: {parent} is not "
                              "writable.")


def _result_names(keys):
    return ["results.csv", "results.md",
            *(f"{kind}_{key}.png" for key in keys for kind in ("roc", "pr"))]


def output_files(data_home=None, real_data=True):
    """Names of the files :func:`run_demo` writes: the tables and the curves of
    the synthetic data and of the public data sets found."""
    present = _real_data_present(data_home)[0] if real_data else {}
    return _result_names(["synthetic", *(k for k, found in present.items() if found)])


def _real_data_present(data_home):
    home = get_data_home(data_home)
    return {
        "breastmnist": (home / "breastmnist" / "breastmnist.npz").is_file(),
        "metabric": (home / "metabric" / "METABRIC_RNA_Mutation.csv.gz").is_file(),
    }, home


def run_demo(output_dir="skmultimodal-results", *, quick=False, data_home=None,
             random_state=0, size=None, real_data=True, overwrite=False, verbose=True):
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
        Seed of the synthetic data, the splits, the bootstrap and the networks.
    size : {"full", "quick"}, default=None
        Overrides ``quick`` when given.
    real_data : bool, default=True
        Set to False to use synthetic data only.
    overwrite : bool, default=False
        Replace the results files of an earlier run found in ``output_dir``;
        otherwise they are an error, raised before any work.
    verbose : bool, default=True
        Print progress and the table.

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, model, metric): ``dataset``, ``protocol``, then
        the columns of :attr:`~skmultimodal.model_selection.EvaluationReport.summary`
        (``model``, ``metric``, ``mean``, ``std``, ``pooled``, ``ci_low``,
        ``ci_high``, ``n_folds``), for the metrics in :data:`METRICS`.

    Raises
    ------
    FileExistsError, NotADirectoryError, PermissionError
        Before any work, when the results cannot be written to ``output_dir``
        (see :func:`check_output_dir`).
    """
    mode = size or ("quick" if quick else "full")
    if mode not in CONFIGS:
        raise ValueError(f"size={size!r} must be one of {sorted(CONFIGS)} or None.")
    cfg = CONFIGS[mode]
    output_dir = Path(output_dir)
    present, home = _real_data_present(data_home) if real_data else ({}, None)
    names = _result_names(["synthetic", *(k for k, found in present.items() if found)])
    check_output_dir(output_dir, names, overwrite=overwrite)
    output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _log(f"skmultimodal demo ({mode} run), random_state={random_state}", verbose)

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

    tables, figures = [], []
    for key, part in parts:
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # F1 = 0 for a model never predicting class 1
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            protocol, summary, y_true, curves, title = part()
        summary.insert(0, "protocol", protocol)
        summary.insert(0, "dataset", key)
        tables.append(summary)
        source = ("test-split predictions" if key == "breastmnist"
                  else "out-of-fold predictions of all folds pooled")
        for kind, plot in (("roc", plot_roc_curves), ("pr", plot_pr_curves)):
            fig = plot(y_true, curves, title=f"{title}\n{source}")
            fig.set_size_inches(6.4, 6.2)  # room for the long model names
            for text in fig.axes[0].get_legend().get_texts():
                text.set_fontsize(7)
            figures.append(output_dir / f"{kind}_{key}.png")
            fig.savefig(figures[-1], dpi=110)
            plt.close(fig)
        _log(f"[{key}] {summary['model'].nunique()} models in "
             f"{time.perf_counter() - t0:.0f} s", verbose)

    results = pd.concat(tables, ignore_index=True)
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
