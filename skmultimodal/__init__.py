"""skmultimodal: multimodal deep learning for breast-cancer classification, the scikit-learn way."""

__version__ = "0.1.0.dev0"
