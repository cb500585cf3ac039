"""The ``reproduce`` command: each study's protocol rerun on the data at hand.

``python -m skmultimodal reproduce {study1,study2,study3}`` cross-validates the
models, unimodal baselines and ablations of one of the three studies of
PAPERS.md with :func:`~skmultimodal.model_selection.evaluate` and
:func:`~skmultimodal.model_selection.modality_ablation`, scored by the study's
metric set of :func:`~skmultimodal.metrics.get_scorers`, and writes
``results.csv``, ``results.md`` and ROC / precision-recall curves to a folder.

By default (``source="public"``) the public data sets of the data home stand
in for the studies' data, which cannot be downloaded here:

- study 1 (cross-attention, histology + gene expression, TCGA-BRCA Luminal
  vs Basal/Her2): METABRIC and the TCGA-BRCA PAM50 genes, each with its
  clinical covariates in place of the missing histology;
- study 2 (intermediate fusion, BreCaHAD patches + MIMIC-IV EHR, three
  classes with a rare one): BUSI (3 classes) for the image models and
  BrEaST-Lesions-USG (ultrasound + clinical table, patient-grouped folds)
  for the fusion;
- study 3 (attention CNNs + stacking, mammography + ultrasound):
  BrEaST-Lesions-USG ultrasound only (no paired mammography).

With ``source="original"`` the readers take the studies' own data
(:func:`~skmultimodal.datasets.read_tcga_brca`,
:func:`~skmultimodal.datasets.read_brecahad`, an EHR table such as the one
:func:`~skmultimodal.datasets.mimic_iv_patient_table` builds, a table of
paired mammogram / ultrasound files).

Every figure printed or written is computed here; nothing is typed in.
"""

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .model_selection import EvaluationReport, evaluate, make_cv, modality_ablation
from .model_selection._report import SUMMARY_COLUMNS

__all__ = [
    "CONFIGS",
    "ReproduceConfig",
    "SOURCES",
    "STUDIES",
    "check_original_args",
    "output_files",
    "run_reproduce",
]

STUDIES = ("study1", "study2", "study3")
SOURCES = ("public", "original")
CSV_COLUMNS = ["study", "dataset", "data", "protocol", *SUMMARY_COLUMNS]
_MAX_PRELOAD_BYTES = 1 << 30  # images decoded once into memory up to this size

PAPERS = {
    "study1": "Shandiz, arXiv 2503.02849 (2025): ResNet-50 histology + gene-expression "
              "MLP, cross-attention fusion, TCGA-BRCA Luminal vs Basal/Her2, 5-fold CV; "
              "reported F1 0.9379, PR-AUC 0.9948 for cross-attention fusion.",
    "study2": "Khandelwal, Ansari, Aslam, arXiv 2604.17122 (2026): BreCaHAD patches "
              "(mitosis rare) + MIMIC-IV EHR, SimpleCNN / ResNet-18 and XGBoost / MLP "
              "unimodal models, intermediate (concatenation) fusion; reported fusion "
              "macro AUC 0.997, mitosis AUC 0.994.",
    "study3": "Yan, Xu, Fang, He, Qian, Zhu: 663 patients with a mammogram and an "
              "ultrasound image each, ECA (ultrasound) and CBAM (mammography) attention "
              "CNNs, stacking ensemble (LR, SVM, RF, Extra-Trees -> MLP); reported AUC "
              "0.879.",
}


@dataclass(frozen=True)
class ReproduceConfig:
    """Sizes of one run of ``reproduce``."""

    n_splits: int  # cross-validation folds
    max_tabular: int | None  # rows kept of the tabular data sets (None: all)
    max_images: int | None  # rows kept of the image data sets (None: all)
    image_size: int  # side of the images fed to the CNNs
    image_epochs: int  # ImageClassifier and the stacking's CNNs
    tabular_epochs: int  # TabularMLPClassifier
    fusion_epochs: int  # IntermediateFusionClassifier / CrossAttentionFusionClassifier
    embed_dim: int  # fusion token / embedding width
    n_layers: int  # cross-attention layers
    xgb_estimators: int  # XGBoost trees
    stacking_cv: int  # inner folds of the stacking ensemble
    n_bootstrap: int  # resamples of the confidence intervals
    tile_backbone: str  # image branch of study 1 on histology tiles
    augment: bool  # training-time augmentation of the CNNs


CONFIGS = {
    "full": ReproduceConfig(
        n_splits=5, max_tabular=None, max_images=None, image_size=64, image_epochs=15,
        tabular_epochs=30, fusion_epochs=20, embed_dim=64, n_layers=2,
        xgb_estimators=300, stacking_cv=5, n_bootstrap=1000, tile_backbone="resnet50",
        augment=True,
    ),
    "quick": ReproduceConfig(
        n_splits=3, max_tabular=240, max_images=96, image_size=32, image_epochs=2,
        tabular_epochs=3, fusion_epochs=3, embed_dim=32, n_layers=1,
        xgb_estimators=40, stacking_cv=2, n_bootstrap=50, tile_backbone="simple_cnn",
        augment=False,
    ),
}


@dataclass
class _Part:
    """One data set of a study: its evaluation report and how to describe it."""

    key: str  # file-name key: roc_<key>.png
    title: str  # heading of its table
    data: str  # which data (stand-in or original)
    protocol: str
    report: EvaluationReport
    notes: list = field(default_factory=list)


