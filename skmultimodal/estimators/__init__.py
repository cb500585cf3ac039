"""Public estimators: unimodal image and tabular classifiers, image embedder."""

from ._embedder import ImageEmbedder
from ._image import ImageClassifier
from ._tabular import TabularMLPClassifier

__all__ = ["ImageClassifier", "ImageEmbedder", "TabularMLPClassifier"]
