"""Cross-attention maps over the image tokens of a CrossAttentionFusionClassifier."""

import numbers
import warnings

import numpy as np
from sklearn.utils import Bunch

from ..fusion import CrossAttentionFusionClassifier
from ..utils._messages import shown
from ._flat import FLAT_RTOL, MIN_GRID, is_flat
from ._image_inputs import image_branch, resize_map


def _check_head(head, n_heads):
    if isinstance(head, str) and head == "mean":
        return None
    if (isinstance(head, bool) or not isinstance(head, numbers.Integral)
            or not -n_heads <= head < n_heads):
        raise ValueError(
            f"head={head!r} must be 'mean' or an int in [0, {n_heads}) (the model has "
            f"{n_heads} heads)."
        )
    return int(head) % n_heads


def _check_layer(layer, n_layers):
    if n_layers == 0:
        raise ValueError(
            "The CrossAttentionFusionClassifier has n_layers=0: there is no "
            "cross-attention to show."
        )
    if (isinstance(layer, bool) or not isinstance(layer, numbers.Integral)
            or not -n_layers <= layer < n_layers):
        raise ValueError(
            f"layer={layer!r} must be an int in [{-n_layers}, {n_layers}) (the model has "
            f"{n_layers} cross-attention layers)."
        )
    return int(layer)


