"""Loader of BreastMNIST (MedMNIST v2), 28x28 breast ultrasound images."""

import zipfile

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
from ._verify import _DataFile

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
HOW_TO_GET = (
    f"Delete it and call load_breastmnist with download_if_missing=True to "
    f"download it again, or download it from {REMOTE['url']} (MD5 {REMOTE['md5']})."
)

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


def _check_numbers(source, name, array):
    """Refuse an array that does not hold numbers (strings, objects)."""
    if array.dtype.kind not in "biuf":
        raise source.error(
            f"holds {name} of dtype {array.dtype}, expected numbers: it is not the "
            f"MedMNIST archive"
        )


def _check_images(source, name, images):
    """The images as uint8, refusing other than (n, height, width) whole 0..255."""
    if images.ndim != 3 or not len(images):
        raise source.error(
            f"holds {name} of shape {images.shape}, expected (n_images, 28, 28)"
        )
    if images.dtype == np.uint8:
        return images
    _check_numbers(source, name, images)
    values = images.astype(np.float64)
    bad = ~np.isfinite(values) | (values != np.round(values))
    bad |= (values < 0) | (values > 255)
    if bad.any():
        raise source.error(
            f"holds {name} that are not whole pixel values in 0..255, e.g. "
            f"{values[bad][:3].tolist()} ({int(bad.sum()):,} pixels in all)"
        )
    return values.astype(np.uint8)


def _check_labels(source, name, labels, n_images):
    """The labels as int64, refusing other than one 0 or 1 per image."""
    labels = labels.reshape(-1)
    if len(labels) != n_images:
        raise source.error(
            f"holds {len(labels)} {name} for {n_images} images: it is damaged"
        )
    _check_numbers(source, name, labels)
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        raise source.error(
            f"holds {name} {np.unique(labels[bad])[:3].tolist()}, expected 0 "
            f"(malignant) or 1 (normal/benign)"
        )
    return labels.astype(np.int64)


def _read_npz(path, splits):
    """Return (images, labels, split names) of the given splits, concatenated.

    The arrays are checked: present, whole pixel values in 0..255 and one
    0/1 label per image.
    """
    source = _DataFile(path, "BreastMNIST file", HOW_TO_GET)
    keys = [f"{name}_{kind}" for name in splits for kind in ("images", "labels")]
    if not zipfile.is_zipfile(path):
        raise source.error(
            "is empty (0 bytes)"
            if path.stat().st_size == 0
            else "is not a complete npz archive (a zip file): it is cut short, "
            "corrupt or another kind of file"
        )
    # ValueError: an array of Python objects, which np.load refuses
    with source.reading(KeyError, ValueError), np.load(path) as npz:
        missing = [key for key in keys if key not in npz.files]
        if missing:
            raise source.error(
                f"lacks the arrays {missing} (it holds {sorted(npz.files)}): it "
                f"is not the complete MedMNIST archive"
            )
        arrays = {key: npz[key] for key in keys}
    images = [
        _check_images(source, f"{name}_images", arrays[f"{name}_images"])
        for name in splits
    ]
    labels = [
        _check_labels(source, f"{name}_labels", arrays[f"{name}_labels"], len(img))
        for name, img in zip(splits, images)
    ]
    split = np.concatenate(
        [np.full(len(lab), name) for name, lab in zip(splits, labels)]
    )
    return np.concatenate(images), np.concatenate(labels), split


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
    its MD5 checked, unless ``download_if_missing`` is False. The arrays
    read are checked (see Raises), so that a damaged file is refused rather
    than silently wrapped into uint8 or mislabelled.

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
        If ``split`` is not None, "train", "val" or "test", or the file is
        empty, truncated or corrupt (a ``DataFileError``, whose message names
        the file, what was expected and how to download it again): not an npz
        archive, an array missing, pixel values that are not whole numbers in
        0..255, or labels other than 0 and 1.
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
