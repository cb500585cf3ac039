"""Loader of BUSI, the Breast Ultrasound Images data set (image paths + labels)."""

import re

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _check_bool, _check_names, get_data_home
from ._verify import _check_png_files

FOLDER = "busi_256"
CLASSES = ("benign", "malignant", "normal")
MASK_MARKER = "_mask"  # the original release has "<name>_mask.png", "<name>_mask_1.png"

HOW_TO_GET = (
    "Download Dataset_BUSI_with_GT from https://scholar.cu.edu.eg/?q=afahmy/pages/"
    "dataset or Kaggle (https://www.kaggle.com/datasets/aryashah2k/"
    "breast-ultrasound-images-dataset) and put its benign/, malignant/ and "
    "normal/ folders there (mask files are skipped). It is not downloaded "
    "automatically (no single canonical file address)."
)

DESCR = """\
.. _busi_dataset:

BUSI: Breast Ultrasound Images (256x256 copy)
---------------------------------------------

780 breast ultrasound images of 600 women aged 25-75, collected in 2018 at
Baheya Hospital, Cairo: benign 437, malignant 210, normal 133. In the copy read here
the images were resized to 256x256 pixels (aspect ratio not kept) and stored
as 8-bit RGB PNG (764 of the 780 with R = G = B); the segmentation masks of
the original release are not included. Labels are the folder names.

**Target**: the class name of each image (strings), among ``classes``.

**Groups and leakage**: BUSI publishes no patient identifiers, and several
images of the same patient or lesion, as well as near-duplicate images, are
known to be present. ``groups`` is therefore only the file stem (e.g.
``"benign (1)"``): grouped splits on it are ordinary splits and cannot protect
against near-duplicates falling on both sides, so scores on random splits of
BUSI are optimistic. BreastMNIST is derived from the same images: do not
pre-train on one and test on the other.

**Files**: ``<data_home>/busi_256/{benign,malignant,normal}/*.png`` with the
original file names (``benign (1).png`` ...); files whose name contains
``_mask`` (masks of the original release) are skipped.

**Source**: Al-Dhabyani et al., https://scholar.cu.edu.eg/?q=afahmy/pages/dataset
(Dataset_BUSI_with_GT.zip), also on Kaggle
(aryashah2k/breast-ultrasound-images-dataset); resized copy from GitHub
TongxinWang0405/BMI702_project.

**Licence**: CC BY 4.0 (the data article's licence), with citation.

**Citation**:

- Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound
  images. Data in Brief 28, 104863 (2020). doi:10.1016/j.dib.2019.104863
"""


def _natural_key(path):
    """Sort "benign (2)" before "benign (10)"."""
    parts = re.split(r"(\d+)", path.name)
    return [int(part) if part.isdigit() else part for part in parts]


def _list_images(folder, name):
    """The non-mask PNG files of one class folder, in natural order."""
    class_folder = folder / name
    if not class_folder.is_dir():
        raise FileNotFoundError(
            f"The BUSI data set was not found: missing the class folder '{name}' in "
            f"'{folder}'. Point the data_home argument or the SKMULTIMODAL_DATA "
            f"environment variable to the folder holding busi_256/. {HOW_TO_GET}"
        )
    paths = sorted(
        (
            p
            for p in class_folder.iterdir()
            if p.is_file() and p.suffix.lower() == ".png" and MASK_MARKER not in p.stem
        ),
        key=_natural_key,
    )
    if not paths:
        raise FileNotFoundError(
            f"The BUSI class folder '{class_folder}' holds no image (*.png other "
            f"than masks). {HOW_TO_GET}"
        )
    return paths


def load_busi(*, data_home=None, classes=CLASSES, return_X_y=False):
    """Load BUSI: breast ultrasound image paths with their class (images only).

    =================   ======================================
    Images              780 (256x256 PNG, RGB)
    Classes             benign 437, malignant 210, normal 133
    Patients            not identified (groups = file stem)
    =================   ======================================

    Read from ``<data_home>/busi_256/{benign,malignant,normal}/``; nothing
    is downloaded. Each image is checked to be a complete PNG file (its
    signature and final chunk), so that a partly copied folder is refused.
    BUSI contains near-duplicate images and no patient identifiers, so no
    split can fully prevent leakage (see ``DESCR``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    classes : sequence of {"benign", "malignant", "normal"}, \
            default=("benign", "malignant", "normal")
        The classes to load, in this order (rows follow it); e.g.
        ``("benign", "malignant")`` for the lesion task.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            One column ``image_path`` (absolute path strings).
        target : ndarray of str of shape (n_samples,)
            The class name of each image.
        target_names : ndarray of str
            ``classes``.
        groups : ndarray of str
            The file stem of each image (``"benign (1)"``): BUSI has no
            patient identifiers.
        feature_groups : dict
            ``{"image": ["image_path"]}``.
        frame : DataFrame
            ``data`` with a ``target`` column.
        DESCR : str
            Description with provenance, licence, citation and the leakage
            caveat.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If a class folder is missing or holds no image.
    ValueError
        If ``classes`` is empty, repeats a name or names an unknown class, or
        an image is empty, not a PNG file or cut short (a ``DataFileError``,
        whose message names the file and where to obtain the data again).
    """
    classes = _check_names(classes, "classes", CLASSES)
    _check_bool(return_X_y, "return_X_y")
    folder = get_data_home(data_home) / FOLDER
    listed = [(name, _list_images(folder, name)) for name in classes]
    for _, class_paths in listed:
        _check_png_files(class_paths, "BUSI image", HOW_TO_GET)

    paths = [path.resolve() for _, class_paths in listed for path in class_paths]
    target = np.array(
        [name for name, class_paths in listed for _ in class_paths], dtype=object
    )
    data = pd.DataFrame(
        {"image_path": pd.Series([str(p) for p in paths], dtype=object)}
    )

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=np.array(classes),
        groups=np.array([p.stem for p in paths], dtype=object),
        feature_groups={"image": ["image_path"]},
        frame=data.assign(target=target),
        DESCR=DESCR,
    )
