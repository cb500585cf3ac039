"""How much of a heat map falls inside a lesion mask."""

import math

import numpy as np
import pandas as pd
import torch

from ..data._io import is_missing
from ..data._roi import read_mask, scale_box


def _crop_mask(mask, box, image_shape, row=None):
    """Crop a mask given in the original image's frame as the image was cropped."""
    if box is None:
        return mask
    if tuple(mask.shape[:2]) != tuple(image_shape[:2]):
        x0, y0, x1, y1 = scale_box(box, image_shape, mask.shape, row=row)
        box = (math.floor(x0 + 1e-9), math.floor(y0 + 1e-9),
               math.ceil(x1 - 1e-9), math.ceil(y1 - 1e-9))
    x0, y0, x1, y1 = (int(v) for v in box)
    return mask[y0:y1, x0:x1]


def _to_shape(mask, shape, row=None):
    """Nearest-neighbour resize of a bool mask to ``shape`` (same aspect ratio)."""
    if mask.shape == tuple(shape):
        return mask
    scale_box((0, 0, 1, 1), mask.shape, shape, row=row)  # raises on another aspect ratio
    tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
    out = torch.nn.functional.interpolate(tensor, size=tuple(shape), mode="nearest")
    return out[0, 0].numpy() > 0.5


def lesion_masks_in_frame(result, masks):
    """Lesion masks in the frame of each heat map of a :func:`grad_cam` result.

    Parameters
    ----------
    result : Bunch or list of ndarray
        An output of :func:`grad_cam` (or :func:`cross_attention_maps`), or
        a list of 2-D heat maps.
    masks : list
        One lesion mask per row (a 2-D array or a mask file path, nonzero =
        lesion), in the frame of the row's original image, before any crop;
        None (or NaN) where the row has no mask.

    Returns
    -------
    masks : list of ndarray of bool or None
        Each mask cropped as the row's image was cropped (``roi``; the
        ``crop_boxes`` of the result) and resized (nearest neighbour) to its
        heat map.
    """
    maps = _heatmaps(result)
    masks = list(masks)
    if len(masks) != len(maps):
        raise ValueError(f"masks has {len(masks)} entries for {len(maps)} heat maps.")
    boxes = _get(result, "crop_boxes", [None] * len(maps))
    shapes = _get(result, "original_shapes", [None] * len(maps))
    rows = _get(result, "rows", list(range(len(maps))))
    out = []
    for k, mask in enumerate(masks):
        if mask is None or (not isinstance(mask, np.ndarray) and is_missing(mask)):
            out.append(None)
            continue
        mask = read_mask(mask, row=rows[k])
        mask = _crop_mask(mask, boxes[k], shapes[k], row=rows[k])
        out.append(_to_shape(mask, np.shape(maps[k]), row=rows[k]))
    return out


def _get(result, key, default):
    if isinstance(result, dict):
        value = result.get(key)
        return default if value is None else value
    return default


def _heatmaps(result):
    if isinstance(result, dict):
        from ._overlay import _maps_of

        return _maps_of(result)
    return list(result)


def lesion_heat_share(result, masks):
    """Share of each heat map inside its lesion mask, against the lesion's area.

    For each row, ``heat_share`` is the heat inside the mask over the total
    heat, ``area_share`` the fraction of the image the mask covers, and
    ``ratio = heat_share / area_share``: 1.0 is heat spread no better than
    uniformly, above 1 heat concentrated on the lesion, below 1 heat
    elsewhere (at most ``1 / area_share``, all heat inside).

    With ``ImageModality(roi=...)`` the network sees, and :func:`grad_cam`
    explains, the crop around the lesion: the maps are in the cropped frame.
    The masks are given in the frame of the original images and are cropped
    the same way (the result's ``crop_boxes``), so the shares are those of
    the crop the network saw; the lesion then covers a large part of the
    frame, and the largest possible ratio is small. Compare crop and
    whole-image models by ``heat_share`` in their own frames, knowing that
    their ``area_share`` differ.

    Parameters
    ----------
    result : Bunch or list of ndarray
        An output of :func:`grad_cam` (its ``heatmaps``, ``crop_boxes`` and
        ``rows``), or a list of 2-D non-negative heat maps.
    masks : list
        One lesion mask per row: a 2-D array or a mask file path (nonzero =
        lesion) in the frame of the row's original image (a mask at another
        resolution, same aspect ratio, is rescaled); None where the row has
        no mask.

    Returns
    -------
    shares : DataFrame
        Columns ``heat_share``, ``area_share`` and ``ratio``, one row per
        heat map, indexed by the result's row labels. NaN where the row has
        no mask, where the map holds no heat (all zero), and ``ratio`` where
        the mask is empty.

    Raises
    ------
    ValueError
        If masks and maps differ in number, a map is negative or not
        finite, or a mask's aspect ratio differs from its image's.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.inspection import lesion_heat_share
    >>> mask = np.zeros((10, 10), dtype=bool)
    >>> mask[:5] = True
    >>> inside = mask.astype(float)
    >>> uniform = np.ones((10, 10))
    >>> lesion_heat_share([inside, uniform], [mask, mask]).round(2)
       heat_share  area_share  ratio
    0         1.0         0.5    2.0
    1         0.5         0.5    1.0
    """
    maps = _heatmaps(result)
    frames = lesion_masks_in_frame(result, masks)
    rows = _get(result, "rows", list(range(len(maps))))
    records = []
    for k, (heat, mask) in enumerate(zip(maps, frames)):
        heat = np.asarray(heat, dtype=np.float64)
        if heat.ndim != 2:
            raise ValueError(f"Heat map of row {rows[k]!r} has shape {heat.shape}; "
                             "expected (H, W).")
        if not np.isfinite(heat).all() or heat.min() < 0:
            raise ValueError(f"Heat map of row {rows[k]!r} holds negative or non-finite "
                             "values; a heat share needs non-negative heat.")
        if mask is None:
            records.append((np.nan, np.nan, np.nan))
            continue
        total = heat.sum()
        area = float(mask.mean())
        share = float(heat[mask].sum() / total) if total > 0 else np.nan
        ratio = share / area if area > 0 else np.nan
        records.append((share, area, ratio))
    return pd.DataFrame(records, columns=["heat_share", "area_share", "ratio"],
                        index=pd.Index(rows))


def heat_share_text(share, ratio):
    """Short panel text: "lesion heat 62% (2.1x uniform)"."""
    if not np.isfinite(share):
        return "lesion heat: n/a"
    text = f"lesion heat {100 * share:.0f}%"
    return text + (f" ({ratio:.1f}x uniform)" if np.isfinite(ratio) else "")
