"""CrossAttentionFusionClassifier: image and tabular tokens attending to each other."""

import numpy as np
import torch
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.utils import to_device
from torch.utils.data import DataLoader

from ..modalities import ImageBagModality
from ..nn._fusion import POOLINGS, CrossAttentionFusionNet
from ..utils._constraints import MEMORY, NON_NEGATIVE_INT, POSITIVE_INT, RATE, TRAINING
from ..utils._docstrings import substitute_shared_params
from ..utils._torch import eval_mode, resolve_num_workers
from ._base import BaseFusionClassifier


@substitute_shared_params
class CrossAttentionFusionClassifier(BaseFusionClassifier):
    """Cross-attention fusion of image spatial tokens and tabular tokens.

    Study 1 (histopathology + gene expression). Each modality becomes a set
    of tokens of ``embed_dim`` units:

    - an image modality gives one token per cell of its backbone's last
      feature map (``h * w`` tokens, e.g. 7 x 7 for a ResNet at 224 pixels),
      linearly projected, plus a learned 2-D positional embedding
      (interpolated to the grid, so any image size works);
    - a tabular modality is encoded by its MLP (``hidden_layer_sizes`` of the
      :class:`~skmultimodal.modalities.TabularModality`), and a linear layer
      projects that embedding into ``n_tokens`` tokens (plus a learned
      embedding per token).

    In each of ``n_layers`` layers, the tokens of every modality attend,
    through multi-head cross-attention (``torch.nn.MultiheadAttention``),
    to the concatenated tokens of all the other modalities, followed by
    residual + LayerNorm + feed-forward. With one image and one tabular
    modality this is cross-attention in both directions. The tokens of each
    modality are then pooled (``"mean"`` or a learned ``"cls"`` token),
    concatenated and classified.

    A missing modality is masked out of the keys (``key_padding_mask``; a
    learned null key is always there to attend to) and its pooled vector is
    replaced by a learned missing embedding. ``n_layers=0`` removes the
    cross-attention (the "without cross-attention" ablation).

    Parameters
    ----------
    modalities : list of (str, modality) tuples
        ``(name, ImageModality(...) or TabularModality(...))`` pairs; nested
        parameters are set with ``<name>__<param>``.
    embed_dim : int, default=128
        Token width.
    n_heads : int, default=4
        Attention heads; must divide ``embed_dim``.
    n_layers : int, default=2
        Cross-attention layers (0 for none).
    n_tokens : int, default=4
        Tokens of each tabular modality.
    dropout : float, default=0.1
    pooling : {"mean", "cls"}, default="mean"
    %(modality_dropout)s
    max_epochs : int, default=20
    batch_size : int, default=32
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1e-2
    %(lr_schedule)s
        Default: None.
    %(label_smoothing)s
        Default: 0.
    class_weight : None, "balanced" or dict, default=None
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
        Keep the images of the image modalities in memory after their first
        read (decoded and resized, before augmentation and normalisation),
        so that later epochs do not decode them again. The cache lives for
        one ``fit``; with ``num_workers > 0`` each worker process holds its
        own copy.
    %(accelerator)s
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    memory : None, str, path or joblib.Memory, default=None
        Folder caching the outputs of frozen image encoders (image
        modalities with ``freeze_backbone=True`` and no augmentation), as the
        ``memory`` of a scikit-learn ``Pipeline``. Each image is encoded once
        and the rest of the network trains on the stored outputs, so later
        fits, cross-validation folds and grid-search candidates sharing
        images skip the encoder; results are those of ``memory=None``. With
        ``weights=None`` the encoder is the random initialisation of
        ``random_state``: fix it to share the cache between fits. See
        ``docs/embedding_cache.md``.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray
    modalities_ : dict of str to modality
        Fitted copies of the modalities.
    net_ : skorch.NeuralNetClassifier
        ``net_.module_`` is a
        :class:`~skmultimodal.nn._fusion.CrossAttentionFusionNet`.
    n_features_in_ : int
    feature_names_in_ : ndarray
    n_iter_ : int
    device_ : str

    See Also
    --------
    IntermediateFusionClassifier : Fusion of pooled embeddings.

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.fusion import CrossAttentionFusionClassifier
    >>> from skmultimodal.modalities import ImageModality, TabularModality
    >>> X, y = make_multimodal_classification(60, image_size=16, random_state=0)
    >>> clf = CrossAttentionFusionClassifier(
    ...     modalities=[("slide", ImageModality("image", backbone="simple_cnn",
    ...                                         image_size=16, channels=1)),
    ...                 ("genes", TabularModality([f"tab_{i}" for i in range(10)]))],
    ...     embed_dim=16, n_heads=2, n_layers=1, max_epochs=2, random_state=0).fit(X, y)
    >>> att = clf.attention_weights(X.iloc[:5])
    >>> att.grid_shape["slide"], att.weights["genes->slide"][0].shape
    ((4, 4), (5, 2, 4, 16))
    """

    _parameter_constraints = {
        "modalities": [list, tuple],
        "embed_dim": [POSITIVE_INT],
        "n_heads": [POSITIVE_INT],
        "n_layers": [NON_NEGATIVE_INT],
        "n_tokens": [POSITIVE_INT],
        "dropout": [RATE],
        "pooling": [StrOptions(set(POOLINGS))],
        "modality_dropout": [RATE],
        **TRAINING,
        "memory": MEMORY,
    }

    def __init__(self, modalities, *, embed_dim=128, n_heads=4, n_layers=2, n_tokens=4,
                 dropout=0.1, pooling="mean", modality_dropout=0.1, max_epochs=20,
                 batch_size=32, lr=1e-3, optimizer="adamw", weight_decay=1e-2,
                 lr_schedule=None, label_smoothing=0.0, class_weight=None,
                 early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, callbacks=None, recalibrate_bn=True, num_workers="auto",
                 precision=None, channels_last=False, compile=False, cache_images=False,
                 accelerator=None, device="auto", random_state=None, memory=None, verbose=0):
        self.modalities = modalities
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
        self.memory = memory
        self.verbose = verbose

    def _check_fusion_params(self):
        if self.embed_dim % self.n_heads:
            raise ValueError(
                f"embed_dim={self.embed_dim} must be divisible by n_heads={self.n_heads}."
            )

    def _module_spec(self, n_classes):
        return CrossAttentionFusionNet, dict(
            n_classes=n_classes, modalities=self._modality_specs(),
            embed_dim=self.embed_dim, n_heads=self.n_heads, n_layers=self.n_layers,
            n_tokens=self.n_tokens, dropout=self.dropout, pooling=self.pooling,
            modality_dropout=self.modality_dropout,
        )

    def attention_weights(self, X):
        """Per-sample cross-attention weights, for inspection and plotting.

        Parameters
        ----------
        X : DataFrame
            Rows to explain (same columns as in ``fit``).

        Returns
        -------
        attention : Bunch
            - ``weights``: dict mapping each direction ``"<query>-><keys>"``
              (e.g. ``"genes->slide"``: the genes tokens attending to the
              slide tokens; with more modalities the keys are the other
              modalities joined by ``"+"``, their tokens concatenated in that
              order) to a list with one array per layer, of shape
              (n_samples, n_heads, n_query_tokens, n_key_tokens). Rows sum
              to at most 1: the rest goes to a learned null key. Keys of a
              missing modality get weight 0.
            - ``grid_shape``: dict mapping each image modality to the (h, w)
              grid of its tokens; image token ``k`` is at row ``k // w``,
              column ``k % w`` of the feature map (reshape the key axis to
              (h, w) and upsample to the image for a Grad-CAM-like map).
            - ``query_tokens``: dict mapping each modality to the labels of its
              query tokens (``"cls"`` first with ``pooling="cls"``).
            - ``key_tokens``: dict mapping each direction to the labels of its key
              tokens.
        """
        check_is_fitted(self, "net_")
        bags = [name for name, m in self.modalities_.items() if isinstance(m, ImageBagModality)]
        if bags:
            raise ValueError(
                f"attention_weights does not cover bags of images (modality {bags[0]!r}: "
                "a number of tokens that differs from row to row); the weight of each "
                "instance in its bag is given by skmultimodal.inspection.bag_attention."
            )
        dataset = self.make_dataset(X)
        module = self.net_.module_
        loader = DataLoader(dataset, batch_size=int(self.batch_size), shuffle=False,
                            num_workers=resolve_num_workers(self.num_workers, self.device_),
                            generator=torch.Generator())  # leaves torch's global RNG alone
        collected, grids = None, {}
        with eval_mode(module), torch.no_grad():
            for xb, _ in loader:
                _, weights, grids = module.forward_attention(**to_device(xb, self.device_))
                if collected is None:
                    collected = {d: [[] for _ in ws] for d, ws in weights.items()}
                for d, ws in weights.items():
                    for layer, w in enumerate(ws):
                        collected[d][layer].append(w.float().cpu().numpy())
        directions = module.directions()
        if collected is None:  # no rows
            collected = {d: [[] for _ in module.layers] for d in directions}
        out = {d: [np.concatenate(ws) if ws else np.zeros((0,)) for ws in layers]
               for d, layers in collected.items()}
        tokens = {}
        for name in module.names:
            grid = grids.get(name)
            if grid is not None:
                labels = [f"{name}[{r},{c}]" for r in range(grid[0]) for c in range(grid[1])]
            else:
                labels = [f"{name}:{t}" for t in range(module.n_tokens)]
            tokens[name] = labels
        keys = {d: [lab for o in others for lab in tokens[o]]
                for d, (_, others) in directions.items()}
        if module.pooling == "cls":
            tokens = {name: ["cls"] + labels for name, labels in tokens.items()}
        grid_shape = {name: tuple(g) for name, g in grids.items() if g is not None}
        return Bunch(weights=out, grid_shape=grid_shape, query_tokens=tokens, key_tokens=keys)