def _log(message, verbose):
    if verbose:
        print(message, flush=True)


# -- argument checks ---------------------------------------------------------------
_ORIGINAL_ARGS = {
    "study1": {"required": ("expression", "clinical"), "optional": ("tiles",)},
    "study2": {"required": ("brecahad",), "optional": ("ehr",)},
    "study3": {"required": ("table",), "optional": ()},
}
_PATH_ARGS = ("expression", "clinical", "tiles", "brecahad", "ehr", "table")


def _flag(name):
    return "--" + name.replace("_", "-")


def check_original_args(study, source, **paths):
    """Check that the paths given fit ``study`` and ``source``.

    Parameters
    ----------
    study : {"study1", "study2", "study3"}
    source : {"public", "original"}
    **paths : str or None
        ``expression``, ``clinical``, ``tiles`` (study 1), ``brecahad``,
        ``ehr`` (study 2), ``table`` (study 3).

    Raises
    ------
    ValueError
        With a message naming the command-line flags at fault.
    """
    if study not in STUDIES:
        raise ValueError(f"study must be one of {list(STUDIES)}, got {study!r}.")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, got {source!r}.")
    given = [name for name in _PATH_ARGS if paths.get(name) is not None]
    if source == "public":
        if given:
            raise ValueError(
                f"{', '.join(_flag(n) for n in given)} only apply with --source original."
            )
        return
    spec = _ORIGINAL_ARGS[study]
    missing = [n for n in spec["required"] if paths.get(n) is None]
    if missing:
        raise ValueError(
            f"{study} with --source original needs "
            f"{' and '.join(_flag(n) for n in missing)}."
        )
    foreign = [n for n in given if n not in spec["required"] + spec["optional"]]
    if foreign:
        allowed = spec["required"] + spec["optional"]
        raise ValueError(
            f"{', '.join(_flag(n) for n in foreign)} do not apply to {study} (it takes "
            f"{', '.join(_flag(n) for n in allowed)})."
        )


#: Datasets of each study's results (the ``<key>`` of ``roc_<key>.png``) by source.
_PART_KEYS = {
    ("study1", "public"): ("metabric", "tcga"),
    ("study1", "original"): ("tcga",),
    ("study2", "public"): ("busi", "breast_lesions_usg"),
    ("study2", "original"): ("brecahad", "brecahad_ehr"),  # brecahad_ehr with --ehr
    ("study3", "public"): ("breast_lesions_usg",),
    ("study3", "original"): ("original",),
}


def output_files(study, source="public", *, ehr=None):
    """Names of the files :func:`run_reproduce` writes: ``results.csv``,
    ``results.md`` and the ROC and precision-recall curves of each dataset."""
    keys = [k for k in _PART_KEYS[(study, source)] if k != "brecahad_ehr" or ehr]
    return ["results.csv", "results.md",
            *(f"{kind}_{key}.png" for key in keys for kind in ("roc", "pr"))]


# -- helpers ------------------------------------------------------------------------
def _subsample(n_max, y, random_state):
    """Positions of a stratified subsample of at most ``n_max`` rows (all if None)."""
    n = len(y)
    if n_max is None or n <= n_max:
        return np.arange(n)
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    keep, _ = train_test_split(np.arange(n), train_size=n_max, stratify=stratify,
                               random_state=random_state)
    return np.sort(keep)


def _take(X, y, groups, rows):
    X = X.iloc[rows].reset_index(drop=True)
    return X, y[rows], None if groups is None else np.asarray(groups)[rows]


def _encode(y):
    """Integer labels 0..k-1 and the class names (sorted) they stand for."""
    names, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), names


def _load_images(cells, size, channels):
    """Decode and resize every image once: an object column of uint8 arrays.

    The CNNs would otherwise decode (and resize) every file again at every
    epoch of every fold. Resizing is the same fixed operation for every
    image, so doing it before the split leaks nothing. Returns the cells
    unchanged when the decoded images would take more than 1 GiB.
    """
    from PIL import Image

    cells = list(cells)
    if len(cells) * size * size * channels > _MAX_PRELOAD_BYTES:
        return np.asarray(cells, dtype=object)
    mode = "L" if channels == 1 else "RGB"
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        if isinstance(cell, np.ndarray):
            image = Image.fromarray(cell.astype(np.uint8) if cell.dtype != np.uint8
                                    else cell)
            out[i] = np.asarray(image.convert(mode).resize((size, size), Image.BILINEAR))
        else:
            with Image.open(cell) as image:
                out[i] = np.asarray(
                    image.convert(mode).resize((size, size), Image.BILINEAR))
    return out


def _numeric_and_categorical(X, columns):
    categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(X[c])]
    return [c for c in columns if c not in categorical], categorical


def _xgboost(X, columns, cfg, random_state):
    """XGBoost on ``columns``: one-hot encoded strings, numbers passed as they are
    (XGBoost handles their NaN)."""
    from xgboost import XGBClassifier

    numeric, categorical = _numeric_and_categorical(X, columns)
    steps = []
    if numeric:
        steps.append(("num", "passthrough", numeric))
    if categorical:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    return make_pipeline(
        ColumnTransformer(steps),
        XGBClassifier(n_estimators=cfg.xgb_estimators, max_depth=4, learning_rate=0.1,
                      subsample=0.8, colsample_bytree=0.5, tree_method="hist",
                      n_jobs=1, random_state=random_state),
    )


