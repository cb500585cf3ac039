"""Display of Grad-CAM and cross-attention heat maps over their images."""

import math
import numbers

import numpy as np

from ._lesion import heat_share_text, lesion_heat_share, lesion_masks_in_frame
from ._overlay import _maps_of, plot_heatmap_overlay

__all__ = ["ImageExplanationDisplay"]


def _check_n_cols(n_cols):
    if (isinstance(n_cols, bool) or not isinstance(n_cols, numbers.Integral)
            or n_cols < 1):
        raise ValueError(f"n_cols={n_cols!r} must be a positive int.")


def _check_indices(indices, n):
    """Positions of the rows to show, as a list of int (all rows for None)."""
    if indices is None:
        indices = list(range(n))
    else:
        indices = [int(i) for i in np.atleast_1d(np.asarray(indices))]
        bad = [i for i in indices if not -n <= i < n]
        if bad:
            raise ValueError(f"indices {bad} are out of range for {n} explained rows.")
    if not indices:
        raise ValueError("No rows to plot: indices is empty.")
    return indices


def _check_titles(titles, n_panels):
    if titles is None:
        return None
    titles = list(titles)
    if len(titles) != n_panels:
        raise ValueError(f"titles has {len(titles)} entries for {n_panels} panels.")
    return titles


def _target_title(targets, i):
    """", class <label>" for a classifier's map, ", risk" for a survival model's."""
    if targets is None:
        return ""
    target = targets[i]
    return ", risk" if isinstance(target, str) and target == "risk" else f", class {target}"


