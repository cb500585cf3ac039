"""The image branch of a fitted estimator: its network, target layer and inputs.

Shared by the Grad-CAM and cross-attention explanations. A fitted library
estimator (or a Pipeline or LateFusionClassifier around one) and a table X
are turned into an :class:`ImageBranch`: the network estimator whose torch
module sees the image, the name of the image input of that module, the
module's image backbone and its last spatial feature layer, the prepared
rows (a :class:`~skmultimodal.data.MultimodalDataset`) and the original
images.
"""

import contextlib

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import default_collate

from ..data._io import read_image
from ..estimators import DeepFeatureExtractor, ImageClassifier
from ..estimators._base import BaseNetClassifier
from ..fusion import LateFusionClassifier
from ..fusion._base import BaseFusionClassifier
from ..modalities import ImageBagModality, ImageModality
from ..modalities._multimodal import final_step
from ..utils._messages import shown

SUPPORTED = (
    "ImageClassifier, IntermediateFusionClassifier, CrossAttentionFusionClassifier, "
    "their survival siblings, LateFusionClassifier, DeepFeatureExtractor, or a "
    "Pipeline ending in one of them or holding a DeepFeatureExtractor "
    "(make_stacking_ensemble)"
)



@contextlib.contextmanager
def encoders_on_images(module):
    """Within the block, the frozen encoders a cache made skip (``memory=``) read images."""
    encoders = getattr(module, "encoders", {})
    saved = {name: getattr(enc, "precomputed", None) for name, enc in encoders.items()}
    try:
        for name, output in saved.items():
            if output is not None:
                encoders[name].use_precomputed(None)
        yield module
    finally:
        for name, output in saved.items():
            if output is not None:
                encoders[name].use_precomputed(output)

class ImageBranch:
    """The image input of a fitted network estimator, for one table X.

    Attributes
    ----------
    estimator : BaseNetClassifier
        The fitted network estimator (``net_.module_`` is its torch module).
    X : object
        X as that estimator receives it (after any pipeline steps).
    modality : str
        Name of the explained image modality.
    key : str
        Keyword of the image tensor in the module's ``forward``.
    dataset : MultimodalDataset
        The prepared rows (inputs of every modality, presence flags).
    rows : list
        Row labels (the DataFrame index, else positions).
    classes : ndarray
        Class labels of the outermost estimator.
    output_index : ndarray of int
        Logit column of the network for each entry of ``classes`` (-1 when
        the network never saw that class).
    predicted : ndarray or None
        Predictions of the outermost estimator when they do not follow from
        the network's logits (late fusion); None otherwise.
    score : callable or None
        For a survival model, the function of the network's outputs (a
        torch tensor, (N, K)) giving the risk score of ``predict``, (N, 1):
        what is explained instead of a class; ``classes`` is then
        ``["risk"]``. None for classifiers.
    """

    def __init__(self, estimator, X, modality, key, dataset, rows, classes,
                 output_index, predicted=None, score=None):
        self.estimator = estimator
        self.X = X
        self.modality = modality
        self.key = key
        self.dataset = dataset
        self.rows = rows
        self.classes = classes
        self.output_index = output_index
        self.predicted = predicted
        self.score = score

    @property
    def module(self):
        """The torch module of the network estimator."""
        return self.estimator.net_.module_

    @property
    def source(self):
        """The :class:`~skmultimodal.data.ImageSource` of the image modality."""
        return self.dataset.sources[self.key]

    @property
    def backbone(self):
        """The image backbone (a :class:`~skmultimodal.nn.SimpleCNN` or ResNet)."""
        return self.module.image_backbone(self.key)

    @property
    def feature_layer(self):
        """The backbone module whose output is the last spatial feature map."""
        return self.backbone.feature_layer

    def __len__(self):
        return len(self.dataset)

    @contextlib.contextmanager
    def image_inputs(self):
        """Run the frozen encoders a cache made skip (``memory=``) on images again."""
        with encoders_on_images(self.module):
            yield self

    def original_image(self, i):
        """Row ``i``'s image as read from its path or array, (H, W) or (H, W, C)."""
        source = self.source
        return np.asarray(read_image(source.cells[i], row=self.rows[i]))

    def batches(self, batch_size):
        """Yield ``(positions, inputs)``: the module's keyword inputs for a batch.

        Rows of a batch have images of the same tensor size (with
        ``image_size=None`` images keep their own sizes, so a batch is cut
        where the size changes).
        """
        n = len(self.dataset)
        start = 0
        while start < n:
            positions, items = [], []
            for i in range(start, min(start + batch_size, n)):
                x, _ = self.dataset[i]
                if items and x[self.key].shape != items[0][self.key].shape:
                    break
                positions.append(i)
                items.append(x)
            start = positions[-1] + 1
            yield np.asarray(positions), default_collate(items)