def _logistic(columns):
    return make_pipeline(ColumnTransformer([("x", StandardScaler(), list(columns))]),
                         LogisticRegression(max_iter=2000))


def _splits(X, y, groups, n_splits, random_state):
    """Folds shared by every model of a part, and their description."""
    cv = make_cv(n_splits, y, groups, random_state=random_state)
    splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
    protocol = f"{type(cv).__name__}({n_splits})"
    if groups is not None:
        protocol += " grouped by patient"
    return splits, protocol


def _ablation_names(subsets_report, prefix):
    """Names of the modality_ablation models: ``prefix (a+b)``, ``prefix, a only``."""
    full = max(subsets_report.models, key=lambda m: m.count("+"))
    return {m: (f"{prefix} ({m})" if m == full else f"{prefix}, {m} only")
            for m in subsets_report.models}


def _scorers(scoring, y):
    from .metrics import get_scorers

    return get_scorers(scoring, labels=np.unique(y))


def _evaluate_part(*, fusion, fusion_name, models, X, y, groups, cfg, scoring,
                   random_state, names, verbose, ablation_param=None):
    """Ablation of ``fusion`` over its modalities + ``models``, on shared folds.

    Returns (report, protocol). ``y`` holds integer labels 0..k-1 whose names
    are ``names``.
    """
    splits, protocol = _splits(X, y, groups, cfg.n_splits, random_state)
    common = dict(groups=groups, cv=splits, scoring=_scorers(scoring, y),
                  n_bootstrap=cfg.n_bootstrap,
                  random_state=random_state, bootstrap_groups=groups is not None)
    reports = []
    if fusion is not None:
        t0 = time.perf_counter()
        ablation = modality_ablation(fusion, X, y, subsets="all", param=ablation_param,
                                     **common)
        reports.append(ablation.rename(_ablation_names(ablation, fusion_name)))
        _log(f"    {fusion_name} and its modality ablations: "
             f"{time.perf_counter() - t0:.0f} s", verbose)
    for name, model in models.items():
        t0 = time.perf_counter()
        reports.append(evaluate({name: model}, X, y, **common))
        _log(f"    {name}: {time.perf_counter() - t0:.0f} s", verbose)
    return EvaluationReport.concat(reports).rename_classes(names), protocol


# -- study 1 ------------------------------------------------------------------------
#: Tiles of a patient's bag drawn at each training epoch (prediction reads all).
TILES_PER_BAG = 16

def _study1_models(X, feature_groups, image, cfg, random_state, weights):
    """Cross-attention fusion, its ablations and the baselines of study 1."""
    from .fusion import CrossAttentionFusionClassifier, IntermediateFusionClassifier
    from .modalities import ImageBagModality, TabularModality

    genes = feature_groups["genes"]
    modalities = []
    if image is not None:  # each patient's tiles: one bag, pooled by gated attention
        modalities.append(("histology", ImageBagModality(
            image, backbone=cfg.tile_backbone, weights=weights, max_instances=TILES_PER_BAG,
            image_size=cfg.image_size, channels=3, augment=cfg.augment)))
    modalities.append(("genes", TabularModality(genes, hidden_layer_sizes=(128,),
                                                dropout=0.2)))
    if image is None:
        modalities.append(("clinical", TabularModality(
            feature_groups["clinical"], impute="median", hidden_layer_sizes=(32,))))
    fusion = CrossAttentionFusionClassifier(
        modalities, embed_dim=cfg.embed_dim, n_heads=4, n_layers=cfg.n_layers,
        max_epochs=cfg.fusion_epochs, random_state=random_state,
    )
    names = "+".join(n for n, _ in modalities)
    models = {
        f"Fusion without cross-attention (n_layers=0, {names})":
            clone(fusion).set_params(n_layers=0),
        f"Intermediate fusion, concatenation ({names})": IntermediateFusionClassifier(
            [(n, clone(m)) for n, m in modalities], embed_dim=cfg.embed_dim,
            fusion="concat", max_epochs=cfg.fusion_epochs, random_state=random_state,
        ),
        "LogisticRegression (genes)": _logistic(genes),
        "XGBoost (genes)": _xgboost(X, genes, cfg, random_state),
    }
    return fusion, models


def _study1_part(key, title, data, bunch, cfg, random_state, verbose, *, weights=None,
                 image=None):
    X, y = bunch.data, np.asarray(bunch.target)
    groups = np.asarray(bunch.groups) if image is not None else None
    rows = _subsample(cfg.max_tabular if image is None else cfg.max_images, y,
                      random_state)
    X, y, groups = _take(X, y, groups, rows)
    fusion, models = _study1_models(X, bunch.feature_groups, image, cfg, random_state,
                                    weights)
    n_classes = np.bincount(y)
    _log(f"[{key}] {len(y)} rows, {len(bunch.feature_groups['genes'])} genes, "
         f"Luminal {n_classes[0]} / Basal-Her2 {n_classes[1]}", verbose)
    report, protocol = _evaluate_part(
        fusion=fusion, fusion_name="Cross-attention fusion", models=models, X=X, y=y,
        groups=groups, cfg=cfg, scoring="study1", random_state=random_state,
        names=bunch.target_names, verbose=verbose,
    )
    return _Part(key, title, data, protocol, report)


_STUDY1_POSITIVE = "positive class: Basal/Her2 (F1 and PR-AUC)"