class ImageExplanationDisplay:
    """Grid of heat maps drawn over their images, one panel per explained row.

    Follows scikit-learn's display pattern: build it with
    :meth:`from_estimator` (which runs :func:`grad_cam`) or
    :meth:`from_result` (an output of :func:`grad_cam` or
    :func:`cross_attention_maps`), then draw it with :meth:`plot`. Each panel
    is drawn by :func:`plot_heatmap_overlay`; a flat map (no localisation) is
    not drawn: its panel shows the image alone and says "flat map: no
    localisation".

    Parameters
    ----------
    images : list of ndarray
        One image per row, (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
    heatmaps : list of ndarray
        One map per row, of shape (H, W): the height and width of its image.
    titles : list of str, default=None
        One title per row; None leaves the panels untitled.
    flat : array-like of bool, default=None
        Whether each map is flat; None decides from each map (see
        :func:`plot_heatmap_overlay`).
    masks : list of ndarray or None, default=None
        One lesion mask per row, aligned with its image (None for a row
        without one): outlined on the panel, and the panel's title gets the
        share of the heat inside the lesion (see :func:`lesion_heat_share`).

    Attributes
    ----------
    images, heatmaps, titles, flat, masks
        The parameters, as lists (``flat`` as a bool ndarray, or None).
    heat_shares_ : DataFrame or None
        With ``masks``, the :func:`lesion_heat_share` of each row (after
        :meth:`plot`).
    figure_ : matplotlib Figure
        The figure drawn on (after :meth:`plot`).
    axes_ : ndarray of matplotlib Axes
        One Axes per row, in the order of the rows (after :meth:`plot`).
    ax_ : matplotlib Axes
        The first panel.

    See Also
    --------
    grad_cam : Class activation maps of the image branch.
    cross_attention_maps : Attention of the other modalities over the image.
    plot_image_explanations : The figure of ``from_result(result).plot()``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.inspection import ImageExplanationDisplay
    >>> images = [np.zeros((8, 8)), np.ones((8, 8))]
    >>> heatmaps = [np.eye(8), np.zeros((8, 8))]
    >>> display = ImageExplanationDisplay(images, heatmaps, titles=["a", "b"],
    ...                                   flat=[False, True]).plot(n_cols=2)
    >>> [len(ax.get_images()) for ax in display.axes_]
    [2, 1]
    """

    def __init__(self, images, heatmaps, *, titles=None, flat=None, masks=None):
        self.images = list(images)
        self.masks = None if masks is None else list(masks)
        if self.masks is not None and len(self.masks) != len(self.images):
            raise ValueError(
                f"masks has {len(self.masks)} entries for {len(self.images)} images."
            )
        self.heatmaps = list(heatmaps)
        if len(self.heatmaps) != len(self.images):
            raise ValueError(
                f"heatmaps has {len(self.heatmaps)} entries for {len(self.images)} images."
            )
        self.titles = _check_titles(titles, len(self.images))
        if flat is None:
            self.flat = None
        else:
            self.flat = np.asarray(flat, dtype=bool).reshape(-1)
            if len(self.flat) != len(self.images):
                raise ValueError(
                    f"flat has {len(self.flat)} entries for {len(self.images)} images."
                )

    @classmethod
    def from_result(cls, result, *, indices=None, titles=None, masks=None):
        """Build the display of an output of :func:`grad_cam` or :func:`cross_attention_maps`.

        Parameters
        ----------
        result : Bunch
            The output of :func:`grad_cam` (``heatmaps``) or of
            :func:`cross_attention_maps` (``maps``), with ``images``; its
            ``flat`` flags, ``rows`` and ``targets`` are used when present.
        indices : array-like of int, default=None
            Positions of the rows to show; None shows them all.
        titles : list of str, default=None
            One title per shown row; by default the row label, and the
            explained class for Grad-CAM.
        masks : list, default=None
            One lesion mask per row of ``result`` (2-D array or mask file,
            nonzero = lesion, None for none) in the frame of the original
            image: cropped as the images were (``crop_boxes``, with
            ``roi``) and resized to the maps.

        Returns
        -------
        display : ImageExplanationDisplay
            Not yet drawn (call :meth:`plot`).
        """
        maps = _maps_of(result)
        if masks is not None:
            masks = lesion_masks_in_frame(result, masks)
        if "images" not in result:
            raise ValueError(
                "result has no 'images'; pass the output of grad_cam or "
                "cross_attention_maps."
            )
        images = result["images"]
        n = len(maps)
        indices = _check_indices(indices, n)
        if titles is None:
            rows = result.get("rows", list(range(n)))
            targets = result.get("targets")
            titles = [f"row {rows[i]}" + _target_title(targets, i) for i in indices]
        else:
            titles = _check_titles(titles, len(indices))
        flags = result.get("flat")
        flat = None if flags is None else [bool(flags[i]) for i in indices]
        return cls([images[i] for i in indices], [maps[i] for i in indices],
                   titles=titles, flat=flat,
                   masks=None if masks is None else [masks[i] for i in indices])

    @classmethod
    def from_estimator(cls, estimator, X, *, target=None, modality=None, method="gradcam",
                       indices=None, masks=None, **kwargs):
        """Compute the Grad-CAM maps of a fitted estimator on the images of ``X``.

        Parameters
        ----------
        estimator : fitted estimator
            An estimator that :func:`grad_cam` explains (an image
            classifier, a fusion classifier, or a Pipeline ending in one).
        X : DataFrame, array or list
            Rows to explain; every row needs its image.
        target : None, label or array-like of labels, default=None
            Class explained in each row; None for the predicted class.
        modality : str, default=None
            Image modality to explain, required when there are several.
        method : str, default="gradcam"
            One of :data:`CAM_METHODS`.
        indices : array-like of int, default=None
            Positions of the rows to show; None shows them all. The maps are
            computed for all the rows of ``X``.
        masks : list, default=None
            One lesion mask per row of ``X`` (see :meth:`from_result`).
        **kwargs
            Passed to :func:`grad_cam` (``batch_size``, ``target_layer``).

        Returns
        -------
        display : ImageExplanationDisplay
            Not yet drawn (call :meth:`plot`).
        """
        from ._grad_cam import grad_cam

        result = grad_cam(estimator, X, modality=modality, target=target, method=method,
                          **kwargs)
        return cls.from_result(result, indices=indices, masks=masks)

    def _axes(self, ax, n_cols):
        """Return the figure and one Axes per row: a new grid if ``ax`` is None."""
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        n = len(self.images)
        if ax is None:
            n_cols = min(n_cols, n)
            n_rows = math.ceil(n / n_cols)
            fig, grid = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols, 2.6 * n_rows),
                                     squeeze=False, layout="constrained")
            grid = grid.ravel()
            for extra in grid[n:]:
                extra.set_axis_off()
            return fig, grid[:n]
        axes = np.ravel(np.asarray(ax, dtype=object))
        if len(axes) != n:
            raise ValueError(
                f"ax must hold one Axes per row ({n}), got {len(axes)}; pass ax=None "
                "for a new grid."
            )
        wrong = [type(a).__name__ for a in axes if not isinstance(a, Axes)]
        if wrong:
            raise ValueError(f"ax must hold matplotlib Axes, got {wrong}.")
        return axes[0].figure, axes

    def plot(self, ax=None, *, n_cols=4, alpha=0.4, cmap="jet"):
        """Draw one heat-map overlay per row.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            One Axes per row (a single Axes for one row); None makes a new
            pyplot figure with a grid of ``n_cols`` panels per line.
        n_cols : int, default=4
            Panels per line of the new grid (ignored when ``ax`` is given).
        alpha : float, default=0.4
            Opacity of the heat maps, in [0, 1].
        cmap : str or Colormap, default="jet"
            Colour map of the heat maps.

        Returns
        -------
        self : ImageExplanationDisplay
            With ``figure_``, ``axes_`` (one Axes per row) and ``ax_``.
        """
        if not self.images:
            raise ValueError("No rows to plot: the display holds no images.")
        _check_n_cols(n_cols)
        if (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
                or not 0 <= alpha <= 1):
            raise ValueError(f"alpha={alpha!r} must be a number in [0, 1].")
        fig, axes = self._axes(ax, n_cols)
        shares = None
        if self.masks is not None:
            shares = lesion_heat_share(self.heatmaps, self.masks)
        for k, panel in enumerate(axes):
            title = None if self.titles is None else self.titles[k]
            mask = None
            if shares is not None and self.masks[k] is not None:
                mask = self.masks[k]
                line = heat_share_text(shares["heat_share"].iloc[k],
                                       shares["ratio"].iloc[k])
                title = line if title is None else f"{title}\n{line}"
            plot_heatmap_overlay(
                self.images[k], self.heatmaps[k], ax=panel, alpha=alpha, cmap=cmap,
                title=title, flat=None if self.flat is None else bool(self.flat[k]),
                mask=mask)
        self.figure_, self.axes_, self.ax_ = fig, axes, axes[0]
        self.heat_shares_ = shares
        return self
