"""Fusion estimators: intermediate, cross-attention, late fusion and stacking.

- :class:`IntermediateFusionClassifier`: per-modality embeddings fused
  (concatenation, gating or Kronecker product) before one head (study 2).
- :class:`CrossAttentionFusionClassifier`: image spatial tokens and tabular
  tokens attending to each other (study 1).
- :class:`LateFusionClassifier`: one classifier per modality, probabilities
  averaged or stacked.
- :func:`make_stacking_ensemble`: the attention-CNN features of several image
  modalities (:class:`~skmultimodal.DeepFeatureExtractor`), then a stacking
  ensemble (study 3).
"""

from ._cross_attention import CrossAttentionFusionClassifier
from ._intermediate import IntermediateFusionClassifier
from ._late import LateFusionClassifier
from ._stacking import make_stacking_ensemble

__all__ = [
    "CrossAttentionFusionClassifier",
    "IntermediateFusionClassifier",
    "LateFusionClassifier",
    "make_stacking_ensemble",
]
