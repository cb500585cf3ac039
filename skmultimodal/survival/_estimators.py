"""Survival siblings of the tabular MLP and the fusion classifiers."""

from sklearn.utils._param_validation import Interval, StrOptions

from ..estimators import TabularMLPClassifier
from ..fusion import CrossAttentionFusionClassifier, IntermediateFusionClassifier
from ..utils._constraints import POSITIVE_INT
from ..utils._docstrings import SHARED_PARAMS, Substitution
from ._base import SURVIVAL_LOSSES, SurvivalNetMixin

_SURVIVAL = {"loss": [StrOptions(set(SURVIVAL_LOSSES))],
             "n_time_bins": [Interval(POSITIVE_INT.type, 2, None, closed="left")]}

_SURVIVAL_DOC = """loss : {"cox", "discrete_time"}, default="cox"
        ``"cox"``: the network outputs a log-hazard ratio trained with the
        Cox partial likelihood (DeepSurv; Breslow's handling of ties; a
        batch's events are compared with the batch's risk sets, so batches
        should hold several events); the baseline hazard is Breslow's
        estimate on the training rows. ``"discrete_time"``: one hazard per
        time bin, trained with the discrete-time likelihood (as MCAT and
        PathomicFusion train).
    n_time_bins : int, default=10
        Time bins of ``loss="discrete_time"``, at the quantiles of the
        training event times (``time_bins_``)."""

_FUSION_TRAINING_DOC = """max_epochs : int, default=30
    batch_size : int, default=512
        Rows per batch; the Cox loss compares each event of a batch with the
        batch's rows at risk, so large batches estimate it better (on
        METABRIC's 1,523 training rows, 5 folds, 512 gave a concordance of
        0.673, 128 0.657 and 64 0.644). On a few hundred rows one batch
        holds them all and training takes only ``max_epochs`` steps: use
        32-64 there.
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1.0
        Decoupled weight decay of AdamW (each step shrinks the weights by
        ``lr * weight_decay``): strong, as survival data sets are small and
        their signal weak.
    %(lr_schedule)s
        Default: None.
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    callbacks : list of skorch callbacks, default=None
    %(recalibrate_bn)s
    %(num_workers)s
    %(precision)s
    %(channels_last)s
    %(compile)s
    cache_images : bool, default=False
    %(accelerator)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    memory : None, str or joblib.Memory, default=None
        Cache of frozen image encoders' outputs (see the fusion classifiers).
    verbose : int, default=0"""

_ATTRIBUTES_DOC = """Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    event_times_ : ndarray
        The distinct event times of the training rows.
    baseline_ : sksurv.linear_model.coxph.BreslowEstimator
        Baseline hazard (``loss="cox"``).
    time_bins_ : ndarray
        Edges of the time bins (``loss="discrete_time"``).
    n_iter_ : int
        Epochs run.
    device_ : str"""


_survival_docs = Substitution(**SHARED_PARAMS, loss=_SURVIVAL_DOC,
                              training=_FUSION_TRAINING_DOC % SHARED_PARAMS,
                              attributes=_ATTRIBUTES_DOC)


@_survival_docs
class TabularMLPSurvival(SurvivalNetMixin, TabularMLPClassifier):
    """MLP survival model on table columns (DeepSurv), scikit-survival's interface.

    ``fit(X, y)`` takes ``y`` as ``sksurv.util.Surv.from_arrays(event,
    time)``; ``predict`` gives a risk score (higher means an earlier event),
    ``score`` Harrell's concordance index, ``predict_survival_function`` and
    ``predict_cumulative_hazard_function`` step functions as
    scikit-survival's estimators give them. Preprocessing (scaling,
    imputation, one-hot encoding) is fitted in ``fit`` as for
    :class:`~skmultimodal.TabularMLPClassifier`.

    Parameters
    ----------
    columns : str, int, list or None, default=None
        Columns of X to use; None uses all.
    %(loss)s
    hidden_layer_sizes : tuple of int, default=(32,)
    dropout : float, default=0.5
    batch_norm : bool, default=True
    activation : {"relu", "gelu", "tanh"}, default="relu"
    scale : bool, default=True
    impute : {None, "mean", "median", "most_frequent"}, default=None
    categorical : "auto" or list, default="auto"
    max_epochs : int, default=30
    batch_size : int, default=512
        Rows per batch; the Cox loss compares each event of a batch with the
        batch's rows at risk, so large batches estimate it better. On a few
        hundred rows one batch holds them all and training takes only
        ``max_epochs`` steps: use 32-64 there (on 100-300 generated rows,
        64 raised the held-out concordance by 0.03-0.05).
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1.0
        Decoupled weight decay of AdamW (each step shrinks the weights by
        ``lr * weight_decay``).
    %(lr_schedule)s
        Default: None.
    early_stopping : bool, default=False
        Hold out a ``validation_fraction`` of the rows (stratified on the
        event indicator) and stop when its loss stops improving.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    callbacks : list of skorch callbacks, default=None
    %(recalibrate_bn)s
    %(precision)s
    %(compile)s
    %(accelerator)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    verbose : int, default=0

    %(attributes)s

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sksurv.util import Surv
    >>> from skmultimodal.survival import TabularMLPSurvival
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"])
    >>> time = rng.exponential(np.exp(-X["a"].to_numpy()))
    >>> y = Surv.from_arrays(np.ones(100, dtype=bool), time)
    >>> model = TabularMLPSurvival(batch_size=32, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.6)
    True
    """

    _parameter_constraints = {**TabularMLPClassifier._parameter_constraints, **_SURVIVAL}

    def __init__(self, columns=None, *, loss="cox", n_time_bins=10,
                 hidden_layer_sizes=(32,), dropout=0.5, batch_norm=True, activation="relu",
                 scale=True, impute=None, categorical="auto", max_epochs=30, batch_size=512,
                 lr=1e-3, optimizer="adamw", weight_decay=1.0, lr_schedule=None,
                 early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, callbacks=None,
                 recalibrate_bn=True, precision=None, compile=False, accelerator=None,
                 device="auto", random_state=None, verbose=0):
        self.columns = columns
        self.loss = loss
        self.n_time_bins = n_time_bins
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.activation = activation
        self.scale = scale
        self.impute = impute
        self.categorical = categorical
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.recalibrate_bn = recalibrate_bn
        self.precision = precision
        self.compile = compile
        self.accelerator = accelerator
        self.device = device
        self.random_state = random_state
        self.verbose = verbose





