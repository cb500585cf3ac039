"""Reader of BreCaHAD (breast cancer histopathology with point annotations)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _check_bool, _check_int, _check_names, _check_option, _object_column
from ._verify import _DataFile

ANNOTATION_CLASSES = (
    "mitosis",
    "non_mitosis",
    "apoptosis",
    "tumor",
    "non_tumor",
    "lumen",
    "non_lumen",
)
DEFAULT_CLASSES = ("mitosis", "tumor", "non_tumor")
IMAGE_SUFFIXES = (".tif", ".tiff")
GROUP_BY = ("image", "case")

HOW_TO_GET = (
    "BreCaHAD is published on figshare (https://figshare.com/articles/dataset/"
    "BreCaHAD_A_Dataset_for_Breast_Cancer_Histopathological_Annotation_and_"
    "Diagnosis/7379186): unzip it so that the folder holds images/*.tif and "
    "groundTruth/*.json."
)

DESCR = """\
.. _brecahad_dataset:

BreCaHAD: patches around annotated cells of breast cancer histopathology
------------------------------------------------------------------------

162 H&E-stained breast cancer histopathology images (RGB TIFF) with point
annotations of cells and structures in 7 classes: mitosis,
non_mitosis, apoptosis, tumor, non_tumor, lumen and non_lumen. The reader
turns each annotated point of the chosen classes into a square patch of the
image centred on the point (the image is mirrored at its borders), labelled
by the point's class.

**Groups**: BreCaHAD does not identify patients. ``groups`` is the source
image by default: patches of one image share tissue, staining and often the
same cell, so a random split of patches leaks; grouping by source image is
the closest honest split the data allow, but images of one patient may still
fall on both sides. ``group_by="case"`` groups by the ``Case_N`` prefix of the
file names (``Case_1-01`` -> ``Case_1``), which is safer if a case is a
patient or a slide.

