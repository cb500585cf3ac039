"""Heat maps drawn over their images with matplotlib."""

import numbers

import numpy as np

from ._flat import FLAT_NOTE, is_flat


def _display_image(image):
    """Return ``(array, cmap, vmin, vmax)`` for ``imshow`` of a grey or colour image."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise ValueError(
            f"image has shape {image.shape}; expected a grey (H, W) or (H, W, 1) or a "
            "colour (H, W, 3) or (H, W, 4) image."
        )
    if image.dtype.kind not in "biuf":
        raise ValueError(f"image has dtype {image.dtype}; expected a numeric dtype.")
    if image.dtype == np.uint8:
        low, high = 0.0, 255.0
    elif image.dtype == np.uint16:
        low, high = 0.0, 65535.0
    else:
        low, high = float(np.min(image)), float(np.max(image))
        if low >= 0 and high <= 1:
            low, high = 0.0, 1.0
    if image.ndim == 2:
        return image, "gray", low, high
    scaled = (image.astype(np.float64) - low) / (high - low if high > low else 1.0)
    return np.clip(scaled, 0.0, 1.0), None, None, None


def plot_heatmap_overlay(image, heatmap, *, ax=None, alpha=0.4, cmap="jet", title=None,
                         flat=None, mask=None):
    """Draw a heat map over an image.

    A flat map (constant, all zero included) localises nothing: the image is
    drawn alone, without the heat map (which would be a uniform tint), and
    the panel says "flat map: no localisation".

    Parameters
    ----------
    image : ndarray of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
        Grey or colour image (uint8, uint16 or float).
    heatmap : ndarray of shape (H, W)
        Map aligned with the image, e.g. from :func:`grad_cam` or
        :func:`cross_attention_maps`. Shown on [0, 1] when its values lie
        there, else on [0, max].
    ax : matplotlib Axes, default=None
        Axes to draw on; None creates a figure with ``matplotlib.pyplot``.
    alpha : float, default=0.4
        Opacity of the heat map, in [0, 1].
    cmap : str or Colormap, default="jet"
        Colour map of the heat map.
    title : str, default=None
    flat : bool, default=None
        Whether the map is flat; None decides from the map (its range is at
        most 1e-3 of its largest absolute value). The ``flat`` entries of
        :func:`grad_cam` and :func:`cross_attention_maps` say it per map.
    mask : ndarray of shape (H, W), default=None
        A lesion mask aligned with the image (nonzero = lesion), drawn as a
        white outline.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    shown, image_cmap, low, high = _display_image(image)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.shape != shown.shape[:2]:
        raise ValueError(
            f"heatmap has shape {heatmap.shape} but the image is {shown.shape[:2]}; the "
            "heat map must have the image's height and width."
        )
    if not np.isfinite(heatmap).all():
        raise ValueError("heatmap contains NaN or infinity.")
    if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
            or not 0 <= alpha <= 1):
        raise ValueError(f"alpha={alpha!r} must be a number in [0, 1].")
    if flat is None:
        flat = is_flat(heatmap)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(shown, cmap=image_cmap, vmin=low, vmax=high, interpolation="nearest")
    if flat:
        # no heat image: a uniform tint would look like an answer
        title = FLAT_NOTE if title is None else f"{title}\n{FLAT_NOTE}"
    else:
        top = 1.0 if heatmap.min() >= 0 and heatmap.max() <= 1 else float(heatmap.max())
        ax.imshow(heatmap, cmap=cmap, alpha=alpha, vmin=min(0.0, heatmap.min()), vmax=top,
                  interpolation="bilinear")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != shown.shape[:2]:
            raise ValueError(
                f"mask has shape {mask.shape} but the image is {shown.shape[:2]}; the "
                "mask must have the image's height and width."
            )
        if (mask != 0).any() and not (mask != 0).all():
            ax.contour((mask != 0).astype(float), levels=[0.5], colors="white",
                       linewidths=1.0)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title, fontsize=9, **({"color": "firebrick"} if flat else {}))
    return ax


def _maps_of(result):
    if "heatmaps" in result:
        return result["heatmaps"]
    if "maps" in result:
        return result["maps"]
    raise ValueError(
        "result must hold 'heatmaps' (from grad_cam) or 'maps' (from "
        "cross_attention_maps) and 'images'."
    )


def plot_image_explanations(result, *, indices=None, n_cols=4, path=None, titles=None,
                            masks=None):
    """Grid of heat-map overlays from :func:`grad_cam` or :func:`cross_attention_maps`.

    A flat map (``result.flat``; without it, a map whose range is at most
    1e-3 of its largest value) is not drawn: its panel shows the image alone
    and says "flat map: no localisation". With ``masks``, each panel
    outlines the lesion and its title gives the share of the heat inside it
    (see :func:`lesion_heat_share`).

    Parameters
    ----------
    result : Bunch
        The output of :func:`grad_cam` (``heatmaps``) or of
        :func:`cross_attention_maps` (``maps``), with ``images``.
    indices : array-like of int, default=None
        Positions of the rows to show; None shows them all.
    n_cols : int, default=4
        Panels per row of the grid.
    path : str or path-like, default=None
        If given, the figure is also saved there as a PNG.
    titles : list of str, default=None
        One title per shown panel; by default the row label, and the
        explained class for Grad-CAM.
    masks : list, default=None
        One lesion mask per row of ``result`` (2-D array or mask file,
        nonzero = lesion, in the frame of the original image; None for a
        row without one). Cropped as the images were (``roi``).

    Returns
    -------
    fig : matplotlib Figure
        The figure of
        ``ImageExplanationDisplay.from_result(result, indices=indices,
        titles=titles, masks=masks).plot(n_cols=n_cols)``.

    See Also
    --------
    ImageExplanationDisplay : The display drawn, which also draws on given Axes.
    """
    from ._image_display import ImageExplanationDisplay, _check_n_cols

    _check_n_cols(n_cols)
    display = ImageExplanationDisplay.from_result(result, indices=indices, titles=titles,
                                                  masks=masks)
    fig = display.plot(n_cols=n_cols).figure_
    if path is not None:
        fig.savefig(path, format="png", dpi=100)
    return fig