def _choose_modality(modality, images, owner):
    """``modality`` checked against the image modalities of ``owner`` (or the only one)."""
    if modality is None:
        if len(images) > 1:
            raise ValueError(
                f"{owner} has several image modalities {images}; choose one with "
                "modality=."
            )
        return images[0]
    if modality not in images:
        raise ValueError(
            f"Unknown image modality {modality!r}; the image modalities of {owner} "
            f"are {images}."
        )
    return modality


def _network_branch(estimator, X, modality):
    check_is_fitted(estimator, "net_")
    name = type(estimator).__name__
    modalities = estimator.get_input_modalities()
    bags = [n for n, m in modalities.items() if isinstance(m, ImageBagModality)]
    images = [n for n, m in modalities.items()
              if isinstance(m, ImageModality) and n not in bags]
    if modality in bags or (modality is None and bags and not images):
        raise ValueError(
            f"Modality {modality or bags[0]!r} of {name} is a bag of images; explain its "
            "instances with skmultimodal.inspection.bag_instance_grad_cam and "
            "bag_attention."
        )
    if not images:
        raise ValueError(
            f"{name} has no image modality (modalities: {list(modalities)}); there is "
            "no image to explain."
        )
    if isinstance(estimator, ImageClassifier):  # its one image input is also its column
        own = estimator.column if isinstance(estimator.column, str) else "image"
        available = {"image", own}
        if modality is not None and modality not in available:
            raise ValueError(
                f"Unknown image modality {modality!r}: the ImageClassifier has one "
                f"image input; available: {sorted(available)}."
            )
        key, label = "image", own
    else:
        key = label = _choose_modality(modality, images, name)
    # the images themselves, also where a cache (memory=) holds embeddings
    dataset = estimator.make_dataset(X, raw_images=True)
    source = dataset.sources[key]
    rows = list(range(len(dataset))) if source.row_labels is None else list(source.row_labels)
    absent = [rows[i] for i in range(len(dataset)) if not source.present(i)]
    if absent:
        raise ValueError(
            f"The image of modality {label!r} is missing in {len(absent)} row(s): "
            f"{shown(absent)}. Explanations need the image; drop those rows."
        )
    if hasattr(estimator, "explained_output"):  # a survival model: its risk score
        score, names = estimator.explained_output()
        return ImageBranch(estimator, X, label, key, dataset, rows,
                           np.asarray(names, dtype=object), np.zeros(1, dtype=int),
                           score=score)
    classes = np.asarray(estimator.classes_)
    return ImageBranch(estimator, X, label, key, dataset, rows, classes,
                       np.arange(len(classes)))


def _late_branch(estimator, X, modality):
    check_is_fitted(estimator, "estimators_")
    names = estimator.get_modality_names()
    candidates = []
    for name, fitted in zip(names, estimator.estimators_):
        if isinstance(final_step(fitted), (ImageClassifier, BaseFusionClassifier)):
            candidates.append(name)
    if modality is None:
        if len(candidates) != 1:
            what = "no" if not candidates else f"several ({candidates})"
            raise ValueError(
                f"LateFusionClassifier has {what} image estimators (modalities: "
                f"{names}); choose one with modality=<estimator name>."
            )
        modality = candidates[0]
    elif modality not in candidates:
        what = ("is not an image estimator" if modality in names
                else "is not an estimator name")
        raise ValueError(
            f"modality={modality!r} {what} of the LateFusionClassifier; its estimators "
            f"are {names}, the image ones {candidates}."
        )
    position = names.index(modality)
    block = estimator.get_modality_input(X, modality)
    branch = image_branch(estimator.estimators_[position], block, None)
    # The estimators of a late fusion are fitted on the encoded labels 0..K-1.
    inner = {int(c): j for c, j in zip(branch.classes, branch.output_index)}
    branch.output_index = np.array([inner.get(k, -1) for k in range(len(estimator.classes_))])
    branch.classes = np.asarray(estimator.classes_)
    branch.predicted = estimator.predict(X)
    branch.modality = modality
    return branch


