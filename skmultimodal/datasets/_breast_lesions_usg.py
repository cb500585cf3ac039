"""Loader of BrEaST-Lesions-USG: breast ultrasound images + clinical table."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _check_bool, _require_files, get_data_home
from ._verify import _check_png_files, _DataFile

FOLDER = "breast_lesions_usg"
FILENAME = "BrEaST-Lesions-USG-clinical-data-Dec-15-2023.xlsx"
# Folder of the PNG files: "images" in the shared copy, the TCIA name otherwise.
IMAGE_FOLDERS = ("images", "BrEaST-Lesions_USG-images_and_masks")
TARGET_NAMES = np.array(["benign", "malignant"])
CLASSES = ("benign", "malignant", "normal")  # the values of the label column
NOT_AVAILABLE = "not available"

# Leakage-free clinical columns: recorded before and independently of the
# image reading.
CLINICAL_COLUMNS = ("Age", "Tissue_composition", "Signs", "Symptoms")
# Radiologist readings of the same image (BI-RADS lexicon and category): they
# encode the reader's judgement of malignancy.
BIRADS_COLUMNS = (
    "Shape",
    "Margin",
    "Echogenicity",
    "Posterior_features",
    "Halo",
    "Calcifications",
    "Skin_thickening",
    "BIRADS",
    "Interpretation",
)
# The label; it and the columns revealing it (Diagnosis, Verification) are never returned.
LABEL = "Classification"
REQUIRED_COLUMNS = (
    "CaseID",
    "Image_filename",
    "Mask_tumor_filename",
    "Pixel_size",
    *CLINICAL_COLUMNS,
    *BIRADS_COLUMNS,
    LABEL,
)

HOW_TO_GET = (
    "Download the collection 'BrEaST-Lesions-USG' from The Cancer Imaging "
    "Archive (https://doi.org/10.7937/9WKK-Q141): put the clinical-data xlsx in "
    "that folder and the caseNNN.png / caseNNN_tumor.png files in its images/ "
    "sub-folder. It is not downloaded automatically (no single-file address)."
)

DESCR = """\
.. _breast_lesions_usg_dataset:

BrEaST-Lesions-USG: breast ultrasound images with clinical data
---------------------------------------------------------------

256 breast ultrasound scans of 256 patients (one B-mode image per patient),
with a tumour mask per lesion and a clinical and BI-RADS table.
Classification: benign 154, malignant 98, normal 4.

**Task**: benign vs malignant. The 4 "normal" scans (no lesion) are dropped,
leaving 252 patients; target 1 = malignant (98, 39%), 0 = benign (154).
The labels were verified by biopsy (197) or follow-up care (55).

**Columns**

- ``image_path``: absolute path of the scan ``caseNNN.png`` (8-bit RGBA PNG
  with grey content, about 400-800 pixels per side).
- ``mask_path``: path of the binary tumour mask ``caseNNN_tumor.png`` (every
  benign or malignant case has one). Not a feature group: the mask is drawn
  by an expert who knows the lesion.
- clinical, leakage-free: ``Age`` (float; the string 'not available' becomes
  NaN: 42 patients in the file, 41 of the 252 kept), ``Tissue_composition``,
  ``Signs``, ``Symptoms`` (strings as published, 'not available' included,
  several values joined by '&').
- BI-RADS, only with ``include_birads=True``: ``Shape``, ``Margin``,
  ``Echogenicity``, ``Posterior_features``, ``Halo``, ``Calcifications``,
  ``Skin_thickening``, ``BIRADS`` (category 2 ... 5 with 4a/4b/4c, as
  strings) and ``Interpretation``. They are the radiologist's reading of the
  same image and leak the label (BIRADS 2-3 is benign in all 67 cases; 4c-5
  is malignant in 81 of 95). ``Diagnosis``, ``Verification`` and
  ``Classification`` are never returned.

``groups`` is the CaseID (one image per patient, so grouped and ungrouped
splits coincide; it is given for uniformity and for joining other sources).
``pixel_size`` gives the pixel side in centimetres of each image.