def _study1_original(cfg, random_state, verbose, data_home, paths, weights):
    """Study 1 on TCGA-BRCA files: expression + clinical, histology tiles if given."""
    from .datasets import read_tcga_brca

    tiles = paths.get("tiles")
    bunch = read_tcga_brca(paths["expression"], paths["clinical"], tiles,
                           task="luminal_vs_basal_her2", tiles="bag" if tiles else "rows")
    image = "tiles" if tiles else None
    if image:  # the histology-only ablation needs a bag in every row
        keep = bunch.data[image].notna().to_numpy()
        bunch.data = bunch.data[keep].reset_index(drop=True)
        bunch.target = np.asarray(bunch.target)[keep]
        bunch.groups = np.asarray(bunch.groups)[keep]
    what = ("histology tiles + genes" if image else
            "genes + clinical covariates (no --tiles: no histology)")
    part = _study1_part(
        "tcga", f"TCGA-BRCA (original files), Luminal vs Basal/Her2: {what}",
        f"TCGA-BRCA read by read_tcga_brca: {what}", bunch, cfg, random_state,
        verbose, weights=weights, image=image,
    )
    if image:
        missing = bunch.patients_without_tiles
        part.notes.append(
            f"Rows are patients: each patient's tiles form one bag (multiple-instance "
            f"learning, gated-attention pooling, {TILES_PER_BAG} tiles sampled per bag "
            f"and epoch in training, all tiles at prediction), so evaluation is at "
            f"patient level; {len(missing)} patient(s) without tiles left out.")
    header = ("Original data: TCGA-BRCA expression and clinical matrix"
              + (" with histology tiles." if image else
                 " without tiles (pass --tiles for the histology branch)."))
    return header, [part], [_STUDY1_POSITIVE]


def _study1_public(cfg, random_state, verbose, data_home, paths, weights):
    """Study 1 on METABRIC and the TCGA-BRCA PAM50 genes (no histology)."""
    from .datasets import load_metabric, load_tcga_brca_pam50

    header = (
        "Stand-in data: METABRIC (489 mRNA z-scores + 13 clinical columns) and TCGA-BRCA "
        "PAM50 genes (49 genes + 7 clinical covariates), Luminal (LumA + LumB) vs "
        "Basal/Her2, stand in for the paper's TCGA-BRCA H&E histology + gene expression. "
        "No histology image is public here: the clinical table takes the image branch's "
        "place in the cross-attention, and 'clinical only' is the ablation without "
        "genes ('without histology' has no counterpart)."
    )
    parts = [
        _study1_part(
            "metabric", "METABRIC, Luminal vs Basal/Her2: genes + clinical",
            "METABRIC genes + clinical (stand-in for TCGA histology + RNA-seq)",
            load_metabric(data_home=data_home, task="luminal_vs_basal_her2",
                          modalities=("genes", "clinical")),
            cfg, random_state, verbose,
        ),
        _study1_part(
            "tcga", "TCGA-BRCA PAM50 genes, Luminal vs Basal/Her2: genes + clinical",
            "TCGA-BRCA PAM50 genes + clinical covariates (stand-in for TCGA histology "
            "+ RNA-seq)",
            load_tcga_brca_pam50(data_home=data_home, task="luminal_vs_basal_her2"),
            cfg, random_state, verbose,
        ),
    ]
    notes = [_STUDY1_POSITIVE, "All networks start from random weights (the paper uses "
                               "ImageNet transfer for its ResNet-50)."]
    return header, parts, notes


# -- study 2 ------------------------------------------------------------------------
def _image_part(key, title, data, X, y, groups, cfg, random_state, verbose, *,
                weights=None, channels=1):
    """SimpleCNN vs ResNet-18 on one image column (study 2's image comparison)."""
    from .estimators import ImageClassifier

    codes, names = _encode(y)
    X["image"] = _load_images(X["image"], cfg.image_size, channels)
    common = dict(column="image", image_size=cfg.image_size, channels=channels,
                  max_epochs=cfg.image_epochs, augment=cfg.augment,
                  random_state=random_state)
    resnet = "ResNet-18 " + ("from scratch" if weights is None else f"from {weights}")
    models = {
        "SimpleCNN (image)": ImageClassifier(backbone="simple_cnn", **common),
        f"{resnet} (image)": ImageClassifier(backbone="resnet18", weights=weights,
                                             **common),
    }
    counts = ", ".join(f"{n} {c}" for n, c in zip(names, np.bincount(codes)))
    _log(f"[{key}] {len(y)} images ({counts})", verbose)
    report, protocol = _evaluate_part(
        fusion=None, fusion_name=None, models=models, X=X[["image"]], y=codes,
        groups=groups, cfg=cfg, scoring="study2", random_state=random_state,
        names=names, verbose=verbose,
    )
    return _Part(key, title, data, protocol, report)


