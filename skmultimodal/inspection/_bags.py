"""Explanations of bags of images: instance weights, top instances, Grad-CAM per instance."""

import contextlib
import numbers

import numpy as np
import torch
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted
from skorch.utils import to_device
from torch import nn

from ..data._dataset import collate_batch
from ..data._io import read_image
from ..estimators._base import BaseNetClassifier
from ..modalities import ImageBagModality
from ..utils._torch import eval_mode
from ._flat import is_flat
from ._grad_cam import (
    _check_params,
    _check_target_layer,
    _choose_layer,
    _ScoreTarget,
    check_risk_target,
)
from ._image_inputs import encoders_on_images, resize_map
from ._overlay import _display_image

__all__ = ["BagAttentionDisplay", "bag_attention", "bag_instance_grad_cam"]

SUPPORTED = (
    "ImageBagClassifier, an IntermediateFusionClassifier or CrossAttentionFusionClassifier "
    "with an ImageBagModality, or a Pipeline ending in one of them"
)


def _unwrap(module):
    """The network inside ``torch.compile`` or data-parallel wrappers."""
    for attr in ("_orig_mod", "module"):
        inner = getattr(module, attr, None)
        if isinstance(inner, nn.Module):
            return _unwrap(inner)
    return module


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive int.")
    return int(value)


class _BagBranch:
    """The bag input of a fitted network estimator, for one table X."""

    def __init__(self, estimator, modality, key, dataset, rows):
        self.estimator = estimator
        self.modality = modality
        self.key = key
        self.dataset = dataset
        self.rows = rows

    @property
    def module(self):
        return _unwrap(self.estimator.net_.module_)

    @property
    def backbone(self):
        return self.module.image_backbone(self.key)

    @property
    def source(self):
        return self.dataset.sources[self.key]

    @property
    def score(self):
        """A survival model's risk as a function of the network's outputs, else None."""
        explained = getattr(self.estimator, "explained_output", None)
        return None if explained is None else explained()[0]

    @property
    def classes(self):
        if self.score is not None:  # a survival model explains its risk score
            return np.array(["risk"], dtype=object)
        return np.asarray(self.estimator.classes_)

    @property
    def pooling(self):
        return self.estimator.get_input_modalities()[self.key].pooling

    def __len__(self):
        return len(self.dataset)

    @contextlib.contextmanager
    def image_inputs(self):
        """Run the frozen encoders a cache made skip (``memory=``) on images again."""
        with encoders_on_images(self.module):
            yield self

    def batch(self, positions):
        """The module's keyword inputs for the rows ``positions`` (bags padded)."""
        return collate_batch([self.dataset[int(i)] for i in positions])[0]

    def batches(self, batch_size):
        """Yield ``(positions, inputs)`` over the rows, ``batch_size`` at a time."""
        for start in range(0, len(self), batch_size):
            positions = np.arange(start, min(start + batch_size, len(self)))
            yield positions, self.batch(positions)

    def n_instances(self, i):
        """Number of instances of row ``i`` (0 for a missing bag)."""
        return len(self.source.instances(i)) if self.source.present(i) else 0

    def instance_image(self, i, j):
        """Instance ``j`` of row ``i`` as read from its path or array."""
        cell = self.source.instances(i)[j]
        return np.asarray(read_image(cell, row=self.rows[i]))


def _choose_bag(estimator, modality, bags):
    name = type(estimator).__name__
    if not bags:
        modalities = estimator.get_input_modalities()
        raise ValueError(
            f"{name} has no bag-of-images modality (ImageBagModality; its modalities are "
            f"{list(modalities)}); there are no instances to explain."
        )
    if modality is None:
        if len(bags) > 1:
            raise ValueError(
                f"{name} has several bag modalities {bags}; choose one with modality=.")
        return bags[0]
    if modality in bags:
        return modality
    # an ImageBagClassifier's one input is "bag"; its column names it too
    modalities = estimator.get_input_modalities()
    named = [b for b in bags if modalities[b].column == modality]
    if len(named) == 1:
        return named[0]
    raise ValueError(f"Unknown bag modality {modality!r}; the bag modalities of {name} "
                     f"are {bags}.")


