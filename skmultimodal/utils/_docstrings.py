"""Parameter descriptions shared by several estimators, and their substitution.

A class docstring names a shared parameter as ``%(name)s`` at the indentation
of its parameter line; :class:`Substitution` fills it in when the class is
defined, so ``help(cls)`` shows the full text (the pattern of pandas and
imbalanced-learn).
"""


class Substitution:
    """Fill ``%(name)s`` fields of the decorated object's docstring.

    Parameters
    ----------
    **params : str
        The text of each field.

    Examples
    --------
    >>> @Substitution(thing="a parameter")
    ... def f():
    ...     "Docstring with %(thing)s."
    >>> f.__doc__
    'Docstring with a parameter.'
    """

    def __init__(self, **params):
        self.params = params

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = obj.__doc__ % self.params
        return obj


# Each text starts with the parameter line; its other lines carry the
# indentation of a parameter description in a class docstring.
_recalibrate_bn = """recalibrate_bn : bool or int, default=True
        After training, recompute the batch-norm running statistics with the
        final weights over a seeded quarter of the training rows, at least two
        batches (True), over at most this many training batches (an int), or
        not at all (False). Without it, evaluation-mode predictions can
        collapse on small data sets; it costs about a twelfth of an epoch
        (see ``docs/performance.md``)."""

_num_workers = """num_workers : "auto" or int, default="auto"
        DataLoader worker processes reading images. "auto" uses none on the
        CPU and ``min(8, os.cpu_count())`` on a GPU. Workers persist across
        epochs."""

_precision = """precision : {None, "bf16", "fp16"}, default=None
        Automatic mixed precision (:class:`torch.autocast`) in training and
        prediction. "bf16" works on the CPU and recent GPUs; "fp16" needs
        CUDA and scales the loss. Probabilities are returned as float64."""

_channels_last = """channels_last : bool, default=False
        Module and image batches in the ``torch.channels_last`` memory
        format (faster convolutions on GPUs, above all with ``precision``)."""

_compile = """compile : bool or dict, default=False
        Compile the network with :func:`torch.compile`; a dict holds its
        keyword arguments, e.g. ``{"mode": "max-autotune"}``."""

_accelerator = """accelerator : accelerate.Accelerator, default=None
        Train through Hugging Face Accelerate (multi-GPU data parallel with
        ``accelerate launch``, mixed precision set on the accelerator). The
        accelerator places the model: leave ``device="auto"`` and
        ``precision=None``."""

_intensity_range = """intensity_range : "auto", "minmax", None, number or (low, high), \
default="auto"
        How pixel values map to [0, 1] before ``normalize``. "auto" reads the
        range from the dtype: uint8 / 255, uint16 / 65535, bool as 0 or 1,
        float images must already lie in [0, 1]; other integer dtypes (int64
        arrays, 32-bit integer TIFFs) are an error until the range is stated.
        A number (e.g. 255, 4095) or a (low, high) pair states the range of
        every image whatever its dtype (values outside it are an error);
        "minmax" scales each image by its own minimum and maximum; None uses
        the values as they are (images already scaled or standardised). The
        same picture gives the same input whatever its dtype or file format."""

_modality_dropout = """modality_dropout : float, default=0.1
        Probability, in training, of hiding a present modality (never all of
        a row's), so that the network learns to cope with missing ones. A row
        with a hidden modality trains the learned missing embeddings, the
        fusion and the head, but not the branches (encoders and projections)
        of the modalities left: its label may depend on the hidden modality
        (an interaction between modalities), and fitting it from the others
        alone would teach them to memorise rather than to combine."""

# (the default differs between estimators: each states its own after the text)
_lr_schedule_steps = """lr_schedule : {"warmup_cosine", "onecycle", "constant"} or None
        How the learning rate moves over training, one step per batch:
        "warmup_cosine" rises linearly from 0 to ``lr`` over the first 5%
        of the ``max_epochs`` steps, then decays to 0 along half a cosine;
        "onecycle" is :class:`torch.optim.lr_scheduler.OneCycleLR` peaking
        at ``lr`` after 5% of the steps; "constant" or None keep ``lr``."""

_lr_schedule = _lr_schedule_steps + """ The
        learning rate of every batch is in ``net_.history`` as
        ``"event_lr"``."""

#: ``lr_schedule`` of an estimator with its own training loop (no skorch net):
#: the learning rate is recorded per epoch, in ``history_``.
LR_SCHEDULE_PER_EPOCH = _lr_schedule_steps + """ The
        learning rate at the end of each epoch is in ``history_``."""

_label_smoothing = """label_smoothing : float in [0, 1)
        Label smoothing of the cross-entropy loss
        (:class:`torch.nn.CrossEntropyLoss`): the target puts this mass
        evenly on all classes."""

_roi = """roi : str, default=None
        Name of the DataFrame column holding each row's region of interest
        (X must then be a DataFrame): a lesion mask (path to a mask image or
        2-D array, nonzero = lesion) or a box ``(x0, y0, x1, y1)`` in pixel
        coordinates of the original image. Each image is cropped to the
        lesion's bounding box plus ``roi_margin`` before resizing, the same
        way in ``fit`` as in prediction and ``transform`` (see
        :class:`~skmultimodal.modalities.ImageModality`); a missing cell or
        an all-zero mask keeps the whole image. None uses whole images."""

_roi_margin = """roi_margin : float, default=0.1
        Margin added on every side of the lesion's box, as a fraction of
        its width and height: a rim of surrounding tissue stays in view."""

#: The shared parameter descriptions, by field name.
SHARED_PARAMS = {
    "recalibrate_bn": _recalibrate_bn,
    "num_workers": _num_workers,
    "precision": _precision,
    "channels_last": _channels_last,
    "compile": _compile,
    "accelerator": _accelerator,
    "intensity_range": _intensity_range,
    "lr_schedule": _lr_schedule,
    "label_smoothing": _label_smoothing,
    "modality_dropout": _modality_dropout,
    "roi": _roi,
    "roi_margin": _roi_margin,
}

#: Decorator filling the shared parameter descriptions into a class docstring.
substitute_shared_params = Substitution(**SHARED_PARAMS)