def _fusion_part(key, title, data, X, y, groups, tab_columns, tab_name, cfg,
                 random_state, verbose, *, weights=None, channels=1):
    """Intermediate fusion of image + table vs unimodal models (study 2)."""
    from .estimators import ImageClassifier, TabularMLPClassifier
    from .fusion import IntermediateFusionClassifier
    from .modalities import ImageModality, TabularModality

    codes, names = _encode(y)
    X = X[["image", *tab_columns]].copy()
    X["image"] = _load_images(X["image"], cfg.image_size, channels)
    backbone = "resnet18" if cfg.image_epochs >= 5 else "simple_cnn"
    image_modality = ImageModality("image", backbone=backbone, weights=weights,
                                   image_size=cfg.image_size, channels=channels,
                                   augment=cfg.augment)
    fusion = IntermediateFusionClassifier(
        [("image", image_modality),
         (tab_name, TabularModality(tab_columns, impute="median",
                                    hidden_layer_sizes=(32,)))],
        embed_dim=cfg.embed_dim, fusion="concat", max_epochs=cfg.fusion_epochs,
        random_state=random_state,
    )
    cnn = "ResNet-18" if backbone == "resnet18" else "SimpleCNN"
    models = {
        f"XGBoost ({tab_name})": _xgboost(X, tab_columns, cfg, random_state),
        f"MLP ({tab_name})": TabularMLPClassifier(
            tab_columns, impute="median", hidden_layer_sizes=(64,),
            max_epochs=cfg.tabular_epochs, random_state=random_state),
        f"{cnn} (image)": ImageClassifier(
            "image", backbone=backbone, weights=weights, image_size=cfg.image_size,
            channels=channels, max_epochs=cfg.image_epochs, augment=cfg.augment,
            random_state=random_state),
    }
    counts = ", ".join(f"{n} {c}" for n, c in zip(names, np.bincount(codes)))
    _log(f"[{key}] {len(y)} rows ({counts}) of {len(np.unique(groups))} groups, "
         f"image + {len(tab_columns)} {tab_name} columns", verbose)
    report, protocol = _evaluate_part(
        fusion=fusion, fusion_name=f"Intermediate fusion, {cnn} + {tab_name} MLP",
        models=models, X=X, y=codes, groups=groups, cfg=cfg, scoring="study2",
        random_state=random_state, names=names, verbose=verbose,
    )
    return _Part(key, title, data, protocol, report)


def _read_table(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Table '{path}' not found.")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") or path.name.endswith(
        ".tsv.gz") else ","
    return pd.read_csv(path, sep=sep)


def _pair_ehr(patches, target, ehr, label_column, random_state):
    """Give every patch an EHR row of its class (drawn at random, each row once
    as long as the class has rows left): the artificial pairing of study 2."""
    if label_column not in ehr.columns:
        raise ValueError(f"The EHR table has no label column {label_column!r} "
                         f"(columns: {list(ehr.columns)}); set --label-column.")
    labels = ehr[label_column].astype(str).to_numpy()
    target = np.asarray(target).astype(str)
    absent = sorted(set(target) - set(labels))
    if absent:
        raise ValueError(f"The EHR table has no row of the patch class(es) {absent} "
                         f"in column {label_column!r}.")
    rng = np.random.default_rng(random_state)
    chosen = np.empty(len(target), dtype=np.int64)
    reused = False
    for label in np.unique(target):
        where = np.flatnonzero(target == label)
        pool = rng.permutation(np.flatnonzero(labels == label))
        reused |= len(where) > len(pool)
        chosen[where] = np.resize(pool, len(where))
    features = ehr.drop(columns=[label_column]).iloc[chosen].reset_index(drop=True)
    return features, reused


def _study2_original(cfg, random_state, verbose, data_home, paths, weights):
    """Study 2 on BreCaHAD patches, fused with an EHR table paired by class if given."""
    from .datasets import read_brecahad

    bunch = read_brecahad(paths["brecahad"], paths.get("patch_size", 64))
    X = bunch.data
    y, groups = np.asarray(bunch.target), np.asarray(bunch.groups)
    rows = _subsample(cfg.max_images, y, random_state)
    X, y, groups = _take(X, y, groups, rows)
    parts = [_image_part(
        "brecahad", "BreCaHAD patches (original), 3 classes: image models",
        "BreCaHAD patches read by read_brecahad", X.copy(), y, groups, cfg,
        random_state, verbose, weights=weights, channels=3,
    )]
    parts[0].notes.append("Folds grouped by source image (BreCaHAD has no patient "
                          "identifiers).")
    notes = []
    if paths.get("ehr"):
        ehr = _read_table(paths["ehr"])
        features, reused = _pair_ehr(X, y, ehr, paths.get("label_column", "label"),
                                     random_state)
        drop = [c for c in features.columns if c in ("subject_id", "patient_id")]
        features = features.drop(columns=drop)
        tab_columns = [f"ehr_{c}" for c in features.columns]
        table = pd.concat([X[["image"]], features.set_axis(tab_columns, axis=1)],
                          axis=1)
        part = _fusion_part(
            "brecahad_ehr", "BreCaHAD patches + EHR (artificial pairing by class)",
            "BreCaHAD patches paired by class with rows of the EHR table",
            table, y, groups, tab_columns, "EHR", cfg, random_state, verbose,
            weights=weights, channels=3,
        )
        part.notes.append(
            "The EHR rows are paired with the patches by class only (the two sources "
            "share no patients, as in the paper): the fusion measures how well the "
            "EHR features predict the class, not a patient-level link."
            + (" Some EHR rows were reused (fewer rows than patches of a class), so "
               "one EHR row can be on both sides of a split." if reused else "")
        )
        parts.append(part)
    else:
        notes.append("No --ehr table: the fusion part is not run.")
    return ("Original data: BreCaHAD histopathology patches"
            + (" + EHR table." if paths.get("ehr") else ".")), parts, notes


