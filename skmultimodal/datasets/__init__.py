"""Data sets: loaders of the public breast-cancer data and synthetic generators.

The loaders read files already present under the data home (see
:func:`get_data_home`); nothing is downloaded.
"""

from ._base import get_data_home
from ._breastmnist import load_breastmnist
from ._metabric import load_metabric
from ._synthetic import make_multimodal_classification, signal_mask

__all__ = [
    "get_data_home",
    "load_breastmnist",
    "load_metabric",
    "make_multimodal_classification",
    "signal_mask",
]