@_survival_docs
class IntermediateFusionSurvival(SurvivalNetMixin, IntermediateFusionClassifier):
    """Intermediate-fusion survival model: modality embeddings joined, one risk head.

    The network of :class:`~skmultimodal.IntermediateFusionClassifier`
    (image, bag and tabular modalities, missing modalities, the embedding
    cache) with a survival head and loss; scikit-survival's interface
    (``y`` from ``sksurv.util.Surv.from_arrays``, ``predict`` a risk score,
    ``score`` Harrell's concordance index, survival and cumulative hazard
    functions).

    Parameters
    ----------
    modalities : list of (str, modality) tuples
        ``ImageModality``, ``ImageBagModality`` or ``TabularModality`` per name.
    %(loss)s
    embed_dim : int, default=32
        Width of each modality's embedding. Smaller than the classifier's
        (128): survival signals are weak and the data sets small.
    projection : {"layernorm", "relu"}, default="layernorm"
        What follows the linear projection of each modality's embedding (see
        :class:`~skmultimodal.IntermediateFusionClassifier`).
    fusion : {"concat", "gated", "kronecker", "bilinear"}, default="bilinear"
        As in :class:`~skmultimodal.IntermediateFusionClassifier`: the
        concatenation plus the products of every pair of modalities, so
        that risk can depend on how the modalities combine.
    kronecker_dim : int, default=16
    head_hidden_sizes : tuple of int, default=(32,)
    dropout : float, default=0.5
    %(modality_dropout)s
    %(training)s

    %(attributes)s
    """

    _parameter_constraints = {**IntermediateFusionClassifier._parameter_constraints,
                              **_SURVIVAL}

    def __init__(self, modalities, *, loss="cox", n_time_bins=10, embed_dim=32,
                 projection="layernorm", fusion="bilinear", kronecker_dim=16,
                 head_hidden_sizes=(32,), dropout=0.5, modality_dropout=0.1,
                 max_epochs=30, batch_size=512, lr=1e-3, optimizer="adamw",
                 weight_decay=1.0, lr_schedule=None, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, callbacks=None,
                 recalibrate_bn=True, num_workers="auto", precision=None, channels_last=False,
                 compile=False, cache_images=False, accelerator=None, device="auto",
                 random_state=None, memory=None, verbose=0):
        self.modalities = modalities
        self.loss = loss
        self.n_time_bins = n_time_bins
        self.embed_dim = embed_dim
        self.projection = projection
        self.fusion = fusion
        self.kronecker_dim = kronecker_dim
        self.head_hidden_sizes = head_hidden_sizes
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
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
        self.memory = memory
        self.verbose = verbose


@_survival_docs
class CrossAttentionFusionSurvival(SurvivalNetMixin, CrossAttentionFusionClassifier):
    """Cross-attention fusion survival model (genes + clinical, histology + genes...).

    The network of :class:`~skmultimodal.CrossAttentionFusionClassifier`
    with a survival head and loss; scikit-survival's interface.

    Parameters
    ----------
    modalities : list of (str, modality) tuples
        ``ImageModality``, ``ImageBagModality`` or ``TabularModality`` per name.
    %(loss)s
    embed_dim : int, default=32
        Width of the tokens. Smaller than the classifier's (128): survival
        signals are weak and the data sets small.
    n_heads : int, default=4
    n_layers : int, default=2
    n_tokens : int, default=4
    dropout : float, default=0.5
    pooling : {"mean", "cls"}, default="mean"
    %(modality_dropout)s
    %(training)s

    %(attributes)s
    """

    _parameter_constraints = {**CrossAttentionFusionClassifier._parameter_constraints,
                              **_SURVIVAL}

    def __init__(self, modalities, *, loss="cox", n_time_bins=10, embed_dim=32, n_heads=4,
                 n_layers=2, n_tokens=4, dropout=0.5, pooling="mean", modality_dropout=0.1,
                 max_epochs=30, batch_size=512, lr=1e-3, optimizer="adamw", weight_decay=1.0,
                 lr_schedule=None, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, callbacks=None, recalibrate_bn=True, num_workers="auto",
                 precision=None, channels_last=False, compile=False, cache_images=False,
                 accelerator=None, device="auto", random_state=None, memory=None, verbose=0):
        self.modalities = modalities
        self.loss = loss
        self.n_time_bins = n_time_bins
        self.embed_dim = embed_dim
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.n_tokens = n_tokens
        self.dropout = dropout
        self.pooling = pooling
        self.modality_dropout = modality_dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
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
        self.memory = memory
        self.verbose = verbose