def _study2_public(cfg, random_state, verbose, data_home, paths, weights):
    """Study 2 on BUSI (image models) and BrEaST-Lesions-USG (image + clinical fusion)."""
    from .datasets import load_breast_lesions_usg, load_busi

    busi = load_busi(data_home=data_home)
    X, y = busi.data.rename(columns={"image_path": "image"}), np.asarray(busi.target)
    X, y, _ = _take(X, y, None, _subsample(cfg.max_images, y, random_state))
    busi_part = _image_part(
        "busi", "BUSI ultrasound, benign / malignant / normal: image models",
        "BUSI ultrasound, 3 classes (stand-in for BreCaHAD patches)", X, y, None, cfg,
        random_state, verbose, weights=weights,
    )
    busi_part.notes.append(
        "BUSI has no patient identifiers and near-duplicate images: its folds are "
        "ordinary stratified folds and its scores optimistic.")

    usg = load_breast_lesions_usg(data_home=data_home)
    clinical = usg.feature_groups["clinical"]
    X = usg.data.rename(columns={"image_path": "image"})
    y = usg.target_names[usg.target]
    X, y, groups = _take(X, y, usg.groups, _subsample(cfg.max_images, y, random_state))
    usg_part = _fusion_part(
        "breast_lesions_usg",
        "BrEaST-Lesions-USG, benign vs malignant: ultrasound + clinical",
        "BrEaST-Lesions-USG ultrasound + clinical (stand-in for BreCaHAD + MIMIC-IV EHR)",
        X, y, groups, clinical, "clinical", cfg, random_state, verbose, weights=weights,
    )
    usg_part.notes.append(
        "BrEaST-Lesions-USG has 2 classes once its 4 'normal' scans are dropped: the "
        "per-class AUCs of a binary problem are equal.")
    header = (
        "Stand-in data: BUSI ultrasound (benign / malignant / normal, normal the rarest "
        "class) stands in for the BreCaHAD histopathology patches (mitosis rare) in the "
        "image-model comparison; BrEaST-Lesions-USG ultrasound + clinical table (Age, "
        "Tissue_composition, Signs, Symptoms; one image per patient, folds grouped by "
        "patient) stands in for the BreCaHAD patches + MIMIC-IV EHR of the fusion."
    )
    notes = ["All CNNs start from random weights (the paper uses ResNet-18 transfer "
             "learning); Grad-CAM / SHAP are not part of this table."]
    return header, [busi_part, usg_part], notes


# -- study 3 ------------------------------------------------------------------------
def _study3_models(columns, attention, cfg, random_state, weights, channels):
    """Attention CNNs, their attention ablation and the stacking ensemble."""
    from .estimators import ImageClassifier
    from .fusion import make_stacking_ensemble
    from .modalities import ImageModality

    image = dict(backbone="resnet18", weights=weights, image_size=cfg.image_size,
                 channels=channels, augment=cfg.augment)
    common = dict(image, max_epochs=cfg.image_epochs, random_state=random_state)
    models = {}
    for name, column in columns.items():
        label = attention[name].upper()
        models[f"{label}-ResNet-18 ({name})"] = ImageClassifier(
            column, attention=attention[name], **common)
        models[f"ResNet-18 without attention ({name})"] = ImageClassifier(
            column, attention=None, **common)
    modalities = [(name, ImageModality(column, attention=attention[name], **image))
                  for name, column in columns.items()]
    stacking = make_stacking_ensemble(
        modalities, max_epochs=cfg.image_epochs, cv=cfg.stacking_cv,
        random_state=random_state,
    )
    # The SVM's Platt calibration has its own inner folds: as many as the stacking's.
    stacking.set_params(stacking__svm__cv=cfg.stacking_cv)
    return stacking, models


_STUDY3_NOTE = ("All CNNs start from random weights; the stacking's stage-1 CNN is "
                "trained inside each outer fold.")


def _study3_part(key, title, data, X, y, groups, attention, cfg, random_state, verbose,
                 weights):
    """Attention CNNs, their attention ablation and the stacking ensemble on the
    image columns of ``X`` (the keys of ``attention``)."""
    columns = {name: name for name in attention}
    codes, names = _encode(y)
    stacking, models = _study3_models(columns, attention, cfg, random_state,
                                      weights, 1)
    counts = ", ".join(f"{n} {c}" for n, c in zip(names, np.bincount(codes)))
    _log(f"[{key}] {len(codes)} rows ({counts}), image columns {list(columns)}",
         verbose)
    stacking_name = "Stacking ensemble on " + " + ".join(
        f"{attention[k].upper()}-ResNet-18 features" for k in columns)
    multi = len(columns) > 1
    if not multi:  # one image column: the stacking has nothing to ablate
        models[f"{stacking_name} ({next(iter(columns))})"] = stacking
    report, protocol = _evaluate_part(
        fusion=stacking if multi else None, fusion_name=stacking_name,
        ablation_param="features__modalities", models=models, X=X, y=codes,
        groups=groups, cfg=cfg, scoring="study3", random_state=random_state,
        names=names, verbose=verbose,
    )
    return _Part(key, title, data, protocol, report)


