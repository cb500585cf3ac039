"""Grad-CAM heat maps of the image branch of a fitted estimator."""

import numbers
import warnings

import numpy as np
import torch
from pytorch_grad_cam import (
    EigenCAM,
    EigenGradCAM,
    GradCAM,
    GradCAMElementWise,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    XGradCAM,
)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from sklearn.utils import Bunch
from skorch.utils import to_device
from torch import nn

from ..data._roi import crop_box
from ..utils._messages import shown
from ..utils._torch import eval_mode
from ._flat import FLAT_RTOL, MIN_GRID, is_flat
from ._image_inputs import check_targets, image_branch, resize_map, target_columns

#: Class activation map methods of :func:`grad_cam` (pytorch_grad_cam classes).
CAM_METHODS = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMPlusPlus,
    "hirescam": HiResCAM,
    "xgradcam": XGradCAM,
    "layercam": LayerCAM,
    "eigencam": EigenCAM,
    "eigengradcam": EigenGradCAM,
    "gradcamelementwise": GradCAMElementWise,
}


def check_risk_target(estimator, target):
    """Refuse a ``target`` other than None or "risk" for a survival model."""
    if target is not None and not (isinstance(target, str) and target == "risk"):
        raise ValueError(
            f"target={target!r}: {type(estimator).__name__} is a survival model, whose "
            "maps explain its risk score (predict); use target=None."
        )


class _ScoreTarget:
    """A ``pytorch_grad_cam`` target: a score of one row's network outputs.

    ``score`` maps a batch of outputs (N, K) to the scores (N, 1), as a
    survival model's ``explained_output`` does for its risk.
    """

    def __init__(self, score):
        self.score = score

    def __call__(self, model_output):
        if model_output.dim() == 1:
            return self.score(model_output[None])[0, 0]
        return self.score(model_output)[:, 0]


class _ImageInput(nn.Module):
    """The network as a function of one image tensor.

    The other inputs of the batch (other modalities, presence flags) are held
    in ``others`` and passed unchanged.
    """

    def __init__(self, module, key):
        super().__init__()
        self.module = module
        self.key = key
        self.others = {}

    def forward(self, image):
        return self.module(**self.others, **{self.key: image})


def _check_params(method, batch_size):
    if not isinstance(method, str) or method.lower() not in CAM_METHODS:
        raise ValueError(
            f"method={method!r} is not supported; choose one of {list(CAM_METHODS)}."
        )
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1):
        raise ValueError(f"batch_size={batch_size!r} must be a positive int.")
    return CAM_METHODS[method.lower()]


