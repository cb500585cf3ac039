"""Loader of BreastMNIST (MedMNIST v2), 28x28 breast ultrasound images."""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import (
    _check_bool,
    _check_option,
    _object_column,
    _require_files,
    get_data_home,
)
from ._fetch import _download_missing

FOLDER = "breastmnist"
FILENAME = "breastmnist.npz"
SPLITS = ("train", "val", "test")
TARGET_NAMES = np.array(["malignant", "normal/benign"])

# Canonical address and checksum of the file (MedMNIST v2 on Zenodo). Tests
# point "url" at a local server.
REMOTE = {
    "url": "https://zenodo.org/records/10519652/files/breastmnist.npz",
    "md5": "750601b1f35ba3300ea97c75c52ff8f6",
}

DESCR = """\
.. _breastmnist_dataset:

BreastMNIST (MedMNIST v2)
-------------------------

780 greyscale breast ultrasound images resized to 28x28 pixels, with the
official MedMNIST train / val / test split (546 / 78 / 156, ratio 7:1:2).

**Target**: 0 = malignant, 1 = normal + benign (the labels of the file).
About 73% of the images are normal or benign, so accuracy must be compared
with the majority-class rate.

**File**: ``<data_home>/breastmnist/breastmnist.npz`` (arrays
``{train,val,test}_images`` of shape (n, 28, 28) uint8 and
``{train,val,test}_labels`` of shape (n, 1)), the official MedMNIST file
(MD5 750601b1f35ba3300ea97c75c52ff8f6),
https://zenodo.org/records/10519652/files/breastmnist.npz

**Source**: the images come from the Breast Ultrasound Images data set (BUSI)
of Al-Dhabyani et al., processed by MedMNIST.

**Licence**: CC BY 4.0 (attribution required).

**Citations**:

- Yang J, Shi R, Wei D, et al. MedMNIST v2 - A large-scale lightweight
  benchmark for 2D and 3D biomedical image classification. Scientific Data
  10, 41 (2023). doi:10.1038/s41597-022-01721-8
- Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound
  images. Data in Brief 28, 104863 (2020).
"""


def _read_npz(path, splits):
    """Return (images, labels, split names) of the given splits, concatenated."""
    with np.load(path) as npz:
        images = [npz[f"{name}_images"] for name in splits]
        labels = [npz[f"{name}_labels"].reshape(-1) for name in splits]
    split = np.concatenate(
        [np.full(len(lab), name) for name, lab in zip(splits, labels)]
    )
    return (
        np.concatenate(images).astype(np.uint8, copy=False),
        np.concatenate(labels).astype(np.int64),
        split,
    )


def load_breastmnist(
    *,
    data_home=None,
    split=None,
    as_frame=True,
    return_X_y=False,
    download_if_missing=True,
):
    """Load the BreastMNIST data set (binary classification, images only).

    =================   =================================
    Classes                                             2
    Samples total       780 (train 546, val 78, test 156)
    Samples per class   malignant 210, normal/benign 570
    Image               28x28 uint8, greyscale
    =================   =================================

    Read from ``<data_home>/breastmnist/breastmnist.npz``. If the file is
    absent it is downloaded from its official address (Zenodo, 560 kB) and
    its MD5 checked, unless ``download_if_missing`` is False.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    split : {"train", "val", "test"}, default=None
        Return only this official split. If None, return all rows (train,
        then val, then test) and add a ``split`` column to ``data``.
    as_frame : bool, default=True
        If True, ``data`` is a DataFrame with an object column ``image``
        whose cells are the (28, 28) uint8 arrays (plus ``split`` when
        ``split`` is None). If False, ``data`` is the (n, 28, 28) uint8
        array.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    download_if_missing : bool, default=True
        If True and the file is not in ``<data_home>/breastmnist/``, download
        it from https://zenodo.org/records/10519652/files/breastmnist.npz
        into that folder and check its MD5; the folder is created only for a
        download that succeeds. If False, raise FileNotFoundError instead.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame or ndarray
            The images, see ``as_frame``.
        target : ndarray of int of shape (n_samples,)
            0 = malignant, 1 = normal + benign.
        target_names : ndarray of str
            ``["malignant", "normal/benign"]``.
        images : ndarray of uint8 of shape (n_samples, 28, 28)
            The images.
        split : ndarray of str of shape (n_samples,)
            The official split of each row.
        feature_groups : dict
            ``{"image": ["image"]}``.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame`` is True.
        DESCR : str
            Description with provenance, licence and citations.
        filename : str
            Path of the file read.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the file is not in ``<data_home>/breastmnist/`` and
        ``download_if_missing`` is False, or the download failed for want of
        a connection (the message names the URL and the folder to put the file
        in).
    OSError
        If the downloaded file does not have the expected MD5 (it is deleted).
    ValueError
        If ``split`` is not None, "train", "val" or "test".
    """
    if split is not None:
        _check_option(split, "split", SPLITS)
    download_if_missing = _check_bool(download_if_missing, "download_if_missing")
    folder = get_data_home(data_home) / FOLDER
    if download_if_missing and not (folder / FILENAME).is_file():
        _download_missing(folder / FILENAME, REMOTE, "BreastMNIST")
    (path,) = _require_files(
        folder,
        [FILENAME],
        "BreastMNIST",
        how_to_get=(
            f"It can be downloaded from {REMOTE['url']} (MD5 {REMOTE['md5']}), "
            f"e.g. with download_if_missing=True."
        ),
    )

    images, target, split_names = _read_npz(path, SPLITS if split is None else (split,))

    frame = None
    if as_frame:
        data = pd.DataFrame({"image": pd.Series(_object_column(images), dtype=object)})
        if split is None:
            data["split"] = split_names
        frame = data.assign(target=target)
    else:
        data = images

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=TARGET_NAMES.copy(),
        images=images,
        split=split_names,
        feature_groups={"image": ["image"]},
        frame=frame,
        DESCR=DESCR,
        filename=str(path),
    )
