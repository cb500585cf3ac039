"""Multiple-instance learning: classifiers of bags of images (slide tiles, exams)."""

from ._classifier import ImageBagClassifier

__all__ = ["ImageBagClassifier"]