def grad_cam(estimator, X, *, modality=None, target=None, method="gradcam", batch_size=16,
             target_layer=None):
    """Class activation maps (Grad-CAM and variants) of the image in each row.

    The maps are computed by the ``pytorch_grad_cam`` package on the output
    of a target layer of the image backbone: by default its last spatial
    feature map (``feature_layer``: ``layer4`` of a ResNet, the last block of
    a SimpleCNN) when that map is a grid of at least 2x2 cells for the
    network's input size. A 1x1 grid (a ResNet at ``image_size=32``, whose
    last stage has stride 32) has nothing to localise, so then the
    deepest earlier stage with a grid of at least 2x2 is used (``layer3``,
    ``layer2``... of a ResNet; the previous blocks of a SimpleCNN), with a
    :class:`UserWarning` naming it. ``target_layer=`` chooses the layer.

    A map that is constant (all zero included) shows no localisation: such
    maps are flagged in ``flat``, a :class:`UserWarning` says how many and
    the likely cause, and :func:`plot_image_explanations` draws their images
    without a heat map.

    For a fusion estimator the network is seen as a function of the image
    alone: the other modalities of each row, and the presence flags, are held
    at their values. The maps are resized back to each original image, so that
    pixel ``(i, j)`` of a heat map lies over pixel ``(i, j)`` of the image
    read from the path or array of the row. An image modality with ``roi``
    sees the crop around the lesion: its maps and ``images`` are the crops,
    and ``crop_boxes`` says where each crop lies in its original image
    (:func:`lesion_heat_share` crops lesion masks the same way).

    The network runs in evaluation mode on the estimator's ``device_``; its
    training mode and the gradients of its parameters are restored
    afterwards. A frozen backbone (``freeze_backbone=True``) works: the
    input image is made to require gradients, so they reach the feature map.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`~skmultimodal.ImageClassifier`,
        :class:`~skmultimodal.IntermediateFusionClassifier`,
        :class:`~skmultimodal.CrossAttentionFusionClassifier`, their
        survival siblings
        (:class:`~skmultimodal.survival.IntermediateFusionSurvival`,
        :class:`~skmultimodal.survival.CrossAttentionFusionSurvival`: the
        maps explain the risk score of ``predict``),
        :class:`~skmultimodal.LateFusionClassifier` (its fitted image
        estimator is explained), or a :class:`~sklearn.pipeline.Pipeline`
        whose last step is one of these (earlier steps are applied with
        ``transform``). For a :class:`~skmultimodal.DeepFeatureExtractor`, or
        the Pipeline of :func:`~skmultimodal.make_stacking_ensemble`, the
        CNN of one image column is explained through its own classification
        head (the stacking learners after it are not differentiable).
    X : DataFrame, array or list
        Rows to explain, in the form the estimator accepts (image paths or
        arrays). Every row needs its image.
    modality : str, default=None
        Image modality to explain: its name in a fusion estimator's
        ``modalities``, the estimator name in a LateFusionClassifier, or the
        image-column name of a DeepFeatureExtractor.
        Required when there are several.
    target : None, label or array-like of labels, default=None
        Class explained in each row: None for the predicted class, one label
        of ``classes_`` for every row, or one label per row. A survival
        model's maps explain its risk score (higher = earlier event): None
        (or ``"risk"``) only.
    method : str, default="gradcam"
        One of ``"gradcam"``, ``"gradcam++"``, ``"hirescam"``,
        ``"xgradcam"``, ``"layercam"``, ``"eigencam"``, ``"eigengradcam"``,
        ``"gradcamelementwise"`` (see :data:`CAM_METHODS`).
    batch_size : int, default=16
        Rows per forward and backward pass.
    target_layer : None, str or torch.nn.Module, default=None
        Layer whose output the maps are computed on. None chooses
        automatically (see above); a str is a dotted module path inside the
        image backbone (``"layer3"``, ``"layer4.1.conv2"`` of a ResNet,
        ``"blocks.1"`` of a SimpleCNN); a module must belong to the explained
        network. An explicit layer is used as given, also when its grid is
        1x1 (the maps are then flat, and flagged). The grid sizes are those
        of the first batch: with ``image_size=None`` images keep their own
        sizes, and the automatic choice follows the first rows' size.

    Returns
    -------
    result : Bunch
        - ``heatmaps``: list of float arrays of shape (H, W), values in
          [0, 1], one per row, the shape of the row's original image (of its
          crop, with ``roi``);
        - ``images``: list of the original images, (H, W) or (H, W, C);
        - ``targets``: ndarray of the class labels explained (``"risk"``
          for a survival model);
        - ``flat``: bool ndarray, True where the map is constant (its range
          is at most 1e-3): no localisation;
        - ``layer``: dotted name of the target layer in the backbone (in
          the whole network for a module outside the backbone);
        - ``grid_shape``: (h, w), the spatial size of the target layer's
          output, i.e. the resolution of the maps before they are resized
          (a list with one (h, w) per row when rows differ, with
          ``image_size=None``);
        - ``modality``: name of the explained image modality;
        - ``method``: the method used;
        - ``rows``: the row labels (the DataFrame index, else positions);
        - ``crop_boxes``: per row, the ``(x0, y0, x1, y1)`` pixels of the
          original image that the image, and its map, cover when the
          modality crops to a lesion (``roi``), else None;
        - ``original_shapes``: per row, the (H, W) of the original image
          when it is cropped, else None.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not of a supported kind, or ``target_layer`` is
        neither None, a str nor a module.
    ValueError
        For an estimator without an image modality, an unknown modality,
        rows whose image is missing, unknown target labels, a
        ``target_layer`` that is not in the network or has no spatial
        output, or bad parameters.

    Warns
    -----
    UserWarning
        When the automatic choice moves from the last feature map to an
        earlier stage, and when maps are flat.

    Examples
    --------
    >>> from skmultimodal import ImageClassifier
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.inspection import grad_cam
    >>> X, y = make_multimodal_classification(40, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> clf = ImageClassifier(column="image", backbone="simple_cnn", image_size=16,
    ...                       max_epochs=1, random_state=0).fit(X, y)
    >>> result = grad_cam(clf, X.iloc[:3])
    >>> len(result.heatmaps), result.heatmaps[0].shape
    (3, (16, 16))
    >>> result.layer, result.grid_shape
    ('blocks.2', (4, 4))
    """
    cam_class = _check_params(method, batch_size)
    _check_target_layer(target_layer)
    branch = image_branch(estimator, X, modality)
    if branch.score is not None:  # a survival model: its risk score
        check_risk_target(branch.estimator, target)
        labels = np.full(len(branch), "risk", dtype=object)
        targets = [_ScoreTarget(branch.score)] * len(branch)
    else:
        labels = check_targets(branch, target)
        if labels is None and branch.predicted is not None:
            labels = np.asarray(branch.predicted)
        targets = None if labels is None else [
            ClassifierOutputTarget(int(c)) for c in target_columns(branch, labels)]

    with branch.image_inputs():
        explained, heatmaps, layer, grids = _run_cam(cam_class, branch, targets,
                                                     batch_size, target_layer)
    if labels is None:
        inverse = {int(c): k for k, c in enumerate(branch.output_index)}
        labels = branch.classes[[inverse[int(c)] for c in explained]]
    images = [branch.original_image(i) for i in range(len(branch))]
    heatmaps = [np.clip(resize_map(h, img.shape[:2]), 0.0, 1.0)
                for h, img in zip(heatmaps, images)]
    flat = np.array([is_flat(h, scale=1.0) for h in heatmaps], dtype=bool)
    if flat.any():
        _warn_flat(flat, grids, layer, branch.rows)
    shapes = sorted(set(grids))
    grid_shape = shapes[0] if len(shapes) == 1 else list(grids)
    crops = [crop_box(branch.source.cells[i]) for i in range(len(branch))]
    return Bunch(heatmaps=heatmaps, images=images, targets=np.asarray(labels),
                 flat=flat, layer=layer, grid_shape=grid_shape,
                 modality=branch.modality, method=method.lower(), rows=branch.rows,
                 crop_boxes=[box for box, _ in crops],
                 original_shapes=[shape for _, shape in crops])


