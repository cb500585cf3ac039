"""Data sets: loaders of the public breast-cancer data, readers and generators.

The loaders read files under the data home (see :func:`get_data_home`).
Only BreastMNIST, which has a canonical single-file address with a checksum,
is downloaded when absent; for the others the error says where to obtain the
files and where to put them. The readers (``read_*``, and the MIMIC-IV recipe)
take the original layouts of data sets that need registration or are too
large to ship, for users who have them.
"""

from ._bags import make_bag_classification
from ._base import get_data_home
from ._breast_lesions_usg import load_breast_lesions_usg
from ._breastmnist import load_breastmnist
from ._brecahad import read_brecahad
from ._busi import load_busi
from ._metabric import load_metabric
from ._mimic import mimic_iv_patient_table
from ._survival import make_multimodal_survival
from ._synthetic import make_multimodal_classification, signal_mask
from ._tcga import load_tcga_brca_pam50, read_tcga_brca

__all__ = [
    "get_data_home",
    "load_breast_lesions_usg",
    "load_breastmnist",
    "load_busi",
    "load_metabric",
    "load_tcga_brca_pam50",
    "make_bag_classification",
    "make_multimodal_classification",
    "make_multimodal_survival",
    "mimic_iv_patient_table",
    "read_brecahad",
    "read_tcga_brca",
    "signal_mask",
]