**Source and licence**: figshare, article 7379186 ("BreCaHAD: A Dataset for
Breast Cancer Histopathological Annotation and Diagnosis"); check the licence
stated there. The data article is open access under CC BY 4.0.

**Citation**:

- Aksac A, Demetrick DJ, Ozyer T, Alhajj R. BreCaHAD: a dataset for breast
  cancer histopathological annotation and diagnosis. BMC Research Notes
  12, 82 (2019). doi:10.1186/s13104-019-4121-7
"""


def _case(stem):
    """``Case_1-01`` -> ``Case_1``; a stem without '-' is its own case."""
    return stem.rsplit("-", 1)[0] if "-" in stem else stem


def _pairs(root):
    """(stem, image path, annotation path) of every annotation file, sorted."""
    images_dir, truth_dir = root / "images", root / "groundTruth"
    for folder in (images_dir, truth_dir):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"BreCaHAD folder '{folder}' not found: read_brecahad expects "
                f"root/images/*.tif and root/groundTruth/*.json. {HOW_TO_GET}"
            )
    annotations = sorted(truth_dir.glob("*.json"))
    if not annotations:
        raise FileNotFoundError(
            f"No annotation file (*.json) in '{truth_dir}'. {HOW_TO_GET}"
        )
    images = {
        p.stem: p
        for p in images_dir.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    }
    missing = [p.stem for p in annotations if p.stem not in images]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise FileNotFoundError(
            f"BreCaHAD images missing in '{images_dir}' for annotation files "
            f"{missing[:10]}{more}"
        )
    return [(p.stem, images[p.stem], p) for p in annotations]


def _points(path, classes):
    """(class, x, y) of the annotated points, x and y normalised to [0, 1]."""
    source = _DataFile(path, "BreCaHAD annotation file", HOW_TO_GET)
    # JSONDecodeError: a file cut short or not JSON
    with source.reading(json.JSONDecodeError), open(path, encoding="utf-8") as f:
        annotation = json.load(f)
    if not isinstance(annotation, dict):
        raise ValueError(f"{path.name}: expected a JSON object of class -> points")
    points = []
    for name in classes:
        for point in annotation.get(name) or []:
            try:
                x, y = float(point["x"]), float(point["y"])
            except (TypeError, KeyError, ValueError):
                raise ValueError(
                    f"{path.name}: a point of class {name!r} is not "
                    f'{{"x": ..., "y": ...}}: {point!r}'
                ) from None
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(
                    f"{path.name}: point ({x}, {y}) of class {name!r} is not "
                    f"normalised to [0, 1]"
                )
            points.append((name, x, y))
    return points


def read_brecahad(
    root,
    patch_size=64,
    *,
    classes=DEFAULT_CLASSES,
    group_by="image",
    return_X_y=False,
):
    """Read BreCaHAD as a table of image patches around annotated points.

    One row per annotated point of ``classes``, holding the
    ``patch_size`` x ``patch_size`` RGB patch centred on it.

    Parameters
    ----------
    root : str or path-like
        Folder of the unzipped data set: ``root/images/<name>.tif`` and
        ``root/groundTruth/<name>.json``, each JSON an object mapping class
        names to lists of points ``{"x": .., "y": ..}`` with coordinates
        normalised by the image width and height.
    patch_size : int, default=64
        Side of the square patches in pixels; smaller than twice the image
        sides.
    classes : sequence of str, default=("mitosis", "tumor", "non_tumor")
        Annotation classes to read, among "mitosis", "non_mitosis",
        "apoptosis", "tumor", "non_tumor", "lumen" and "non_lumen"; the
        target is the class name. A class absent from a file has no point
        there.
    group_by : {"image", "case"}, default="image"
        ``groups`` of each patch: its source image, or the ``Case_N`` prefix
        of the image name (see ``DESCR``).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            ``image``: object column of (patch_size, patch_size, 3) uint8
            arrays; ``source_image``: the image name (file stem).
        target : ndarray of str
            The class of each point.
        target_names : ndarray of str
            ``classes``.
        groups : ndarray of str
            Source image (or case) of each patch.
        coordinates : ndarray of int of shape (n_samples, 2)
            Pixel (x, y) of each point in its image.
        feature_groups : dict
            ``{"image": ["image"]}``.
        frame : DataFrame
            ``data`` with a ``target`` column.
        DESCR : str
            Description with provenance, licence and citation.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If ``root/images`` or ``root/groundTruth`` is missing, holds no
        annotation, or an annotation has no image.
    ValueError
        If an argument is invalid or an annotation is malformed, or a file is
        damaged (a ``DataFileError``, whose message names the file and where
        to obtain the data again): an annotation that is not JSON or is cut
        short, an image that cannot be decoded, is truncated or exceeds PIL's
        decompression-bomb limit.
    """
    patch_size = _check_int(patch_size, "patch_size", min_value=2)
    classes = _check_names(classes, "classes", ANNOTATION_CLASSES)
    _check_option(group_by, "group_by", GROUP_BY)
    _check_bool(return_X_y, "return_X_y")
    root = Path(root)
    half = patch_size // 2

    patches, labels, sources, coordinates = [], [], [], []
    for stem, image_path, annotation_path in _pairs(root):
        points = _points(annotation_path, classes)
        if not points:
            continue
        pixels = _DataFile(image_path, "BreCaHAD image", HOW_TO_GET).read_rgb()
        height, width = pixels.shape[:2]
        if half >= min(height, width):
            raise ValueError(
                f"patch_size={patch_size} is too large for image {image_path.name} "
                f"of {width}x{height} pixels"
            )
        padded = np.pad(pixels, ((half, half), (half, half), (0, 0)), mode="reflect")
        for name, x, y in points:
            col = min(int(x * width), width - 1)
            row = min(int(y * height), height - 1)
            # the point lands at index ``half`` of the patch
            patch = padded[row : row + patch_size, col : col + patch_size]
            patches.append(patch.copy())
            labels.append(name)
            sources.append(stem)
            coordinates.append((col, row))

    data = pd.DataFrame(
        {
            "image": pd.Series(_object_column(patches), dtype=object),
            "source_image": pd.Series(sources, dtype=object),
        }
    )
    target = np.array(labels, dtype=object)
    if return_X_y:
        return data, target
    groups = np.array(
        sources if group_by == "image" else [_case(s) for s in sources], dtype=object
    )
    return Bunch(
        data=data,
        target=target,
        target_names=np.array(classes),
        groups=groups,
        coordinates=np.array(coordinates, dtype=np.int64).reshape(-1, 2),
        feature_groups={"image": ["image"]},
        frame=data.assign(target=target),
        DESCR=DESCR,
    )