def _check_target_layer(target_layer):
    if target_layer is None or isinstance(target_layer, (str, nn.Module)):
        return
    raise TypeError(
        "target_layer must be None, the dotted name of a module of the backbone "
        f"(e.g. 'layer3') or a torch.nn.Module; got {type(target_layer).__name__}."
    )


def _module_name(root, target):
    """Dotted name of ``target`` inside ``root`` ('' for root), or None."""
    for name, sub in root.named_modules():
        if sub is target:
            return name
    return None


def _stages(backbone):
    """Dotted names of the backbone's stages, deepest first, from the feature layer.

    ResNet: ``layer4`` ... ``layer1``; SimpleCNN: ``blocks.<k>`` from the last
    block. Another backbone: only its feature layer.
    """
    feature = _module_name(backbone, backbone.feature_layer)
    blocks = getattr(backbone, "blocks", None)
    if isinstance(blocks, nn.Sequential):
        names = [f"blocks.{k}" for k in reversed(range(len(blocks)))]
    else:
        names = [f"layer{k}" for k in (4, 3, 2, 1)
                 if isinstance(getattr(backbone, f"layer{k}", None), nn.Module)]
    if feature in names:
        return names[names.index(feature):]
    return [feature]


def _grids(layers, run):
    """Spatial size (h, w) of the output of each layer while ``run()`` runs."""
    found = {}
    handles = []

    def hook(key):
        def record(_module, _inputs, output):
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                found[key] = tuple(int(v) for v in output.shape[-2:])
        return record

    try:
        for key, layer in layers.items():
            handles.append(layer.register_forward_hook(hook(key)))
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return found


def _fmt(grid):
    return f"{grid[0]}x{grid[1]}"


