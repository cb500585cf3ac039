"""Flat maps: heat or attention maps that carry no localisation."""

import numpy as np

#: A map is flat when its range (max - min) is at most this fraction of its
#: scale: the largest absolute value of the map, or 1 for the Grad-CAM maps,
#: which are normalised to [0, 1] (a map that localises anything reaches 1).
FLAT_RTOL = 1e-3

#: Smallest feature-map grid (in both dimensions) that can localise: a layer
#: whose output is 1 x 1 gives one number per channel and a flat map.
MIN_GRID = 2

#: Panel text of a flat map, drawn instead of a heat overlay.
FLAT_NOTE = "flat map: no localisation"


def is_flat(heatmap, scale=None):
    """Whether a map is constant (all zero included) up to :data:`FLAT_RTOL`.

    Parameters
    ----------
    heatmap : array-like
        The map.
    scale : float, default=None
        What the range is compared with; None takes the map's largest
        absolute value.

    Returns
    -------
    flat : bool
    """
    values = np.asarray(heatmap, dtype=np.float64)
    if values.size == 0:
        return True
    peak = float(np.abs(values).max()) if scale is None else float(scale)
    return bool(peak == 0 or float(values.max() - values.min()) <= FLAT_RTOL * peak)