def bag_branch(estimator, X, modality=None):
    """Resolve the bag input of a fitted estimator (or Pipeline) for the rows X."""
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        for _, step in estimator.steps[:-1]:
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                X = step.transform(X)
        return bag_branch(estimator.steps[-1][1], X, modality)
    if not isinstance(estimator, BaseNetClassifier):
        raise TypeError(f"Expected a fitted {SUPPORTED}; got {type(estimator).__name__}.")
    check_is_fitted(estimator, "net_")
    modalities = estimator.get_input_modalities()
    bags = [n for n, m in modalities.items() if isinstance(m, ImageBagModality)]
    key = _choose_bag(estimator, modality, bags)
    if not hasattr(_unwrap(estimator.net_.module_), "instance_weights"):
        raise TypeError(f"The network of {type(estimator).__name__} gives no instance "
                        "weights.")
    # images, also where a cache (memory=) makes the network read embeddings
    dataset = estimator.make_dataset(X, raw_images=True)
    source = dataset.sources[key]
    rows = (list(range(len(dataset))) if source.row_labels is None
            else list(source.row_labels))
    return _BagBranch(estimator, key, key, dataset, rows)


def bag_attention(estimator, X, *, modality=None, batch_size=16):
    """Weight of every instance of each bag in the pooling of a fitted model.

    A bag-of-images model (:class:`~skmultimodal.mil.ImageBagClassifier`, or
    a fusion classifier with an :class:`~skmultimodal.modalities.ImageBagModality`)
    pools the embeddings of the instances of a bag into one embedding. This
    function runs the fitted network on the rows of X, in evaluation mode and
    with every instance of each bag (as ``predict`` does; ``max_instances``
    subsets only apply in training), and returns, for each row, the weight of
    each instance in that pooling:

    - ``"gated_attention"`` and ``"attention"``: the attention weights
      (Ilse et al., 2018), a softmax over the bag's instances, summing to 1;
      for a :class:`~skmultimodal.fusion.CrossAttentionFusionClassifier`
      those of the bag's pooling over its instance tokens after the
      cross-attention layers;
    - ``"mean"``: ``1 / k`` for a bag of ``k`` instances;
    - ``"max"``: the share of the embedding's features whose maximum the
      instance holds (also summing to 1).

    A weight says how much an instance counts in the bag embedding, not in
    which direction it moves the prediction; with attention pooling the
    instances that carry the evidence usually get most of it.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`~skmultimodal.mil.ImageBagClassifier`,
        :class:`~skmultimodal.IntermediateFusionClassifier` or
        :class:`~skmultimodal.CrossAttentionFusionClassifier` with a bag
        modality (or their survival siblings, e.g. a
        :class:`~skmultimodal.survival.IntermediateFusionSurvival` on the
        tiles of a slide), or a :class:`~sklearn.pipeline.Pipeline` ending
        in one (earlier steps are applied with ``transform``).
    X : DataFrame, Series or list of bags
        Rows, in the form the estimator accepts.
    modality : str, default=None
        Name of the bag modality (its column is accepted too); required when
        the estimator has several.
    batch_size : int, default=16
        Rows per forward pass.

    Returns
    -------
    result : Bunch
        - ``weights``: list of float ndarrays, one per row, of shape
          ``(k,)`` for a bag of ``k`` instances, in the order of the bag's
          instances (empty for a missing bag);
        - ``proba``: ndarray of shape (n_samples, n_classes), the predicted
          probabilities, columns ordered as ``classes`` (None for a
          survival model);
        - ``predictions``: ndarray of the predicted labels (None for a
          survival model);
        - ``risk``: for a survival model, ndarray of the risk scores of
          ``predict`` (higher = earlier event); None for a classifier;
        - ``classes``: ndarray, the estimator's ``classes_`` (``["risk"]``
          for a survival model);
        - ``n_instances``: int ndarray, the size of each bag;
        - ``modality``: name of the bag modality;
        - ``pooling``: its pooling;
        - ``rows``: the row labels (the DataFrame index, else positions).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not of a supported kind.
    ValueError
        For an estimator without a bag modality, an unknown or ambiguous
        ``modality``, or a bad ``batch_size``.

    See Also
    --------
    BagAttentionDisplay : The instances of largest weight of each bag.
    bag_instance_grad_cam : Where, in an instance, the evidence lies.

    Examples
    --------
    >>> from skmultimodal.datasets import make_bag_classification
    >>> from skmultimodal.inspection import bag_attention
    >>> from skmultimodal.mil import ImageBagClassifier
    >>> X, y = make_bag_classification(20, min_instances=3, max_instances=5,
    ...                                image_size=8, random_state=0)
    >>> clf = ImageBagClassifier("bag", backbone="simple_cnn", image_size=8, channels=1,
    ...                          max_epochs=1, random_state=0).fit(X[["bag"]], y)
    >>> result = bag_attention(clf, X[["bag"]].iloc[:2])
    >>> [len(w) for w in result.weights] == [len(b) for b in X["bag"].iloc[:2]]
    True
    >>> bool(abs(result.weights[0].sum() - 1) < 1e-5), result.proba.shape
    (True, (2, 2))
    """
    batch_size = _check_positive_int(batch_size, "batch_size")
    branch = bag_branch(estimator, X, modality)
    module, key = branch.module, branch.key
    device = branch.estimator.device_
    n = len(branch)
    weights, logits = [None] * n, [None] * n
    with branch.image_inputs(), eval_mode(module), torch.no_grad():
        for positions, inputs in branch.batches(batch_size):
            inputs = to_device(inputs, device)
            out = module(**inputs).float().cpu().numpy()
            w = module.instance_weights(**inputs)[key].float().cpu().numpy()
            mask = inputs[f"{key}_mask"].cpu().numpy()
            for k, i in enumerate(positions):
                logits[i] = out[k]
                weights[i] = w[k][mask[k]].astype(np.float64)
    logits = np.stack(logits).astype(np.float64)
    classes = branch.classes
    common = dict(weights=weights, classes=classes,
                  n_instances=np.array([len(w) for w in weights], dtype=int),
                  modality=branch.modality, pooling=branch.pooling, rows=branch.rows)
    if branch.score is not None:
        risk = branch.score(torch.from_numpy(logits)).numpy()[:, 0]
        return Bunch(proba=None, predictions=None, risk=risk, **common)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    return Bunch(proba=proba, predictions=classes[np.argmax(proba, axis=1)], risk=None,
                 **common)


