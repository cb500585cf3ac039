"""What the fusion defaults give with modality dropout, on complete and missing data.

Modality dropout hides a present modality of a training row now and then, so
that a fusion network learns to predict when a modality is missing. This
script measures what the defaults of ``IntermediateFusionClassifier`` give on
two tasks where the answer is known, at the commit it is run from (recorded in
each row, so that two versions of the library can be compared with the same
script):

- ``missing``: ``make_multimodal_classification(600, image_size=16,
  n_features=10, random_state=seed)`` (additive evidence, both modalities
  informative), trained on the first 400 complete rows, scored on the last
  200 complete, with every image removed (``None``) and with every tabular
  value removed (NaN): the network must fall back on the modality left.
  SimpleCNN on the 16 px grey images, the tabular MLP on the 10 columns.
- ``metabric`` (needs the data, ``SKMULTIMODAL_DATA``): Luminal vs Basal/Her2
  from the 15 clinical columns + 489 genes, ``StratifiedKFold(5,
  shuffle=True, random_state=0)``, the encoder sizes of
  ``bench_fusion_metabric.py``, everything else the defaults; fold ROC AUC
  and average precision.

The interaction task has its own script, ``bench_interactions.py``.

Usage::

    python benchmarks/bench_modality_dropout.py
    python benchmarks/bench_modality_dropout.py --tasks missing --seeds 0 1 2 3 4
    python benchmarks/bench_modality_dropout.py --params '{"fusion": "concat"}'

Rows are appended to ``benchmarks/results/modality_dropout.csv`` (``--output``).
"""

import argparse
import json
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality, TabularModality

RESULTS = Path(__file__).parent / "results" / "modality_dropout.csv"
TAB = [f"tab_{i}" for i in range(10)]


def commit():
    """Short hash of the checked-out commit of the library ("unknown" outside git)."""
    import skmultimodal

    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=Path(skmultimodal.__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def missing_task(seeds, params):
    rows = []
    for seed in seeds:
        X, y = make_multimodal_classification(600, image_size=16, n_features=len(TAB),
                                              random_state=seed)
        train, test = X.iloc[:400], X.iloc[400:]
        modalities = [
            ("img", ImageModality("image", backbone="simple_cnn", image_size=16,
                                  channels=1)),
            ("tab", TabularModality(TAB)),
        ]
        t0 = time.time()
        clf = IntermediateFusionClassifier(modalities, random_state=seed).set_params(**params)
        clf.fit(train, y[:400])
        fit_s = round(time.time() - t0, 1)
        no_image = test.assign(image=None)
        no_table = test.copy()
        no_table[TAB] = np.nan
        for rows_given, frame in [("complete", test), ("no image", no_image),
                                  ("no table", no_table)]:
            rows.append(dict(task="missing", split=rows_given, seed=seed, fold=0,
                             accuracy=clf.score(frame, y[400:]), fit_s=fit_s))
        print("missing seed", seed, " ".join(f"{r['split']} {r['accuracy']:.3f}"
                                              for r in rows[-3:]), flush=True)
    return rows


def metabric_data(data_home=None):
    """METABRIC clinical + genes: X, y and a factory of the two modalities.

    The encoders are those of ``bench_fusion_metabric.py``.
    """
    from skmultimodal.datasets import load_metabric

    bunch = load_metabric(data_home=data_home, modalities=("clinical", "genes"))
    X, y = bunch.data, bunch.target
    genes, clinical = bunch.feature_groups["genes"], bunch.feature_groups["clinical"]
    categorical = [c for c in clinical if not pd.api.types.is_numeric_dtype(X[c])]

    def modalities():
        return [
            ("genes", TabularModality(genes, hidden_layer_sizes=(256,), dropout=0.5)),
            ("clinical", TabularModality(clinical, impute="median", categorical=categorical,
                                         hidden_layer_sizes=(32,), dropout=0.1)),
        ]

    return X, y, modalities


def metabric_task(params):
    X, y, modalities = metabric_data()
    rows = []
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        t0 = time.time()
        clf = IntermediateFusionClassifier(modalities(), random_state=0).set_params(**params)
        clf.fit(X.iloc[train], y[train])
        fit_s = round(time.time() - t0, 1)
        proba = clf.predict_proba(X.iloc[test])[:, 1]
        rows.append(dict(task="metabric", split="test", seed=0, fold=fold,
                         roc_auc=roc_auc_score(y[test], proba),
                         average_precision=average_precision_score(y[test], proba),
                         fit_s=fit_s))
        print(f"metabric fold {fold}: ROC AUC {rows[-1]['roc_auc']:.4f} "
              f"AP {rows[-1]['average_precision']:.4f}", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", default=["missing", "metabric"],
                   choices=["missing", "metabric"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--params", default="{}",
                   help="JSON dict of estimator parameters overriding the defaults")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    params = json.loads(args.params)
    rows = []
    if "missing" in args.tasks:
        rows += missing_task(args.seeds, params)
    if "metabric" in args.tasks:
        rows += metabric_task(params)
    frame = pd.DataFrame(rows).assign(commit=commit(),
                                      params=json.dumps(params, sort_keys=True))
    metrics = [m for m in ("accuracy", "roc_auc", "average_precision") if m in frame]
    print(frame.groupby(["task", "split"])[metrics].agg(["mean", "std"]).round(4))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        frame = pd.concat([pd.read_csv(out), frame], ignore_index=True)
    frame.to_csv(out, index=False)
    return frame


if __name__ == "__main__":
    main()
