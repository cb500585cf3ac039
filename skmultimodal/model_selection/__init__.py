"""Evaluation protocols of the three studies.

- :func:`evaluate`: several models cross-validated on the same
  (patient-grouped when ``groups`` are given) folds, one tidy table of fold
  means, standard deviations and bootstrap confidence intervals, with the
  out-of-fold predictions for ROC / PR / confusion figures, in an
  :class:`EvaluationReport` (reports of models evaluated on the same folds
  combine with :meth:`EvaluationReport.concat`).
- :func:`modality_ablation`: a fusion model refitted on every subset of its
  modalities (the unimodal baselines and ablations) in the same table.
- :func:`make_cv`, :func:`check_group_leakage`: grouped splits as the easy
  path, and a check that no patient is on both sides of a split.
"""

from ._ablation import modality_ablation
from ._report import EvaluationReport, evaluate
from ._splits import GroupLeakageError, check_group_leakage, make_cv

__all__ = [
    "EvaluationReport",
    "GroupLeakageError",
    "check_group_leakage",
    "evaluate",
    "make_cv",
    "modality_ablation",
]