Baselines reported with the data (5-fold stratified CV, seed 0): logistic
regression on Age + Tissue_composition + Signs + Symptoms AUC 0.786;
ResNet-18 from scratch on the image (96 px) AUC 0.688; their average 0.776.

**Files**: ``<data_home>/breast_lesions_usg/`` holding
``BrEaST-Lesions-USG-clinical-data-Dec-15-2023.xlsx`` (sheet 1) and the PNG
files in ``images/`` (or ``BrEaST-Lesions_USG-images_and_masks/``, the TCIA
name). The masks of other lesions (``caseNNN_otherK.png``, 7 cases) are not
used.

**Source**: The Cancer Imaging Archive, collection BrEaST-Lesions-USG,
DOI 10.7937/9WKK-Q141 (version of 15 December 2023).

**Licence**: CC BY 4.0 (attribution required).

**Citation**:

- Pawlowska A, Cwierz-Pienkowska A, Domalik A, Jagus D, Kasprzak P,
  Matkowski R, Fura L, Nowicki A, Zolek N. Curated benchmark dataset for
  ultrasound based breast lesion analysis. Scientific Data 11, 148 (2024).
  doi:10.1038/s41597-024-02984-z
"""


def _read_table(path):
    """Read sheet 1 of the xlsx, checking its columns and values.

    Returns the table with ``Age`` as float (NaN where not available).
    """
    source = _DataFile(path, "BrEaST-Lesions-USG clinical table", HOW_TO_GET)
    # KeyError, SyntaxError (XML ParseError), ValueError: damaged xlsx members
    with source.reading(KeyError, SyntaxError, ValueError):
        table = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    source.check_columns(
        table.columns,
        REQUIRED_COLUMNS,
        expected="the BrEaST-Lesions-USG clinical-data table",
    )
    source.check_count(len(table), 1, unit="cases")
    source.check_values(table[LABEL], CLASSES, f"classes in {LABEL!r}")
    for column, what, integer in (
        ("CaseID", "case ids", True),
        ("Pixel_size", "pixel sizes", False),
    ):
        table[column] = source.numeric(
            table[[column]], what, allow_missing=False, integer=integer
        )[column]
    age = table["Age"]
    not_available = age.astype("string").str.strip().str.lower() == NOT_AVAILABLE
    table["Age"] = source.numeric(age.mask(not_available).to_frame(), "ages")["Age"]
    return table


def _image_folder(folder):
    """The first existing folder of IMAGE_FOLDERS (the first one if none exists)."""
    for name in IMAGE_FOLDERS:
        if (folder / name).is_dir():
            return name
    return IMAGE_FOLDERS[0]


def load_breast_lesions_usg(
    *, data_home=None, include_birads=False, return_X_y=False, as_frame=True
):
    """Load BrEaST-Lesions-USG: ultrasound image paths + clinical data.

    =================   =========================================
    Patients            252 (256 in the file, 4 "normal" dropped)
    Classes             2: benign 154, malignant 98 (target 1)
    Image               one PNG path per patient (+ tumour mask)
    Clinical            4 leakage-free columns (+9 BI-RADS readings)
    =================   =========================================

    Read from ``<data_home>/breast_lesions_usg/``; nothing is downloaded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    include_birads : bool, default=False
        Add the BI-RADS columns (Shape, Margin, Echogenicity,
        Posterior_features, Halo, Calcifications, Skin_thickening, BIRADS,
        Interpretation) as a third feature group ``"birads"``. They are
        radiologist readings of the same image and leak the label, so a
        UserWarning is emitted.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        If True, ``data`` is a DataFrame. If False, it is the object ndarray
        of the same values (column names in ``feature_names``) and ``frame``
        is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame or ndarray of shape (252, n_columns)
            ``image_path`` and ``mask_path`` (absolute path strings), then
            ``Age`` (float, NaN when not available), ``Tissue_composition``,
            ``Signs``, ``Symptoms`` (strings as published), then the BI-RADS
            columns if ``include_birads``.
        target : ndarray of int of shape (252,)
            1 = malignant, 0 = benign.
        target_names : ndarray of str
            ``["benign", "malignant"]``.
        groups : ndarray of int
            CaseID of each row (one image per patient).
        feature_groups : dict
            ``{"image": ["image_path"], "clinical": [the 4 clinical
            columns]}``, plus ``"birads"`` if ``include_birads``.
        feature_names : list of str
            The columns of ``data``.
        pixel_size : ndarray of float
            Pixel side of each image in centimetres.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame`` is True.
        DESCR : str
            Description with provenance, licence and citation.
        filename : str
            Path of the xlsx file read.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the xlsx file or any image or mask it names is missing; the message
        names the files and where to obtain them.
    ValueError
        If an argument is invalid, or a file is damaged (a ``DataFileError``,
        whose message names the file, what was expected and where to obtain
        it again): the xlsx file is empty, corrupt, lacks the expected columns
        or holds unexpected values (an unknown class, an age that is neither a
        number nor 'not available'), or an image or mask is not a complete PNG
        file.
    """
    include_birads = _check_bool(include_birads, "include_birads")
    _check_bool(return_X_y, "return_X_y")
    as_frame = _check_bool(as_frame, "as_frame")
    folder = get_data_home(data_home) / FOLDER
    (path,) = _require_files(
        folder, [FILENAME], "BrEaST-Lesions-USG", how_to_get=HOW_TO_GET
    )

    table = _read_table(path)
    table = table[table[LABEL].isin(TARGET_NAMES)].reset_index(drop=True)
    target = (table[LABEL] == "malignant").to_numpy().astype(np.int64)

    images = _image_folder(folder)
    image_names = [f"{images}/{name}" for name in table["Image_filename"]]
    mask_names = [
        None if pd.isna(name) else f"{images}/{name}"
        for name in table["Mask_tumor_filename"]
    ]
    image_paths = _require_files(
        folder,
        image_names + [name for name in mask_names if name is not None],
        "BrEaST-Lesions-USG",
        how_to_get=HOW_TO_GET,
    )
    _check_png_files(image_paths, "BrEaST-Lesions-USG image", HOW_TO_GET)
    root = folder.resolve()
    data = pd.DataFrame(
        {
            "image_path": pd.Series([str(root / n) for n in image_names], dtype=object),
            "mask_path": pd.Series(
                [None if n is None else str(root / n) for n in mask_names], dtype=object
            ),
        }
    )
    clinical = table[list(CLINICAL_COLUMNS)].copy()
    data = pd.concat([data, clinical], axis=1)
    feature_groups = {"image": ["image_path"], "clinical": list(CLINICAL_COLUMNS)}

    if include_birads:
        warnings.warn(
            "include_birads=True adds the BI-RADS descriptors, category and "
            "interpretation: they are the radiologist's readings of the same "
            "image and leak the benign/malignant label, so scores using them "
            "largely measure the radiologist, not the model.",
            UserWarning,
            stacklevel=2,
        )
        birads = table[list(BIRADS_COLUMNS)].copy()
        # the category mixes ints (2, 3, 5) and strings ("4a"): all strings
        birads["BIRADS"] = birads["BIRADS"].map(
            lambda v: v if pd.isna(v) else str(v).strip()
        )
        data = pd.concat([data, birads], axis=1)
        feature_groups["birads"] = list(BIRADS_COLUMNS)

    feature_names = list(data.columns)
    frame = None
    if as_frame:
        frame = data.assign(target=target)
    else:
        data = data.to_numpy(dtype=object)

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=TARGET_NAMES.copy(),
        groups=table["CaseID"].to_numpy().astype(np.int64),
        feature_groups=feature_groups,
        feature_names=feature_names,
        pixel_size=table["Pixel_size"].to_numpy().astype(np.float64),
        frame=frame,
        DESCR=DESCR,
        filename=str(path),
    )
