"""Grad-CAM heat maps of the image branch of a fitted estimator."""

import numbers

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
from skorch.utils import to_device
from sklearn.utils import Bunch
from torch import nn

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


def grad_cam(estimator, X, *, modality=None, target=None, method="gradcam", batch_size=16):
    """Class activation maps (Grad-CAM and variants) of the image in each row.

    The maps are computed by the ``pytorch_grad_cam`` package on the last
    spatial feature map of the image backbone (its ``feature_layer``). For a
    fusion estimator the network is seen as a function of the image alone:
    the other modalities of each row, and the presence flags, are held at
    their values. The maps are resized back to each original image, so that
    pixel ``(i, j)`` of a heat map lies over pixel ``(i, j)`` of the image
    read from the path or array of the row.

    The network runs in evaluation mode on the estimator's ``device_``; its
    training mode and the gradients of its parameters are restored
    afterwards. A frozen backbone (``freeze_backbone=True``) works: the
    input image is made to require gradients, so they reach the feature map.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`~skmultimodal.ImageClassifier`,
        :class:`~skmultimodal.IntermediateFusionClassifier`,
        :class:`~skmultimodal.CrossAttentionFusionClassifier`,
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
        of ``classes_`` for every row, or one label per row.
    method : str, default="gradcam"
        One of ``"gradcam"``, ``"gradcam++"``, ``"hirescam"``,
        ``"xgradcam"``, ``"layercam"``, ``"eigencam"``, ``"eigengradcam"``,
        ``"gradcamelementwise"`` (see :data:`CAM_METHODS`).
    batch_size : int, default=16
        Rows per forward and backward pass.

    Returns
    -------
    result : Bunch
        - ``heatmaps``: list of float arrays of shape (H, W), values in
          [0, 1], one per row, the shape of the row's original image;
        - ``images``: list of the original images, (H, W) or (H, W, C);
        - ``targets``: ndarray of the class labels explained;
        - ``modality``: name of the explained image modality;
        - ``method``: the method used;
        - ``rows``: the row labels (the DataFrame index, else positions).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not of a supported kind.
    ValueError
        For an estimator without an image modality, an unknown modality,
        rows whose image is missing, unknown target labels or bad
        parameters.

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
    """
    cam_class = _check_params(method, batch_size)
    branch = image_branch(estimator, X, modality)
    labels = check_targets(branch, target)
    if labels is None and branch.predicted is not None:
        labels = np.asarray(branch.predicted)
    columns = None if labels is None else target_columns(branch, labels)

    with branch.image_inputs():
        explained, heatmaps = _run_cam(cam_class, branch, columns, batch_size)
    if labels is None:
        inverse = {int(c): k for k, c in enumerate(branch.output_index)}
        labels = branch.classes[[inverse[int(c)] for c in explained]]
    images = [branch.original_image(i) for i in range(len(branch))]
    heatmaps = [np.clip(resize_map(h, img.shape[:2]), 0.0, 1.0)
                for h, img in zip(heatmaps, images)]
    return Bunch(heatmaps=heatmaps, images=images, targets=np.asarray(labels),
                 modality=branch.modality, method=method.lower(), rows=branch.rows)


def _run_cam(cam_class, branch, columns, batch_size):
    """Heat maps at the network's input size and the class index of each row."""
    module = branch.module
    device = branch.estimator.device_
    wrapper = _ImageInput(module, branch.key)
    was_training = module.training
    grads = {p: p.grad for p in module.parameters()}
    n = len(branch)
    heatmaps = [None] * n
    explained = np.zeros(n, dtype=int)
    cam = None
    try:
        cam = cam_class(model=wrapper, target_layers=[branch.feature_layer])
        with torch.enable_grad():
            for positions, inputs in branch.batches(batch_size):
                inputs = to_device(inputs, device)
                # The image requires gradients, so they reach the feature map
                # even when every backbone parameter is frozen.
                image = inputs.pop(branch.key).float().detach().requires_grad_(True)
                wrapper.others = inputs
                targets = None if columns is None else [
                    ClassifierOutputTarget(int(c)) for c in columns[positions]]
                maps = cam(input_tensor=image, targets=targets)
                if columns is None:
                    logits = cam.outputs.detach().float().cpu().numpy()
                    explained[positions] = np.argmax(logits, axis=1)
                else:
                    explained[positions] = columns[positions]
                for k, i in enumerate(positions):
                    heatmaps[i] = maps[k]
    finally:
        wrapper.others = {}
        if cam is not None:
            cam.activations_and_grads.release()
        module.train(was_training)
        for p, g in grads.items():
            p.grad = g
    return explained, heatmaps