def _study3_original(cfg, random_state, verbose, data_home, paths, weights):
    """Study 3 on a table of paired ultrasound and / or mammography files."""
    table_path = Path(paths["table"])
    table = _read_table(table_path)
    label = paths.get("label_column", "label")
    columns = {"us": paths.get("us_column", "us_path"),
               "mammo": paths.get("mammo_column", "mammo_path")}
    columns = {k: c for k, c in columns.items() if c in table.columns}
    if not columns or label not in table.columns:
        raise ValueError(
            f"The table {table_path.name} needs a label column ({label!r}, "
            "--label-column) and at least one image column (--us-column, "
            f"--mammo-column); its columns are {list(table.columns)}.")
    group_column = paths.get("group_column") or (
        "patient_id" if "patient_id" in table.columns else None)
    if group_column is not None and group_column not in table.columns:
        raise ValueError(f"--group-column {group_column!r} is not a column of "
                         f"{table_path.name}.")
    y = table[label].to_numpy()
    groups = None if group_column is None else table[group_column].to_numpy()
    X, y, groups = _take(table, y, groups, _subsample(cfg.max_images, y, random_state))
    for name, column in columns.items():  # paths relative to the table's folder
        cells = [c if Path(str(c)).is_absolute() else str(table_path.parent / str(c))
                 for c in X[column]]
        X[name] = _load_images(cells, cfg.image_size, 1)
    X = X[list(columns)]
    attention = {k: {"us": "eca", "mammo": "cbam"}[k] for k in columns}
    title = " + ".join({"us": "ultrasound", "mammo": "mammography"}[k] for k in columns)
    part = _study3_part(
        "original", f"Table, benign vs malignant: {title}",
        f"paired images read from {table_path.name}", X, y, groups, attention, cfg,
        random_state, verbose, weights,
    )
    if not group_column:
        part.notes.append("No patient column: ordinary stratified folds (set "
                          "--group-column).")
    return f"Original data: {table_path.name} ({title}).", [part], [_STUDY3_NOTE]


def _study3_public(cfg, random_state, verbose, data_home, paths, weights):
    """Study 3 on BrEaST-Lesions-USG ultrasound alone (no paired mammography)."""
    from .datasets import load_breast_lesions_usg

    usg = load_breast_lesions_usg(data_home=data_home)
    X = usg.data.rename(columns={"image_path": "us"})
    y = usg.target_names[usg.target]
    X, y, groups = _take(X, y, usg.groups, _subsample(cfg.max_images, y, random_state))
    X["us"] = _load_images(X["us"], cfg.image_size, 1)
    part = _study3_part(
        "breast_lesions_usg", "BrEaST-Lesions-USG, benign vs malignant: ultrasound only",
        "BrEaST-Lesions-USG ultrasound only (stand-in for paired mammography + "
        "ultrasound)", X[["us"]], y, groups, {"us": "eca"}, cfg, random_state, verbose,
        weights,
    )
    header = (
        "Stand-in data: BrEaST-Lesions-USG ultrasound (benign vs malignant, one image "
        "per patient) stands in for the paper's 663 paired mammogram + ultrasound "
        "cases. One image column only: no paired mammography here, so the CBAM "
        "mammography branch and the mammography + ultrasound fusion are not run; "
        "the attention ablation (ECA vs plain ResNet-18) and the stacking ensemble "
        "use the ultrasound alone."
    )
    return header, [part], [_STUDY3_NOTE]


#: The runner of each (study, source): ``runner(cfg, random_state, verbose,
#: data_home, paths, weights)`` returns (header, parts, notes).
_RUNNERS = {
    ("study1", "public"): _study1_public,
    ("study1", "original"): _study1_original,
    ("study2", "public"): _study2_public,
    ("study2", "original"): _study2_original,
    ("study3", "public"): _study3_public,
    ("study3", "original"): _study3_original,
}


# -- output ---------------------------------------------------------------------------
def _results_frame(study, parts):
    tables = []
    for part in parts:
        summary = part.report.summary[SUMMARY_COLUMNS].copy()
        summary.insert(0, "protocol", part.protocol)
        summary.insert(0, "data", part.data)
        summary.insert(0, "dataset", part.key)
        summary.insert(0, "study", study)
        tables.append(summary)
    return pd.concat(tables, ignore_index=True)[CSV_COLUMNS]


def _save_curves(part, output_dir):
    files = []
    with_scores = [m for m in part.report.models if part.report.scores[m] is not None]
    if not with_scores:
        return files
    title = f"{part.title}\nout-of-fold predictions of all folds pooled"
    for kind, plot in (("roc", part.report.plot_roc), ("pr", part.report.plot_pr)):
        path = Path(output_dir) / f"{kind}_{part.key}.png"
        fig = plot(with_scores, title=title)
        if len(fig.axes) == 1:  # binary: room for the long model names
            fig.set_size_inches(7.5, 7.0)
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                for text in legend.get_texts():
                    text.set_fontsize(6)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    return files


