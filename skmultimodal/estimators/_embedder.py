"""ImageEmbedder: a frozen image backbone as a scikit-learn transformer."""

import copy

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..modalities import ImageModality
from ..nn._registry import build_backbone
from ..utils._constraints import IMAGE, MEMORY, NON_NEGATIVE_INT, TRAINING, pick
from ..utils._docstrings import substitute_shared_params
from ..utils._torch import loadable_device, resolve_device, resolve_seed, torch_seed
from ._base import check_not_empty
from ._cache import check_memory, encode_source
from ._image_input import roi_image_cells


@substitute_shared_params
class ImageEmbedder(TransformerMixin, BaseEstimator):
    """Backbone embeddings of images, for use in pipelines.

    ``fit`` builds the backbone (random initialisation seeded by
    ``random_state``, or loaded ``weights``) without training it; ``transform``
    returns the globally pooled features of each image, so that
    ``make_pipeline(ImageEmbedder(...), LogisticRegression())`` works and
    ``ColumnTransformer`` can put image features beside tabular columns.

    Parameters
    ----------
    column : str, default=None
        Image column when X is a DataFrame.
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
    attention : {None, "eca", "cbam"}, default=None
    weights : None, str, path or fitted pretrainer, default=None
        A torchvision weights name ("IMAGENET1K_V1", "DEFAULT"), a local
        state-dict path or a fitted
        :class:`~skmultimodal.pretraining.ContrastivePretrainer`. With None
        the backbone is randomly initialised.
    image_size : int or (int, int), default=224
    channels : {1, 3}, default=3
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    %(roi)s
    %(roi_margin)s
    batch_size : int, default=64
    num_workers : int, default=0
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    memory : None, str, path or joblib.Memory, default=None
        Folder caching the embeddings (a :class:`joblib.Memory` gives its
        ``location``), as the ``memory`` of a scikit-learn ``Pipeline``.
        Each image's embedding is stored once, keyed by the backbone's
        architecture and weights, the preprocessing and the image (a file's
        resolved path, size and modification time, or an array's bytes), so
        later calls, cross-validation folds and grid-search candidates
        sharing images compute only the new ones. With ``weights=None`` set
        ``random_state`` so that every fit builds the same backbone. The
        folder can be shared by concurrent processes. None disables caching.
    verbose : int, default=0
        Show a progress bar over batches when > 0.

    Attributes
    ----------
    backbone_ : torch.nn.Module
        The backbone in evaluation mode.
    modality_ : ImageModality
    n_features_out_ : int
        Embedding width.
    device_ : str
    """

    _parameter_constraints = {
        **pick(IMAGE, ["column", "backbone", "attention", "weights", "image_size",
                       "channels", "normalize", "intensity_range", "roi",
                       "roi_margin"]),
        **pick(TRAINING, ["batch_size", "device", "random_state", "verbose"]),
        "num_workers": [NON_NEGATIVE_INT],
        "memory": MEMORY,
    }

    def __init__(self, column=None, *, backbone="resnet18", attention=None, weights=None,
                 image_size=224, channels=3, normalize="imagenet",
                 intensity_range="auto", roi=None, roi_margin=0.1, batch_size=64,
                 num_workers=0, device="auto", random_state=None, memory=None,
                 verbose=0):
        self.column = column
        self.backbone = backbone
        self.attention = attention
        self.weights = weights
        self.image_size = image_size
        self.channels = channels
        self.normalize = normalize
        self.intensity_range = intensity_range
        self.roi = roi
        self.roi_margin = roi_margin
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.device = device
        self.random_state = random_state
        self.memory = memory
        self.verbose = verbose

    def fit(self, X, y=None):
        """Build the backbone and check X.

        Parameters
        ----------
        X : images (see :class:`ImageClassifier`)
        y : ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        self.modality_ = ImageModality(
            self.column, backbone=self.backbone, attention=self.attention,
            weights=self.weights, freeze_backbone=True, image_size=self.image_size,
            channels=self.channels, normalize=self.normalize,
            intensity_range=self.intensity_range, roi=self.roi,
            roi_margin=self.roi_margin,
        ).check_params()
        check_memory(self.memory)
        cells, _ = roi_image_cells(self, X, self.modality_, reset=True)
        check_not_empty(len(cells), "ImageEmbedder needs at least one image to fit")
        self.device_ = resolve_device(self.device)
        with torch_seed(resolve_seed(self.random_state), self.device_):
            backbone = build_backbone(self.modality_.encoder_spec())
        self.backbone_ = backbone.eval().requires_grad_(False)
        self.n_features_out_ = backbone.num_features
        return self

    def transform(self, X):
        """Embed each image (reading the ``memory`` cache when set).

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        check_is_fitted(self, "backbone_")
        store = check_memory(self.memory)
        cells, labels = roi_image_cells(self, X, self.modality_, reset=False)
        check_not_empty(len(cells), "ImageEmbedder needs at least one image to embed")
        source = self.modality_.make_source(cells, labels, train=False)
        embeddings, _ = encode_source(
            self.backbone_.to(self.device_), source, output="pooled", store=store,
            batch_size=self.batch_size, num_workers=self.num_workers,
            verbose=self.verbose,
        )
        return embeddings

    def get_feature_names_out(self, input_features=None):
        """Output feature names ``<backbone>_<i>``."""
        check_is_fitted(self, "n_features_out_")
        return np.array([f"{self.backbone}_{i}" for i in range(self.n_features_out_)],
                        dtype=object)

    def __getstate__(self):
        state = self.__dict__.copy()
        backbone = state.get("backbone_")
        if backbone is not None and next(backbone.parameters()).is_cuda:
            state["backbone_"] = copy.deepcopy(backbone).cpu()
        return state

    def __setstate__(self, state):
        if "device_" in state:
            state["device_"] = loadable_device(state["device_"])
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
