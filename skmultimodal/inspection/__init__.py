"""Explaining fitted models: Grad-CAM, SHAP, cross-attention maps, modality importance.

- :func:`grad_cam`: class-activation heat maps of the image branch of any
  fitted library estimator (unimodal, fusion, late fusion, or a Pipeline
  ending in one), aligned with the input images; the other modalities of a
  row are held at their values.
- :func:`cross_attention_maps`: where the other modalities' tokens of a
  :class:`~skmultimodal.fusion.CrossAttentionFusionClassifier` look in the
  image.
- :func:`shap_values`: SHAP values of tabular inputs, with the original
  feature names (tree explainer for XGBoost pipelines, expected gradients for
  the MLP and the fusion networks).
- :func:`modality_importance`: drop of the score when a modality is permuted
  across rows or masked as missing, in the style of
  :func:`sklearn.inspection.permutation_importance`.
- :func:`bag_attention`, :func:`bag_instance_grad_cam`: for bags of images
  (:class:`~skmultimodal.mil.ImageBagClassifier`, or an
  :class:`~skmultimodal.modalities.ImageBagModality` in a fusion classifier),
  the weight of every instance in the pooling of its bag, and Grad-CAM heat
  maps of the instances of a bag; :class:`BagAttentionDisplay` shows the
  instances of largest weight.
- Plots: :func:`plot_image_explanations`, :func:`plot_heatmap_overlay`,
  :func:`plot_shap_summary`, :func:`plot_shap_bar`,
  :func:`plot_modality_importance`: the figures of the displays
  :class:`ImageExplanationDisplay`, :class:`ShapSummaryDisplay`,
  :class:`ShapBarDisplay` and :class:`ModalityImportanceDisplay`
  (``from_estimator``, ``plot(ax=None)``).
"""

from ._attention_maps import cross_attention_maps
from ._bags import BagAttentionDisplay, bag_attention, bag_instance_grad_cam
from ._grad_cam import CAM_METHODS, grad_cam
from ._image_display import ImageExplanationDisplay
from ._lesion import lesion_heat_share
from ._modality_importance import modality_importance
from ._overlay import plot_heatmap_overlay, plot_image_explanations
from ._plots import (
    ModalityImportanceDisplay,
    ShapBarDisplay,
    ShapSummaryDisplay,
    plot_modality_importance,
    plot_shap_bar,
    plot_shap_summary,
)
from ._shap import shap_values

__all__ = [
    "BagAttentionDisplay",
    "CAM_METHODS",
    "ImageExplanationDisplay",
    "ModalityImportanceDisplay",
    "ShapBarDisplay",
    "ShapSummaryDisplay",
    "bag_attention",
    "bag_instance_grad_cam",
    "cross_attention_maps",
    "grad_cam",
    "lesion_heat_share",
    "modality_importance",
    "plot_heatmap_overlay",
    "plot_image_explanations",
    "plot_modality_importance",
    "plot_shap_bar",
    "plot_shap_summary",
    "shap_values",
]
