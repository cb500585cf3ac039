"""Public estimators: unimodal image and tabular classifiers, image embedder and
the supervised deep-feature extractor (one CNN per image modality)."""

from ._embedder import ImageEmbedder
from ._features import DeepFeatureExtractor
from ._image import ImageClassifier
from ._tabular import TabularMLPClassifier

__all__ = ["DeepFeatureExtractor", "ImageClassifier", "ImageEmbedder", "TabularMLPClassifier"]