def cross_attention_maps(estimator, X, *, modality=None, layer=-1, head="mean"):
    """Attention that the other modalities' tokens put on each image token.

    In a :class:`~skmultimodal.CrossAttentionFusionClassifier` every cell of
    the image backbone's last feature map is a token, and the tokens of the
    other modalities (the queries) attend to them. For each row this
    function takes the attention weights of one layer
    (:meth:`~skmultimodal.CrossAttentionFusionClassifier.attention_weights`),
    keeps the keys that are tokens of the chosen image modality, averages
    over the query tokens of the other modalities present in the row (and
    over the heads unless ``head`` is an int), renormalises the result to
    sum to 1 over the image tokens (the weight on the learned null key and
    on other modalities' tokens is left out) and lays it out on the token
    grid. The grid is then resized to the row's original image, as the
    Grad-CAM maps of :func:`grad_cam`.

    The grid is the backbone's last feature map, set by the fitted model: a
    ResNet at ``image_size=32`` gives a single 1x1 token, on which all the
    image attention falls whatever the image. Uniform maps (a 1x1 grid
    included) are flagged in ``flat``, with a :class:`UserWarning`, and
    :func:`plot_image_explanations` draws them without a heat map.

    Parameters
    ----------
    estimator : CrossAttentionFusionClassifier, Pipeline or LateFusionClassifier
        A fitted CrossAttentionFusionClassifier, a Pipeline ending in one
        (earlier steps are applied with ``transform``), or a
        LateFusionClassifier holding one.
    X : DataFrame
        Rows to explain; every row needs its image and at least one other
        modality.
    modality : str, default=None
        Image modality; required when there are several. Within a
        LateFusionClassifier, the name of the estimator.
    layer : int, default=-1
        Cross-attention layer (negative values count from the last).
    head : "mean" or int, default="mean"
        Average the heads, or take one head.

    Returns
    -------
    result : Bunch
        - ``token_maps``: ndarray of shape (n_samples, h, w); each map sums
          to 1. Token ``(r, c)`` is cell ``(r, c)`` of the feature map.
        - ``maps``: list of float arrays of shape (H, W), the token maps
          bilinearly resized to each original image and divided by their
          maximum (values in [0, 1]);
        - ``images``: list of the original images;
        - ``flat``: bool ndarray, True where the token map is uniform (its
          range is at most 1e-3 of its maximum), which is always the case
          on a 1x1 token grid: no localisation;
        - ``modality``: the image modality;
        - ``grid_shape``: the token grid (h, w);
        - ``layer``, ``head``: as used;
        - ``rows``: the row labels.

    Raises
    ------
    TypeError
        If the estimator is not a CrossAttentionFusionClassifier (or a
        Pipeline ending in one).
    ValueError
        For an unknown modality, a model without cross-attention layers, bad
        ``layer`` or ``head``, rows whose image is missing, or rows where
        every other modality is missing.

    Warns
    -----
    UserWarning
        When maps are flat (a 1x1 token grid, or uniform attention).
    """
    branch = image_branch(estimator, X, modality)
    model = branch.estimator
    if not isinstance(model, CrossAttentionFusionClassifier):
        raise TypeError(
            "cross_attention_maps needs a fitted CrossAttentionFusionClassifier (or a "
            "Pipeline or LateFusionClassifier holding one); the image of "
            f"{type(estimator).__name__} goes through a {type(model).__name__}, which "
            "has no cross-attention."
        )
    module = branch.module
    name = branch.key
    layer = _check_layer(layer, len(module.layers))
    head = _check_head(head, module.layers[0][name].attn.num_heads)

    attention = model.attention_weights(branch.X)
    h, w = attention.grid_shape[name]
    n = len(branch)
    sources = branch.dataset.sources
    total = np.zeros((n, h * w))
    n_queries = np.zeros(n)
    for direction, (query, others) in module.directions().items():
        if name not in others:
            continue
        # the keys of the image's tokens ("<name>[r,c]", row-major)
        columns = [k for k, label in enumerate(attention.key_tokens[direction])
                   if label.startswith(f"{name}[")]
        weights = np.asarray(attention.weights[direction][layer])[..., columns]
        weights = weights.mean(axis=1) if head is None else weights[:, head]
        present = np.array([sources[query].present(i) for i in range(n)], dtype=bool)
        total[present] += weights[present].sum(axis=1)
        n_queries[present] += weights.shape[1]
    lonely = [branch.rows[i] for i in np.flatnonzero(n_queries == 0)]
    if lonely:
        raise ValueError(
            f"Every modality other than {branch.modality!r} is missing in row(s) "
            f"{lonely[:10]}: no tokens attend to the image there."
        )
    mass = total.sum(axis=1, keepdims=True)
    token_maps = np.where(mass > 0, total / np.where(mass > 0, mass, 1.0), 1.0 / (h * w))
    token_maps = token_maps.reshape(n, h, w)
    images = [branch.original_image(i) for i in range(n)]
    maps = []
    for token_map, image in zip(token_maps, images):
        up = np.clip(resize_map(token_map, image.shape[:2]), 0.0, None)
        maps.append(up / up.max() if up.max() > 0 else up)
    flat = np.array([is_flat(t) for t in token_maps], dtype=bool)
    if flat.any():
        _warn_flat(flat, (h, w), branch)
    return Bunch(token_maps=token_maps, maps=maps, images=images, flat=flat,
                 modality=branch.modality, grid_shape=(h, w), layer=layer,
                 head="mean" if head is None else head, rows=branch.rows)


def _warn_flat(flat, grid, branch):
    h, w = grid
    n_flat, n = int(flat.sum()), len(flat)
    if min(grid) < MIN_GRID:
        cause = (
            f"the image tokens of {branch.modality!r} form a {h}x{w} grid (the "
            "backbone's last feature map at this input size), so the attention on "
            "the image says nothing about where in it the model looks. Fit the "
            "model at a larger image_size (a ResNet needs 64 pixels for a 2x2 grid), "
            "or use grad_cam, which can take an earlier layer."
        )
    else:
        which = [branch.rows[i] for i in np.flatnonzero(flat)]
        cause = (
            f"the attention is uniform over the {h}x{w} image tokens in row(s) {shown(which)}: "
            "the queries do not tell the tokens apart (e.g. an untrained or "
            "image-blind model)."
        )
    warnings.warn(
        f"{n_flat} of {n} cross-attention maps are flat (uniform within "
        f"{FLAT_RTOL:g}) and show no localisation: {cause} They are flagged in "
        "result.flat and drawn without a heat map by plot_image_explanations.",
        UserWarning, stacklevel=3,
    )
