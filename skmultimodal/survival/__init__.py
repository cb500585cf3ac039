"""Survival analysis: multimodal time-to-event models with scikit-survival's interface.

``fit(X, y)`` takes ``y`` as ``sksurv.util.Surv.from_arrays(event, time)``;
``predict`` gives a risk score (higher means an earlier event), ``score``
Harrell's concordance index, ``predict_survival_function`` and
``predict_cumulative_hazard_function`` what scikit-survival's estimators give.
"""

from ._base import SURVIVAL_LOSSES, SurvivalNetMixin
from ._estimators import (
    CrossAttentionFusionSurvival,
    IntermediateFusionSurvival,
    TabularMLPSurvival,
)
from ._losses import CoxPHLoss, DiscreteTimeLoss

__all__ = [
    "CoxPHLoss",
    "CrossAttentionFusionSurvival",
    "DiscreteTimeLoss",
    "IntermediateFusionSurvival",
    "SURVIVAL_LOSSES",
    "SurvivalNetMixin",
    "TabularMLPSurvival",
]