def _markdown(study, mode, header, parts, notes, n_bootstrap):
    lines = [
        f"# skmultimodal reproduce {study} ({mode} run)",
        "",
        f"Paper: {PAPERS[study]}",
        "",
        header,
        "",
        "Cells: mean ± standard deviation across folds, then the 95% percentile "
        f"bootstrap interval ({n_bootstrap} resamples) of the metric on the pooled "
        "out-of-fold predictions. Predicted class: the most probable one.",
    ]
    for part in parts:
        lines += ["", f"## {part.title}", "", f"Data: {part.data}. Protocol: "
                  f"{part.protocol}.", "", part.report.to_markdown().rstrip()]
        lines += [f"- {n}" for n in part.notes]
    if notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def run_reproduce(study, output_dir=None, *, quick=False, data_home=None, random_state=0,
                  source="public", expression=None, clinical=None, tiles=None,
                  brecahad=None, patch_size=64, ehr=None, table=None,
                  label_column="label", group_column=None, us_column="us_path",
                  mammo_column="mammo_path", weights=None, size=None, overwrite=False,
                  verbose=True):
    """Rerun one study's protocol and write its results table and curves.

    Parameters
    ----------
    study : {"study1", "study2", "study3"}
    output_dir : str or path-like, default=None
        Folder receiving ``results.csv``, ``results.md``, ``roc_<dataset>.png``
        and ``pr_<dataset>.png``; None uses ``skmultimodal-results/<study>``.
    quick : bool, default=False
        Subsampled data, 3 folds, 2-3 epochs and small images (about a minute
        on 2 CPU cores).
    data_home : str or path-like, default=None
        Folder of the public data sets (``source="public"``), see
        :func:`~skmultimodal.datasets.get_data_home`.
    random_state : int, default=0
        Seed of the subsample, the folds, the bootstrap and the models.
    source : {"public", "original"}, default="public"
        ``"public"``: the public stand-in data; ``"original"``: the studies'
        own data read from the paths below.
    expression, clinical, tiles : path, default=None
        Study 1: Xena-layout expression matrix and clinical matrix, and an
        optional folder of histology tiles per patient (see
        :func:`~skmultimodal.datasets.read_tcga_brca`).
    brecahad : path, default=None
        Study 2: root of BreCaHAD (see :func:`~skmultimodal.datasets.read_brecahad`).
    patch_size : int, default=64
        Study 2: side of the BreCaHAD patches.
    ehr : path, default=None
        Study 2: EHR table (CSV, TSV, xlsx or parquet; e.g. built by
        :func:`~skmultimodal.datasets.mimic_iv_patient_table`) with a
        ``label_column`` holding the patch classes; each patch is paired with
        an EHR row of its class.
    table : path, default=None
        Study 3: table with a ``label_column``, image path columns
        ``us_column`` and / or ``mammo_column`` (relative to the table's
        folder or absolute) and optionally ``group_column``.
    label_column, group_column, us_column, mammo_column : str
        Columns of the ``ehr`` / ``table`` files; ``group_column=None`` uses
        ``patient_id`` when present.
    weights : str or path, default=None
        Initial weights of the ResNets (a torchvision weights name or a local
        state dict); None trains from scratch.
    size : {"full", "quick"}, default=None
        Overrides ``quick`` when given.
    overwrite : bool, default=False
        Replace the results files of an earlier run found in ``output_dir``;
        otherwise they are an error, raised before any work.
    verbose : bool, default=True
        Print progress, the tables and the output folder.

    Returns
    -------
    results : pandas.DataFrame
        One row per (dataset, model, metric) with the columns ``study``,
        ``dataset``, ``data``, ``protocol`` and those of
        :attr:`~skmultimodal.model_selection.EvaluationReport.summary`.

    Raises
    ------
    FileExistsError, NotADirectoryError, PermissionError
        Before any work, when the results cannot be written to ``output_dir``
        (see :func:`skmultimodal._demo.check_output_dir`).
    """
    from ._demo import check_output_dir

    paths = dict(expression=expression, clinical=clinical, tiles=tiles,
                 brecahad=brecahad, ehr=ehr, table=table)
    check_original_args(study, source, **paths)
    paths.update(patch_size=patch_size, label_column=label_column,
                 group_column=group_column, us_column=us_column,
                 mammo_column=mammo_column)
    mode = size or ("quick" if quick else "full")
    if mode not in CONFIGS:
        raise ValueError(f"size={size!r} must be one of {sorted(CONFIGS)} or None.")
    cfg = CONFIGS[mode]
    output_dir = Path("skmultimodal-results") / study if output_dir is None \
        else Path(output_dir)
    check_output_dir(output_dir, output_files(study, source, ehr=ehr),
                     overwrite=overwrite)
    start = time.perf_counter()
    _log(f"skmultimodal reproduce {study} ({mode} run, {source} data), "
         f"random_state={random_state}", verbose)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message=".*bootstrap resamples.*")
        header, parts, notes = _RUNNERS[(study, source)](cfg, random_state, verbose,
                                                         data_home, paths, weights)
    if mode == "quick":
        notes.append(
            f"--quick run: stratified subsamples of at most {cfg.max_tabular} tabular rows "
            f"/ {cfg.max_images} images, {cfg.n_splits} folds, {cfg.image_epochs}-"
            f"{cfg.fusion_epochs} epochs, {cfg.image_size}-pixel images: a smoke test of "
            "the protocol, not numbers to quote.")

    output_dir.mkdir(parents=True, exist_ok=True)
    results = _results_frame(study, parts)
    results.to_csv(output_dir / "results.csv", index=False)
    (output_dir / "results.md").write_text(
        _markdown(study, mode, header, parts, notes, cfg.n_bootstrap), encoding="utf-8")
    figures = [f for part in parts for f in _save_curves(part, output_dir)]
    elapsed = time.perf_counter() - start
    if verbose:
        print()
        print(header)
        for part in parts:
            print()
            print(f"## {part.title} [{part.protocol}]")
            print(part.report.to_markdown(ci=False).rstrip())
            for note in part.notes:
                print(f"- {note}")
        for note in notes:
            print(f"- {note}")
        print()
        print(f"Finished in {elapsed:.0f} s. Wrote results.csv, results.md and "
              f"{len(figures)} figures to:")
        print(output_dir.resolve())
    return results
