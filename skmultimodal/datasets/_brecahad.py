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

**Bags**: ``bags=True`` returns one row per image (or per case) holding the
list of its patches, for multiple-instance learning. The bag target is 1 if
the bag holds at least one point of ``positive_class`` (``"mitosis"`` by
default: whether the image shows a mitosis, a component of the histological
grade), else 0; ``instance_targets`` gives the class of every patch, so the
key instances are known.

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


def _image_patches(image_path, points, patch_size):
    """(patches, coordinates) of the points of one image, in the points' order."""
    half = patch_size // 2
    pixels = _DataFile(image_path, "BreCaHAD image", HOW_TO_GET).read_rgb()
    height, width = pixels.shape[:2]
    if half >= min(height, width):
        raise ValueError(
            f"patch_size={patch_size} is too large for image {image_path.name} "
            f"of {width}x{height} pixels"
        )
    padded = np.pad(pixels, ((half, half), (half, half), (0, 0)), mode="reflect")
    patches, coordinates = [], []
    for _, x, y in points:
        col = min(int(x * width), width - 1)
        row = min(int(y * height), height - 1)
        # the point lands at index ``half`` of the patch
        patches.append(padded[row : row + patch_size, col : col + patch_size].copy())
        coordinates.append((col, row))
    return patches, coordinates


def _bag_table(records, group_by, positive_class):
    """One row per image or case from the per-image (stem, names, patches, xy)."""
    units = {}
    for stem, names, patches, coordinates in records:
        # patches in reading order (row, then column), not grouped by class
        order = sorted(range(len(names)), key=lambda i: coordinates[i][::-1])
        unit = stem if group_by == "image" else _case(stem)
        bag = units.setdefault(unit, ([], [], [], []))
        bag[0].extend(patches[i] for i in order)
        bag[1].extend(names[i] for i in order)
        bag[2].extend(coordinates[i] for i in order)
        bag[3].extend([stem] * len(order))
    key = "source_image" if group_by == "image" else "case"
    data = pd.DataFrame(
        {
            "patches": pd.Series(
                _object_column(bag[0] for bag in units.values()), dtype=object
            ),
            key: pd.Series(list(units), dtype=object),
        }
    )
    instance_targets = [np.array(bag[1], dtype=object) for bag in units.values()]
    target = np.array(
        [int(np.any(names == positive_class)) for names in instance_targets],
        dtype=np.int64,
    )
    extra = {
        "instance_targets": instance_targets,
        "instance_images": [np.array(bag[3], dtype=object) for bag in units.values()],
        "coordinates": [
            np.array(bag[2], dtype=np.int64).reshape(-1, 2) for bag in units.values()
        ],
    }
    return data, target, extra


def read_brecahad(
    root,
    patch_size=64,
    *,
    classes=DEFAULT_CLASSES,
    group_by="image",
    bags=False,
    positive_class="mitosis",
    return_X_y=False,
):
    """Read BreCaHAD as a table of image patches around annotated points.

    One row per annotated point of ``classes``, holding the
    ``patch_size`` x ``patch_size`` RGB patch centred on it; or, with
    ``bags=True``, one row per image (or case) holding the bag of its patches,
    for multiple-instance learning.

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
        of the image name (see ``DESCR``). With ``bags=True``, also the unit
        of a bag: one bag per image, or one per case holding the patches of
        all its images.
    bags : bool, default=False
        If True, return one row per image (or per case, see ``group_by``)
        with the list of its patches in column ``patches``, in reading order
        of the points within each image (top to bottom, then left to right;
        images in name order), not grouped by class. The target of a bag is
        1 if it holds at least one point of ``positive_class`` (e.g. the
        image shows a mitosis), else 0: the standard multiple-instance label,
        whose key instances are the ``positive_class`` patches. Images (or
        cases) without any point of ``classes`` are left out, as in the patch
        table.
    positive_class : str, default="mitosis"
        The class whose presence makes a bag positive; one of ``classes``.
        Only used with ``bags=True``. With ``"mitosis"`` and
        ``"non_mitosis"`` among ``classes``, the mitosis-like figures that are
        not mitoses are decoy instances in both classes.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            ``image``: object column of (patch_size, patch_size, 3) uint8
            arrays; ``source_image``: the image name (file stem). With
            ``bags=True``: ``patches``, object column of lists of such
            arrays, then ``source_image`` (or ``case`` with
            ``group_by="case"``).
        target : ndarray of str
            The class of each point; with ``bags=True``, an int array, 1 for
            a bag holding a point of ``positive_class``, else 0.
        target_names : ndarray of str
            ``classes``; with ``bags=True``, ``["no <positive_class>",
            "<positive_class>"]``.
        groups : ndarray of str
            Source image (or case) of each patch, or of each bag.
        coordinates : ndarray of int of shape (n_samples, 2)
            Pixel (x, y) of each point in its image. With ``bags=True``, a
            list with one array of shape (n_patches, 2) per bag.
        instance_targets : list of ndarray of str
            Only with ``bags=True``: the class of each patch of each bag (the
            key instances are where it is ``positive_class``).
        instance_images : list of ndarray of str
            Only with ``bags=True``: the source image of each patch of each
            bag.
        feature_groups : dict
            ``{"image": ["image"]}``, or ``{"image": ["patches"]}`` with
            ``bags=True``.
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
        If an argument is invalid (``positive_class`` not among ``classes``
        with ``bags=True`` included) or an annotation is malformed, or a file
        is damaged (a ``DataFileError``, whose message names the file and
        where to obtain the data again): an annotation that is not JSON or is
        cut short, an image that cannot be decoded, is truncated or exceeds
        PIL's decompression-bomb limit.
    """
    patch_size = _check_int(patch_size, "patch_size", min_value=2)
    classes = _check_names(classes, "classes", ANNOTATION_CLASSES)
    _check_option(group_by, "group_by", GROUP_BY)
    bags = _check_bool(bags, "bags")
    _check_option(positive_class, "positive_class", ANNOTATION_CLASSES)
    if bags and positive_class not in classes:
        raise ValueError(
            f"positive_class={positive_class!r} must be one of classes "
            f"{classes} with bags=True: the bag target says whether a bag holds "
            "a point of that class"
        )
    _check_bool(return_X_y, "return_X_y")
    root = Path(root)

    records = []
    for stem, image_path, annotation_path in _pairs(root):
        points = _points(annotation_path, classes)
        if not points:
            continue
        patches, coordinates = _image_patches(image_path, points, patch_size)
        records.append((stem, [name for name, _, _ in points], patches, coordinates))

    if bags:
        data, target, extra = _bag_table(records, group_by, positive_class)
        if return_X_y:
            return data, target
        return Bunch(
            data=data,
            target=target,
            target_names=np.array([f"no {positive_class}", positive_class]),
            groups=data.iloc[:, 1].to_numpy(),
            feature_groups={"image": ["patches"]},
            frame=data.assign(target=target),
            DESCR=DESCR,
            **extra,
        )

    sources = [stem for stem, names, _, _ in records for _ in names]
    data = pd.DataFrame(
        {
            "image": pd.Series(
                _object_column(p for record in records for p in record[2]),
                dtype=object,
            ),
            "source_image": pd.Series(sources, dtype=object),
        }
    )
    target = np.array(
        [name for record in records for name in record[1]], dtype=object
    )
    if return_X_y:
        return data, target
    groups = np.array(
        sources if group_by == "image" else [_case(s) for s in sources], dtype=object
    )
    coordinates = [xy for record in records for xy in record[3]]
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
