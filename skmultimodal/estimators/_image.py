"""ImageClassifier: a CNN trained end to end on one image column."""

from sklearn.utils._param_validation import StrOptions

from ..data import MultimodalDataset
from ..modalities import ImageModality
from ..nn import ImageClassifierModule
from ..utils._constraints import IMAGE, RATE, TRAINING
from ..utils._docstrings import substitute_shared_params
from ._base import BaseNetClassifier, PreparedInput
from ._image_input import roi_image_cells


class _FlippedSource:
    """The images of a source, mirrored left to right (test-time augmentation)."""

    def __init__(self, source):
        self.source = source

    def __len__(self):
        return len(self.source)

    def present(self, i):
        return self.source.present(i)

    def __getitem__(self, i):
        return self.source[i].flip(-1)


@substitute_shared_params
class ImageClassifier(BaseNetClassifier):
    """Image classifier (SimpleCNN, ResNet-18/50 with optional ECA/CBAM attention).

    The training defaults (AdamW, warm-up and cosine decay of the learning
    rate, label smoothing, 30 epochs, the light augmentation preset) follow
    the published recipes for small medical images; the previous defaults
    were ``optimizer="adam", weight_decay=0.0, lr_schedule=None,
    label_smoothing=0.0, max_epochs=10, augment=False``. The light preset
    (horizontal flip, small affine, brightness and contrast jitter) suits
    every kind of image here; the preset of your kind of image
    (``augment="ultrasound"`` and so on) may do better, and
    ``augment=False`` keeps signals that depend on position or side.

    Parameters
    ----------
    column : str, default=None
        Image column when X is a DataFrame (cells hold file paths or arrays).
        None uses the only column of a one-column DataFrame.
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
    attention : {None, "eca", "cbam"}, default=None
        Attention inside the residual blocks (ResNet) or after every convolution
        block (SimpleCNN).
    weights : None, str, path or fitted pretrainer, default=None
        None (random initialisation), a torchvision weights name such as
        "IMAGENET1K_V1" or "DEFAULT", the path to a local state dict, or a
        fitted :class:`~skmultimodal.pretraining.ContrastivePretrainer`.
    freeze_backbone : bool, default=False
        Train the head only.
    image_size : int or (int, int), default=224
        Images are resized to this size.
    channels : {1, 3}, default=3
        Channels fed to the backbone (greyscale is repeated for 3).
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    augment : bool, str or callable, default="light"
        Training-time augmentation: a preset for a kind of image, True or
        "default" (the "generic" preset), False (none), or a callable that
        receives the float (C, H, W) tensor in [0, 1] before normalisation.
        The default, "light", keeps to transforms that leave the anatomy of
        every kind of image here plausible; set ``augment=False`` when the
        signal depends on the position or the side of a structure in the
        frame (a flip or a shift would destroy it). The presets (see
        :func:`skmultimodal.data.default_augmentation`):

        ============  ====================================================
        preset        transforms
        ============  ====================================================
        light         horizontal flip (never vertical), small affine
                      (rotation 10 degrees, shift 5%%, scale 0.9-1.1),
                      brightness and contrast jitter
        generic       horizontal and vertical flips, rotation up to 15
                      degrees, brightness and contrast jitter
        ultrasound    the light preset and speckle noise
        mammography   horizontal flip, small affine, contrast jitter
        histology     horizontal and vertical flips, right-angle
                      rotations, colour jitter (hue and saturation too)
        ============  ====================================================
    tta : bool or "flip", default=False
        Test-time augmentation: ``predict_proba`` (and ``predict``) average
        the probabilities of each image and of its horizontal mirror image
        (True and "flip" are the same). Doubles the cost of prediction.
    backbone_params : dict, default=None
        Further keyword arguments of the backbone, e.g.
        ``{"channels": (16, 32, 64)}`` for a smaller SimpleCNN.
    %(roi)s
    %(roi_margin)s
    dropout : float, default=0.0
        Dropout before the linear head.
    max_epochs : int, default=30
    batch_size : int, default=32
    lr : float, default=1e-3
        The peak learning rate (reached after the warm-up of ``lr_schedule``).
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
        "adamw" decouples ``weight_decay`` from the gradient (AdamW).
    weight_decay : float, default=0.05
    %(lr_schedule)s
        Default: "warmup_cosine".
    %(label_smoothing)s
        Default: 0.1.
    class_weight : None, "balanced" or dict, default=None
        Weights of the cross-entropy loss per class.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training rows and
        stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, restoring the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    callbacks : list of skorch callbacks, default=None
        Copied before use, so the instances passed are never modified.
    %(recalibrate_bn)s
    %(num_workers)s
    %(precision)s
    %(channels_last)s
    %(compile)s
    cache_images : bool, default=False
        Keep every training image in memory after its first read (decoded
        and resized, before augmentation and normalisation), so that later
        epochs do not decode it again. The cache lives for one ``fit``; with
        ``num_workers > 0`` each worker process holds its own copy.
    %(accelerator)s
    device : str, default="auto"
        "auto" picks CUDA when available, else the CPU.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling and augmentation.
    verbose : int, default=0
        Print the epoch table and a progress bar when > 0.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    net_ : skorch.NeuralNetClassifier
        The trained network (``net_.module_`` is the torch module,
        ``net_.history`` the training history).
    modality_ : ImageModality
        How images were read and prepared.
    n_iter_ : int
        Epochs run.
    device_ : str
        Device used for training.
    n_features_in_ : int
        Only for 2-D numeric X (rows read as 1-pixel-high images).

    Examples
    --------
    >>> from skmultimodal import ImageClassifier
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(60, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> clf = ImageClassifier(column="image", backbone="simple_cnn", image_size=16,
    ...                       max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (60, 2)
    """

    _parameter_constraints = {**IMAGE, "dropout": [RATE], **TRAINING,
                              "tta": ["boolean", StrOptions({"flip"})]}

    def __init__(self, column=None, *, backbone="resnet18", attention=None, weights=None,
                 freeze_backbone=False, image_size=224, channels=3, normalize="imagenet",
                 intensity_range="auto", augment="light", tta=False,
                 backbone_params=None, roi=None, roi_margin=0.1, dropout=0.0,
                 max_epochs=30,
                 batch_size=32, lr=1e-3, optimizer="adamw",
                 weight_decay=0.05, lr_schedule="warmup_cosine",
                 label_smoothing=0.1, class_weight=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 callbacks=None, recalibrate_bn=True, num_workers="auto", precision=None,
                 channels_last=False, compile=False, cache_images=False, accelerator=None,
                 device="auto", random_state=None, verbose=0):
        self.column = column
        self.backbone = backbone
        self.attention = attention
        self.weights = weights
        self.freeze_backbone = freeze_backbone
        self.image_size = image_size
        self.channels = channels
        self.normalize = normalize
        self.intensity_range = intensity_range
        self.augment = augment
        self.tta = tta
        self.backbone_params = backbone_params
        self.roi = roi
        self.roi_margin = roi_margin
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.recalibrate_bn = recalibrate_bn
        self.num_workers = num_workers
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile
        self.cache_images = cache_images
        self.accelerator = accelerator
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _modality(self):
        return ImageModality(
            self.column, backbone=self.backbone, attention=self.attention,
            weights=self.weights, freeze_backbone=self.freeze_backbone,
            image_size=self.image_size, channels=self.channels,
            normalize=self.normalize, intensity_range=self.intensity_range,
            augment=self.augment,
            backbone_params=self.backbone_params,
            roi=self.roi, roi_margin=self.roi_margin,
        ).check_params()

    def _prepare_X(self, X, reset):
        if reset:
            self.modality_ = self._modality()
        cells, labels = roi_image_cells(self, X, self.modality_, reset)
        return PreparedInput({"image": cells}, len(cells), labels, fitting=reset)

    def _input_modalities(self):
        return {"image": self.modality_}

    def _make_sources(self, prepared, train, raw_images=False):
        return {"image": self.modality_.make_source(prepared.data["image"], prepared.labels,
                                                    train=train)}

    def _test_time_views(self, dataset):
        if not self.tta:
            return [dataset]
        flipped = MultimodalDataset({"image": _FlippedSource(dataset.sources["image"])})
        return [dataset, flipped]

    def _module_spec(self, n_classes):
        return ImageClassifierModule, dict(
            n_classes=n_classes, encoder=self.modality_.encoder_spec(), dropout=self.dropout,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags
