"""Metrics of the three studies: scikit-learn scorers and comparison figures.

- :func:`get_scorers` / :data:`STUDY_SCORERS`: accuracy, balanced accuracy,
  F1 (binary) and macro F1, PR-AUC (average precision), ROC AUC (binary or
  macro one-vs-rest) and per-class one-vs-rest ROC AUC, as scorers for
  :func:`~sklearn.model_selection.cross_validate`.
- :func:`per_class_roc_auc`: study 2's per-class AUC from probabilities.
- :class:`RocCurvesDisplay`, :class:`PrecisionRecallCurvesDisplay`,
  :class:`ConfusionMatricesDisplay`: figures comparing several models, in the
  style of scikit-learn's displays (``from_estimator``, ``from_predictions``,
  ``from_report``, ``plot``); :func:`plot_roc_curves`, :func:`plot_pr_curves`
  and :func:`plot_confusion_matrix` return their figures.
- :class:`KaplanMeierDisplay`: Kaplan-Meier curves of groups of increasing
  predicted risk, with the log-rank test between them (survival models).
"""

from ._plots import (
    ConfusionMatricesDisplay,
    PrecisionRecallCurvesDisplay,
    RocCurvesDisplay,
    plot_confusion_matrix,
    plot_pr_curves,
    plot_roc_curves,
)
from ._scorers import (
    STUDY_METRICS,
    STUDY_SCORERS,
    average_precision,
    binary_f1,
    get_scorers,
    macro_f1,
    per_class_average_precision,
    per_class_roc_auc,
    per_class_roc_auc_scorer,
    roc_auc,
)
from ._survival_plots import KaplanMeierDisplay

__all__ = [
    "ConfusionMatricesDisplay",
    "KaplanMeierDisplay",
    "PrecisionRecallCurvesDisplay",
    "RocCurvesDisplay",
    "STUDY_METRICS",
    "STUDY_SCORERS",
    "average_precision",
    "binary_f1",
    "get_scorers",
    "macro_f1",
    "per_class_average_precision",
    "per_class_roc_auc",
    "per_class_roc_auc_scorer",
    "plot_confusion_matrix",
    "plot_pr_curves",
    "plot_roc_curves",
    "roc_auc",
]