def _choose_layer(branch, target_layer, wrapper, image):
    """The target module and its name, checked on a forward pass of ``image``."""
    backbone = branch.backbone
    if isinstance(target_layer, nn.Module):
        name = _module_name(backbone, target_layer)
        if name is None:
            name = _module_name(branch.module, target_layer)
            if name is None:
                raise ValueError(
                    f"target_layer {type(target_layer).__name__} is not a module of the "
                    f"explained network (modality {branch.modality!r})."
                )
        layers = {name: target_layer}
    elif isinstance(target_layer, str):
        try:
            module = backbone.get_submodule(target_layer)
        except AttributeError:
            raise ValueError(
                f"target_layer={target_layer!r} is not a module of the "
                f"{type(backbone).__name__} backbone of modality {branch.modality!r}; "
                f"its stages are {list(reversed(_stages(backbone)))} (a dotted path "
                "inside the backbone, e.g. 'layer3' or 'blocks.1')."
            ) from None
        layers = {target_layer: module}
    else:
        layers = {name: backbone.get_submodule(name) for name in _stages(backbone)}
    grids = _grids(layers, lambda: wrapper(image))
    size = tuple(image.shape[-2:])
    if target_layer is not None:
        (name, module), = layers.items()
        if name not in grids:
            raise ValueError(
                f"target_layer {name!r} gives no spatial feature map (N, C, h, w) for "
                "this input; choose a convolutional stage of the backbone."
            )
        return name, module
    names = list(layers)
    feature = names[0]
    for name in names:
        grid = grids.get(name)
        if grid is not None and min(grid) >= MIN_GRID:
            if name != feature:
                last = grids.get(feature)
                shape = "not a spatial map" if last is None else f"a {_fmt(last)} grid"
                warnings.warn(
                    f"Grad-CAM: the backbone's last feature map ({feature!r}) is "
                    f"{shape} for {_fmt(size)}-pixel inputs, too "
                    "coarse to localise anything; using the deepest stage with a grid of "
                    f"at least {MIN_GRID}x{MIN_GRID}, {name!r} ({_fmt(grid)} grid). "
                    "Pass target_layer= to choose the layer, or fit the model at a "
                    "larger image_size.",
                    UserWarning, stacklevel=4,
                )
            return name, layers[name]
    return feature, layers[feature]


def _warn_flat(flat, grids, layer, rows):
    n_flat, n = int(flat.sum()), len(flat)
    which = [rows[i] for i in np.flatnonzero(flat)]
    coarse = sorted({grids[i] for i in np.flatnonzero(flat) if min(grids[i]) < MIN_GRID})
    if coarse:
        cause = (
            f"the target layer {layer!r} gives a {_fmt(coarse[0])} grid at this input "
            "size: there is nothing to localise. Choose an earlier stage with "
            "target_layer=, or fit the model at a larger image_size."
        )
    else:
        cause = (
            f"on the {_fmt(grids[int(np.flatnonzero(flat)[0])])} grid of {layer!r} the "
            "image holds no positive, location-dependent evidence for the explained "
            "class (or risk): the gradient-weighted activations are negative or zero everywhere "
            "(Grad-CAM keeps the positive part; e.g. the prediction rests on other "
            "modalities, or dead ReLUs), or the gradients are zero (e.g. a model that "
            "predicts a constant). Check the model's fit, try another target_layer or "
            "target, or a gradient-free method (method='eigencam')."
        )
    warnings.warn(
        f"{n_flat} of {n} Grad-CAM maps are flat (constant, within {FLAT_RTOL:g}; row(s) "
        f"{shown(which)}) and show no localisation: {cause} They are flagged in result.flat "
        "and drawn without a heat map by plot_image_explanations.",
        UserWarning, stacklevel=3,
    )


def _run_cam(cam_class, branch, targets, batch_size, target_layer):
    """Heat maps at the network's input size, the output column explained in
    each row (the predicted class where ``targets`` is None), the target
    layer's name and each row's grid at that layer."""
    module = branch.module
    device = branch.estimator.device_
    wrapper = _ImageInput(module, branch.key)
    grads = {p: p.grad for p in module.parameters()}
    n = len(branch)
    heatmaps = [None] * n
    grids = [None] * n
    explained = np.zeros(n, dtype=int)
    cam = None
    name = None
    try:
        with eval_mode(module), torch.enable_grad():
            for positions, inputs in branch.batches(batch_size):
                inputs = to_device(inputs, device)
                # The image requires gradients, so they reach the feature map
                # even when every backbone parameter is frozen.
                image = inputs.pop(branch.key).float().detach().requires_grad_(True)
                wrapper.others = inputs
                if cam is None:
                    name, layer = _choose_layer(branch, target_layer, wrapper, image)
                    cam = cam_class(model=wrapper, target_layers=[layer])
                batch_targets = None if targets is None else [
                    targets[i] for i in positions]
                maps = cam(input_tensor=image, targets=batch_targets)
                grid = tuple(int(v) for v in
                             cam.activations_and_grads.activations[0].shape[-2:])
                if targets is None:
                    logits = cam.outputs.detach().float().cpu().numpy()
                    explained[positions] = np.argmax(logits, axis=1)
                for k, i in enumerate(positions):
                    heatmaps[i] = maps[k]
                    grids[i] = grid
    finally:
        wrapper.others = {}
        if cam is not None:
            cam.activations_and_grads.release()
        for p, g in grads.items():
            p.grad = g
    return explained, heatmaps, name, grids