def _extractor_branch(extractor, X, modality):
    """The image CNN of one column of a fitted DeepFeatureExtractor."""
    check_is_fitted(extractor, "encoders_")
    modality = _choose_modality(modality, list(extractor.encoders_),
                                "DeepFeatureExtractor")
    branch = image_branch(extractor.encoders_[modality], X, None)
    branch.modality = modality
    return branch


def image_branch(estimator, X, modality=None):
    """Resolve the image branch of a fitted estimator for the rows X.

    Parameters
    ----------
    estimator : estimator
        A fitted ImageClassifier, IntermediateFusionClassifier,
        CrossAttentionFusionClassifier, LateFusionClassifier, or a Pipeline
        whose last step is one of these (earlier steps are applied with
        ``transform``).
    X : object
        Rows, in the form the estimator accepts.
    modality : str, default=None
        Image modality of a fusion estimator, or the estimator name within a
        LateFusionClassifier. Needed when there are several.

    Returns
    -------
    branch : ImageBranch

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is of another kind.
    ValueError
        For an estimator without an image modality, an unknown modality name
        or rows whose image is missing.
    """
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        for _, step in estimator.steps[:-1]:
            if isinstance(step, DeepFeatureExtractor):
                # the CNNs of a stacking ensemble: explained through their own heads
                return _extractor_branch(step, X, modality)
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                X = step.transform(X)
        return image_branch(estimator.steps[-1][1], X, modality)
    if isinstance(estimator, DeepFeatureExtractor):
        return _extractor_branch(estimator, X, modality)
    if isinstance(estimator, LateFusionClassifier):
        return _late_branch(estimator, X, modality)
    if isinstance(estimator, BaseNetClassifier):
        return _network_branch(estimator, X, modality)
    raise TypeError(f"Expected a fitted {SUPPORTED}; got {type(estimator).__name__}.")


def check_targets(branch, target):
    """Validate ``target``: None, one class label, or one label per row.

    Returns
    -------
    labels : ndarray or None
        One label per row (None for the predicted class).
    """
    if target is None:
        return None
    n = len(branch)
    classes = branch.classes
    if np.ndim(target) == 0:
        labels = np.empty(n, dtype=object)
        labels[:] = [target] * n
    else:
        if hasattr(target, "dtype"):
            labels = np.asarray(target)
        else:  # a list mixing types stays as given (np.asarray would make strings)
            values = list(target)
            labels = np.empty(len(values), dtype=object)
            labels[:] = values
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(
                f"target has shape {labels.shape}; expected None, one class label or "
                f"one label per row ({n} rows)."
            )
    known = classes.tolist()
    unknown = []
    for label in labels.tolist():
        if label not in known and label not in unknown:
            unknown.append(label)
    if unknown:
        raise ValueError(
            f"target holds label(s) {unknown} that are not classes of the estimator; "
            f"classes_ is {known}."
        )
    return np.array([classes[known.index(label)] for label in labels.tolist()],
                    dtype=classes.dtype).reshape(n)


def target_columns(branch, labels):
    """Logit columns of the network for class labels (which must be known)."""
    known = branch.classes.tolist()
    columns = np.array([branch.output_index[known.index(label)] for label in labels.tolist()],
                       dtype=int).reshape(len(labels))
    never = sorted({label for label, c in zip(labels.tolist(), columns) if c < 0}, key=str)
    if never:
        raise ValueError(
            f"The image estimator {branch.modality!r} was never trained on class(es) "
            f"{never}; it cannot be explained for them."
        )
    return columns


def resize_map(heatmap, shape):
    """Bilinearly resize a 2-D map to ``shape`` (H, W), as a float64 array."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.shape == tuple(shape):
        return heatmap.astype(np.float64)
    tensor = torch.from_numpy(np.ascontiguousarray(heatmap))[None, None]
    out = torch.nn.functional.interpolate(tensor, size=tuple(shape), mode="bilinear",
                                          align_corners=False, antialias=True)
    return out[0, 0].numpy().astype(np.float64)