def _take_rows(X, positions):
    """The rows of X at ``positions``, in the form X has."""
    if hasattr(X, "iloc"):
        return X.iloc[positions]
    if isinstance(X, np.ndarray):
        return X[positions]
    return [X[i] for i in positions]


def _check_rows(rows, n):
    if rows is None:
        return list(range(n))
    rows = [int(i) for i in np.atleast_1d(np.asarray(rows))]
    bad = [i for i in rows if not -n <= i < n]
    if bad:
        raise ValueError(f"rows {bad} are out of range for {n} rows.")
    if not rows:
        raise ValueError("No rows to show: rows is empty.")
    return [i % n for i in rows]


class BagAttentionDisplay:
    """The instances of largest weight of each bag, with their weights.

    One line of panels per bag: its ``top_k`` instances in decreasing order
    of weight (see :func:`bag_attention`), each titled with its position in
    the bag and its weight; the first panel of a line names the row and its
    prediction. Follows scikit-learn's display pattern: build it with
    :meth:`from_estimator`, then draw it with :meth:`plot`.

    Parameters
    ----------
    images : list of list of ndarray
        For each bag, the images of the shown instances, (H, W), (H, W, 1),
        (H, W, 3) or (H, W, 4).
    weights : list of array-like of float
        For each bag, the weights of the shown instances.
    positions : list of array-like of int, default=None
        For each bag, the positions in the bag of the shown instances; None
        numbers them 0, 1, ...
    row_labels : list, default=None
        Label of each bag (None: 0, 1, ...).
    labels : list of str, default=None
        A further line for the first panel of each bag, e.g. the prediction.
    n_instances : list of int, default=None
        Size of each bag, said in the first panel when given.

    Attributes
    ----------
    images, weights, positions, row_labels, labels, n_instances
        The parameters, as lists.
    figure_ : matplotlib Figure
        The figure drawn on (after :meth:`plot`).
    axes_ : ndarray of matplotlib Axes of shape (n_bags, n_cols)
        The panels, one line per bag (after :meth:`plot`); panels with no
        instance are switched off.
    ax_ : matplotlib Axes
        The first panel.

    See Also
    --------
    bag_attention : The weight of every instance of each bag.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.inspection import BagAttentionDisplay
    >>> images = [[np.zeros((8, 8)), np.ones((8, 8))], [np.eye(8)]]
    >>> display = BagAttentionDisplay(images, [[0.7, 0.2], [1.0]]).plot()
    >>> display.axes_.shape
    (2, 2)
    """

    def __init__(self, images, weights, *, positions=None, row_labels=None, labels=None,
                 n_instances=None):
        self.images = [list(bag) for bag in images]
        self.weights = [np.asarray(w, dtype=np.float64).reshape(-1) for w in weights]
        n = len(self.images)
        if len(self.weights) != n:
            raise ValueError(f"weights has {len(self.weights)} entries for {n} bags.")
        if positions is None:
            positions = [np.arange(len(bag)) for bag in self.images]
        self.positions = [np.asarray(p, dtype=int).reshape(-1) for p in positions]
        for what, values in (("weights", self.weights), ("positions", self.positions)):
            if len(values) != n or any(len(v) != len(b) for v, b in zip(values, self.images)):
                raise ValueError(f"{what} must hold one entry per shown instance of each bag.")
        self.row_labels = list(range(n)) if row_labels is None else list(row_labels)
        self.labels = None if labels is None else list(labels)
        self.n_instances = None if n_instances is None else [int(k) for k in n_instances]
        for what, values in (("row_labels", self.row_labels), ("labels", self.labels),
                             ("n_instances", self.n_instances)):
            if values is not None and len(values) != n:
                raise ValueError(f"{what} has {len(values)} entries for {n} bags.")

    @classmethod
    def from_estimator(cls, estimator, X, *, rows=None, top_k=5, modality=None,
                       batch_size=16):
        """Compute the instance weights of a fitted estimator and keep the top instances.

        Parameters
        ----------
        estimator : fitted estimator
            An estimator that :func:`bag_attention` explains.
        X : DataFrame, Series or list of bags
            Rows, in the form the estimator accepts.
        rows : array-like of int, default=None
            Positions in X of the bags to show; None shows them all. Only
            these rows are run through the network.
        top_k : int, default=5
            Instances shown per bag (fewer for a smaller bag).
        modality : str, default=None
            Bag modality, required when the estimator has several.
        batch_size : int, default=16
            Rows per forward pass.

        Returns
        -------
        display : BagAttentionDisplay
            Not yet drawn (call :meth:`plot`).
        """
        top_k = _check_positive_int(top_k, "top_k")
        chosen = _check_rows(rows, len(X))
        X = _take_rows(X, chosen)
        result = bag_attention(estimator, X, modality=modality, batch_size=batch_size)
        branch = bag_branch(estimator, X, modality)
        images, weights, positions, labels = [], [], [], []
        for i, w in enumerate(result.weights):
            order = np.argsort(-w, kind="stable")[:top_k]
            images.append([branch.instance_image(i, int(j)) for j in order])
            weights.append(w[order])
            positions.append(order)
            if result.risk is not None:
                labels.append(f"risk {result.risk[i]:.2f}")
                continue
            pred = result.predictions[i]
            k = int(np.flatnonzero(result.classes == pred)[0])
            labels.append(f"pred. {pred} ({result.proba[i, k]:.2f})")
        return cls(images, weights, positions=positions, row_labels=result.rows,
                   labels=labels, n_instances=result.n_instances)

    def _axes(self, ax, n_cols):
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        n = len(self.images)
        if ax is None:
            fig, grid = plt.subplots(n, n_cols, figsize=(1.8 * n_cols, 1.9 * n),
                                     squeeze=False, layout="constrained")
            return fig, grid
        axes = np.asarray(ax, dtype=object)
        if axes.size != n * n_cols:
            raise ValueError(
                f"ax must hold {n} x {n_cols} Axes (one line per bag, one panel per "
                f"shown instance), got {axes.size}; pass ax=None for a new grid.")
        wrong = [type(a).__name__ for a in axes.ravel() if not isinstance(a, Axes)]
        if wrong:
            raise ValueError(f"ax must hold matplotlib Axes, got {wrong}.")
        axes = axes.reshape(n, n_cols)
        return axes[0, 0].figure, axes

    def plot(self, ax=None):
        """Draw the instances of each bag, one line per bag.

        Parameters
        ----------
        ax : array-like of matplotlib Axes, default=None
            ``n_bags x n_cols`` Axes, ``n_cols`` the largest number of shown
            instances of a bag; None makes a new pyplot figure.

        Returns
        -------
        self : BagAttentionDisplay
            With ``figure_``, ``axes_`` and ``ax_``.
        """
        if not self.images:
            raise ValueError("No bags to plot: the display holds no images.")
        n_cols = max([len(bag) for bag in self.images] + [1])
        fig, axes = self._axes(ax, n_cols)
        for b, bag in enumerate(self.images):
            for c in range(n_cols):
                panel = axes[b, c]
                if c >= len(bag):
                    panel.set_axis_off()
                    continue
                shown, cmap, low, high = _display_image(bag[c])
                panel.imshow(shown, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
                panel.set_xticks([])
                panel.set_yticks([])
                panel.set_title(f"#{self.positions[b][c]}: {self.weights[b][c]:.2f}",
                                fontsize=9)
            if not bag:
                axes[b, 0].text(0.5, 0.5, "no instance", ha="center", va="center",
                                transform=axes[b, 0].transAxes)
            lines = [f"row {self.row_labels[b]}"]
            if self.n_instances is not None:
                lines.append(f"{self.n_instances[b]} instances")
            if self.labels is not None:
                lines.append(self.labels[b])
            axes[b, 0].set_ylabel("\n".join(lines), fontsize=8)
        self.figure_, self.axes_, self.ax_ = fig, axes, axes[0, 0]
        return self


class _InstancesInput(nn.Module):
    """The network as a function of the instances ``(k, C, H, W)`` of one bag.

    The bag is rebuilt from them (one row, no padding); the row's other
    inputs (other modalities, presence flags) are held in ``others``.
    """

    def __init__(self, module, key):
        super().__init__()
        self.module = module
        self.key = key
        self.others = {}

    def forward(self, instances):
        bag = instances.unsqueeze(0)
        mask = torch.ones(bag.shape[:2], dtype=torch.bool, device=bag.device)
        return self.module(**self.others, **{self.key: bag, f"{self.key}_mask": mask})


def _check_instances(instance, k, row):
    if instance is None:
        return np.arange(k)
    values = np.atleast_1d(np.asarray(instance))
    if values.ndim != 1 or values.dtype.kind not in "iu" or not len(values):
        raise ValueError(f"instance={instance!r} must be None, an int or a list of ints.")
    bad = [int(j) for j in values if not -k <= j < k]
    if bad:
        raise ValueError(f"instance {bad} is out of range: the bag of row {row!r} has "
                         f"{k} instances.")
    return values.astype(int) % k


def bag_instance_grad_cam(estimator, X, row, instance=None, *, modality=None, target=None,
                          method="gradcam", target_layer=None):
    """Grad-CAM heat maps of the instances of one bag.

    The bag of row ``row`` is run through the fitted network with all its
    instances (in evaluation mode); the class activation map of instance
    ``j`` is computed by the ``pytorch_grad_cam`` package from the
    activations of the instance backbone's target layer for that instance
    and the gradient of the bag's class logit with respect to them: a
    partial derivative, the other instances of the bag (and, for a fusion
    classifier, the other modalities of the row) held at their values. The
    maps are resized to each instance's original image, so that pixel
    ``(i, j)`` of a heat map lies over pixel ``(i, j)`` of the instance as
    read from its path or array.

    Each map is scaled to [0, 1] on its own, as Grad-CAM does: compare the
    instances of a bag with their weights (:func:`bag_attention`), not with
    the peaks of their maps. A constant map (all zero included: no positive
    evidence for the class in that instance) is flagged in ``flat``.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator that :func:`bag_attention` explains.
    X : DataFrame, Series or list of bags
        Rows, in the form the estimator accepts.
    row : int
        Position in X of the bag explained.
    instance : None, int or list of int, default=None
        Positions in the bag of the instances explained; None explains them
        all (one backward pass gives every map).
    modality : str, default=None
        Bag modality, required when the estimator has several.
    target : None or label, default=None
        Class explained; None for the predicted class of the row. A
        survival model's maps explain its risk score: None (or ``"risk"``)
        only.
    method : str, default="gradcam"
        One of :data:`CAM_METHODS`.
    target_layer : None, str or torch.nn.Module, default=None
        Layer of the instance backbone whose output the maps are computed
        on, as in :func:`grad_cam` (None: its last spatial feature map, or
        the deepest stage with a grid of at least 2x2).

    Returns
    -------
    result : Bunch
        - ``heatmaps``: list of float arrays (H, W) in [0, 1], one per
          explained instance, the shape of its image;
        - ``images``: list of the instances' images, (H, W) or (H, W, C);
        - ``instances``: int ndarray, their positions in the bag;
        - ``flat``: bool ndarray, True where a map is constant;
        - ``target``: the class explained; ``targets`` the same, once per map;
        - ``row``: the row's label; ``rows``: labels naming each map
          (``"<row>, instance <j>"``), so that
          :meth:`ImageExplanationDisplay.from_result` can draw the result;
        - ``layer``: dotted name of the target layer in the backbone;
        - ``modality``, ``method``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not of a supported kind.
    ValueError
        For an estimator without a bag modality, a row out of range or with
        no instance, an instance out of range, an unknown target label or
        bad parameters.

    See Also
    --------
    bag_attention : The weight of every instance of each bag.
    grad_cam : Grad-CAM of one image per row.

    Examples
    --------
    >>> from skmultimodal.datasets import make_bag_classification
    >>> from skmultimodal.inspection import bag_instance_grad_cam
    >>> from skmultimodal.mil import ImageBagClassifier
    >>> X, y = make_bag_classification(20, min_instances=3, max_instances=5,
    ...                                image_size=8, random_state=0)
    >>> clf = ImageBagClassifier("bag", backbone="simple_cnn", image_size=8, channels=1,
    ...                          max_epochs=1, random_state=0).fit(X[["bag"]], y)
    >>> result = bag_instance_grad_cam(clf, X[["bag"]], row=0, instance=[0, 1])
    >>> len(result.heatmaps), result.heatmaps[0].shape
    (2, (8, 8))
    """
    cam_class = _check_params(method, 1)
    _check_target_layer(target_layer)
    if isinstance(row, bool) or not isinstance(row, numbers.Integral):
        raise ValueError(f"row={row!r} must be an int, the position of the bag in X.")
    n = len(X)
    if not -n <= row < n:
        raise ValueError(f"row={row} is out of range for {n} rows.")
    X = _take_rows(X, [int(row) % n])
    branch = bag_branch(estimator, X, modality)
    label = branch.rows[0]
    k = branch.n_instances(0)
    if k == 0:
        raise ValueError(f"The bag of modality {branch.modality!r} is missing in row "
                         f"{label!r}: there is no instance to explain.")
    positions = _check_instances(instance, k, label)
    classes = branch.classes
    column = None
    if branch.score is not None:  # a survival model: its risk score
        check_risk_target(branch.estimator, target)
        column = 0
    elif target is not None:
        known = classes.tolist()
        if np.ndim(target) != 0 or target not in known:
            raise ValueError(f"target={target!r} is not a class of the estimator; classes_ "
                             f"is {known}.")
        column = known.index(target)

    module, key = branch.module, branch.key
    device = branch.estimator.device_
    wrapper = _InstancesInput(module, key)
    grads = {p: p.grad for p in module.parameters()}
    cam = None
    try:
        with branch.image_inputs(), eval_mode(module), torch.enable_grad():
            inputs = to_device(branch.batch([0]), device)
            bag = inputs.pop(key)[0].float()
            inputs.pop(f"{key}_mask", None)
            # the instances require gradients, so they reach the feature map
            # even when every backbone parameter is frozen
            instances = bag.detach().requires_grad_(True)
            wrapper.others = inputs
            name, layer = _choose_layer(branch, target_layer, wrapper, instances)
            cam = cam_class(model=wrapper, target_layers=[layer])
            if branch.score is not None:
                targets = [_ScoreTarget(branch.score)]
            else:
                targets = None if column is None else [ClassifierOutputTarget(column)]
            maps = cam(input_tensor=instances, targets=targets)
            if column is None:
                column = int(np.argmax(cam.outputs.detach().float().cpu().numpy()[0]))
    finally:
        wrapper.others = {}
        if cam is not None:
            cam.activations_and_grads.release()
        for p, g in grads.items():
            p.grad = g
    if len(maps) != k:  # pragma: no cover - a backbone running each instance once
        raise RuntimeError(f"Expected {k} instance maps from the target layer, got "
                           f"{len(maps)}.")
    images = [branch.instance_image(0, int(j)) for j in positions]
    heatmaps = [np.clip(resize_map(maps[j], img.shape[:2]), 0.0, 1.0)
                for j, img in zip(positions, images)]
    flat = np.array([is_flat(h, scale=1.0) for h in heatmaps], dtype=bool)
    target = classes[column]
    return Bunch(heatmaps=heatmaps, images=images, instances=positions, flat=flat,
                 target=target, targets=np.array([target] * len(positions)), row=label,
                 rows=[f"{label}, instance {j}" for j in positions], layer=name,
                 modality=branch.modality, method=method.lower())
