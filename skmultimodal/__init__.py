"""skmultimodal: multimodal deep learning for breast-cancer classification.

Image encoders (SimpleCNN, ResNet-18/50 with ECA or CBAM attention), tabular
encoders and fusion models as scikit-learn estimators backed by torch through
skorch.
"""

from .estimators import (
    DeepFeatureExtractor,
    ImageClassifier,
    ImageEmbedder,
    TabularMLPClassifier,
)
from .fusion import (
    CrossAttentionFusionClassifier,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    make_stacking_ensemble,
)
from .mil import ImageBagClassifier
from .modalities import ImageBagModality, ImageModality, TabularModality
from .pretraining import ContrastivePretrainer

#: The version of the package.
__version__ = "0.1.0.dev0"

__all__ = [
    "ContrastivePretrainer",
    "CrossAttentionFusionClassifier",
    "DeepFeatureExtractor",
    "ImageBagClassifier",
    "ImageBagModality",
    "ImageClassifier",
    "ImageEmbedder",
    "ImageModality",
    "IntermediateFusionClassifier",
    "LateFusionClassifier",
    "TabularMLPClassifier",
    "TabularModality",
    "__version__",
    "make_stacking_ensemble",
]
