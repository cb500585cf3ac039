"""ContrastivePretrainer: an image encoder learnt from unlabelled images (SimCLR)."""

import copy
import time
from numbers import Integral
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..data import ImageSource, ImageTransform
from ..data._dataset import ImageCache
from ..data._transforms import check_image_size
from ..estimators._base import check_not_empty, lr_schedule_policy
from ..estimators._cache import encode_source
from ..estimators._image_input import roi_image_cells
from ..modalities import ImageModality
from ..nn._registry import build_backbone
from ..utils._constraints import (
    IMAGE,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_REAL,
    POSITIVE_INT,
    POSITIVE_REAL,
    TRAINING,
    pick,
)
from ..utils._docstrings import LR_SCHEDULE_PER_EPOCH, SHARED_PARAMS, Substitution
from ..utils._torch import loadable_device, resolve_device, resolve_seed, torch_seed
from ._views import VIEW_PRESETS, contrastive_views

__all__ = ["ContrastivePretrainer", "nt_xent_loss"]


def nt_xent_loss(z1, z2, temperature=0.2):
    """Compute the NT-Xent loss of SimCLR between two views of a batch.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are the two views of one
    image (a positive pair); the other ``2N - 2`` rows of the batch are its
    negatives. With ``z`` the ``2N`` rows L2-normalised and
    ``s(a, b) = z_a . z_b / temperature``, the loss of row ``a`` with
    positive ``p`` is ``-log(exp(s(a, p)) / sum_{b != a} exp(s(a, b)))``;
    the result is its mean over the ``2N`` rows.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (N, D)
        Projections of the first and second views, N >= 2.
    temperature : float, default=0.2
        Softmax temperature, > 0.

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> z = torch.eye(2)
    >>> round(float(nt_xent_loss(z, z, temperature=1.0)), 4)
    0.5514
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must both be (N, D); got {tuple(z1.shape)} and "
                         f"{tuple(z2.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; got {temperature!r}")
    n = z1.shape[0]
    if n < 2:
        raise ValueError("NT-Xent needs at least 2 images per batch (the other images "
                         f"are the negatives); got {n}")
    z = torch.cat([z1, z2])
    if z.dtype in (torch.float16, torch.bfloat16):  # the similarities in float32
        z = z.float()
    z = F.normalize(z, dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


def _read_only(array):
    array.flags.writeable = False
    return array


class _ContrastiveNet(nn.Module):
    """Backbone and projection head (linear, batch norm, ReLU, linear)."""

    def __init__(self, backbone, projection_dim):
        super().__init__()
        self.backbone = backbone
        width = backbone.num_features
        self.projector = nn.Sequential(
            nn.Linear(width, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
            nn.Linear(width, projection_dim),
        )

    def forward(self, x):
        return self.projector(self.backbone(x))


class _TwoViews(Dataset):
    """Two random views of every image: ``(view_1, view_2)`` per row."""

    def __init__(self, images, finish):
        self.images = images  # a prepared (n, C, H, W) tensor, or an ImageSource
        self.finish = finish

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i]
        return self.finish(image), self.finish(image)


class _Batches(torch.utils.data.Sampler):
    """Shuffled batches of ``batch_size`` rows; a last batch of one row joins the one
    before (a batch compares its images with each other: one image has no negative)."""

    def __init__(self, n, batch_size, generator):
        self.n, self.batch_size, self.generator = n, batch_size, generator

    def _bounds(self):
        starts = list(range(0, self.n, self.batch_size))
        if self.n - starts[-1] < 2:
            starts.pop()
        return list(zip(starts, starts[1:] + [self.n]))

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        order = torch.randperm(self.n, generator=self.generator).tolist()
        for start, stop in self._bounds():
            yield order[start:stop]


@Substitution(**dict(SHARED_PARAMS, lr_schedule=LR_SCHEDULE_PER_EPOCH))
class ContrastivePretrainer(TransformerMixin, BaseEstimator):
    """Self-supervised pretraining of an image encoder (SimCLR, NT-Xent loss).

    Learns an image encoder from unlabelled images, without downloading
    anything: each image is drawn twice through random augmentations (the
    two views), the encoder and a projection head map every view to a
    vector, and the NT-Xent loss pulls the two views of an image together
    and pushes them away from the other images of the batch (Chen et al.,
    2020). The projection head is discarded; the encoder is handed to any
    image modality or image estimator as ``weights=pretrainer`` (or as the
    file written by :meth:`save`), where it is fine-tuned on the labelled
    images. ``transform`` gives the encoder's pooled embeddings, so that the
    pretrainer is also a transformer for a ``Pipeline``.

    The encoder is built from the same :class:`~skmultimodal.ImageModality`
    specification as the estimators' (``backbone``, ``attention``,
    ``channels``, ``backbone_params``; a ResNet on images of at most 64 px
    gets the small-image stem), so its weights load exactly into a
    modality with the same settings; use the same ``image_size``,
    ``channels`` and ``normalize`` there. With ``roi``, it learns from the
    lesions and their rim, cropped as a modality given the same ``roi``
    crops them.

    Parameters
    ----------
    column : str, default=None
        Image column when X is a DataFrame (cells hold file paths or arrays).
        None uses the only column of a one-column DataFrame.
    backbone : {"simple_cnn", "resnet18", "resnet50"}, default="resnet18"
    attention : {None, "eca", "cbam"}, default=None
    image_size : int or (int, int), default=224
        Images are resized to this size; the views are crops resized back to it.
    channels : {1, 3}, default=3
        Channels fed to the encoder (greyscale is repeated for 3).
    normalize : "imagenet", None or (mean, std), default="imagenet"
    %(intensity_range)s
    backbone_params : dict, default=None
        Further keyword arguments of the backbone, e.g.
        ``{"channels": (16, 32, 64)}`` for a smaller SimpleCNN, or
        ``{"stem": "imagenet"}`` for a ResNet.
    %(roi)s
    %(roi_margin)s
    projection_dim : int, default=128
        Output width of the projection head (linear, batch norm, ReLU,
        linear; its hidden width is the encoder's).
    temperature : float, default=0.2
        Temperature of the NT-Xent loss.
    max_epochs : int, default=100
        Passes over the images. Contrastive learning needs many more epochs
        than supervised fine-tuning.
    batch_size : int, default=64
        Images per batch (each gives two views): the other images of a batch
        are the negatives, so larger batches help. At least 2, and at most
        the number of images. A last batch of a single image joins the
        batch before it.
    lr : float, default=1e-3
        Peak learning rate of AdamW (reached after the warm-up of
        ``lr_schedule``).
    weight_decay : float, default=1e-4
        AdamW's decoupled weight decay.
    %(lr_schedule)s
        Default: "warmup_cosine".
    augment : {"ultrasound", "generic"} or callable, default="ultrasound"
        How each view is drawn; see
        :func:`~skmultimodal.pretraining.contrastive_views` for the table of
        the presets (random resized crop, flip, brightness and contrast
        jitter, blur, speckle noise). A callable takes the float (C, H, W)
        tensor in [0, 1] at ``image_size``, before normalisation, and
        returns a tensor of the same shape.
    cache_images : bool, default=False
        Keep every image in memory after its first read (decoded and
        resized), so that later epochs do not decode the files again.
        In-memory arrays are always prepared once.
    num_workers : int, default=0
        DataLoader worker processes drawing the views.
    device : str, default="auto"
        "auto" picks CUDA when available, else the CPU.
    random_state : int, RandomState or None, default=None
        Seeds the initialisation, the shuffling and the views: the same
        seed on the same device gives the same encoder.
    verbose : int, default=0
        Show a progress bar over the epochs, with the loss, when > 0.

    Attributes
    ----------
    encoder_state_ : dict of str to ndarray
        The trained encoder's state dict, as read-only numpy arrays (so that
        the fitted pretrainer pickles and saves with
        :func:`skmultimodal.io.dump` without torch objects, and its clones
        share them). :meth:`pretrained_state_dict` gives it as new torch
        tensors.
    history_ : list of dict
        One entry per epoch: ``epoch``, ``loss`` (mean NT-Xent loss of its
        batches), ``lr`` (at its end) and ``dur`` (seconds).
    loss_curve_ : list of float
        The loss of each epoch.
    n_iter_ : int
        Epochs run.
    modality_ : ImageModality
        How images are read and prepared, and the encoder's specification.
    n_features_out_ : int
        Embedding width of :meth:`transform`.
    device_ : str
        Device used for training.
    n_features_in_ : int
        Only for 2-D numeric X (rows read as 1-pixel-high images).

    See Also
    --------
    skmultimodal.ImageEmbedder : Embeddings of a backbone that is not trained.

    Notes
    -----
    **Hand-over.** Any ``weights=`` parameter of the library (image
    modalities, image classifiers, embedders, fusion models) accepts a
    fitted pretrainer; its encoder weights are loaded when that estimator is
    fitted. An unfitted pretrainer there is an error.

    **Cloning.** :func:`sklearn.base.clone` (used by ``cross_validate`` and
    ``GridSearchCV``) clones the parameters of an estimator, and a cloned
    estimator is unfitted. A pretrainer passed as ``weights=`` would lose
    its encoder, so a *fitted* pretrainer clones to a fitted copy (as
    scikit-learn's ``FrozenEstimator`` clones to itself): ``weights=pretrainer``
    survives ``clone``, ``cross_validate`` and searches. An unfitted one
    clones as usual. Fitting the copy again replaces its encoder, as
    fitting any estimator does.

    **Labels.** ``fit`` never reads ``y``; pretraining on the images of a
    test set is therefore not label leakage, but it is still information
    from those images: pretrain on images outside the evaluation folds
    (another cohort, or unlabelled images) for an unbiased evaluation.

    References
    ----------
    T. Chen, S. Kornblith, M. Norouzi and G. Hinton, "A simple framework for
    contrastive learning of visual representations", ICML 2020.

    Examples
    --------
    >>> from skmultimodal import ImageModality
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.pretraining import ContrastivePretrainer
    >>> X, _ = make_multimodal_classification(40, image_size=16, random_state=0)
    >>> pre = ContrastivePretrainer("image", backbone="simple_cnn", image_size=16,
    ...                             max_epochs=2, batch_size=16, random_state=0)
    >>> pre.fit(X).transform(X).shape
    (40, 128)
    >>> modality = ImageModality("image", backbone="simple_cnn", image_size=16,
    ...                          weights=pre)
    """

    #: The values of pretrainers pickled before these parameters existed.
    lr_schedule = "warmup_cosine"
    roi = None
    roi_margin = 0.1

    _parameter_constraints = {
        **pick(IMAGE, ["column", "backbone", "attention", "channels", "normalize",
                       "intensity_range", "backbone_params", "roi", "roi_margin"]),
        "image_size": [POSITIVE_INT, tuple, list],
        "projection_dim": [POSITIVE_INT],
        "temperature": [POSITIVE_REAL],
        "max_epochs": [POSITIVE_INT],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [POSITIVE_REAL],
        "weight_decay": [NON_NEGATIVE_REAL],
        **pick(TRAINING, ["lr_schedule"]),
        "augment": [StrOptions(set(VIEW_PRESETS)), callable],
        "cache_images": ["boolean"],
        "num_workers": [NON_NEGATIVE_INT],
        **pick(TRAINING, ["device", "random_state", "verbose"]),
    }

    def __init__(self, column=None, *, backbone="resnet18", attention=None, image_size=224,
                 channels=3, normalize="imagenet", intensity_range="auto",
                 backbone_params=None, roi=None, roi_margin=0.1, projection_dim=128,
                 temperature=0.2, max_epochs=100,
                 batch_size=64, lr=1e-3, weight_decay=1e-4, lr_schedule="warmup_cosine",
                 augment="ultrasound", cache_images=False, num_workers=0, device="auto",
                 random_state=None, verbose=0):
        self.column = column
        self.backbone = backbone
        self.attention = attention
        self.image_size = image_size
        self.channels = channels
        self.normalize = normalize
        self.intensity_range = intensity_range
        self.backbone_params = backbone_params
        self.roi = roi
        self.roi_margin = roi_margin
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.augment = augment
        self.cache_images = cache_images
        self.num_workers = num_workers
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -----------------------------------------------------------
    def _modality(self):
        return ImageModality(
            self.column, backbone=self.backbone, attention=self.attention, weights=None,
            image_size=self.image_size, channels=self.channels, normalize=self.normalize,
            intensity_range=self.intensity_range, augment=False,
            backbone_params=self.backbone_params, roi=self.roi, roi_margin=self.roi_margin,
        ).check_params()

    def _check_rows(self, n):
        check_not_empty(n, "contrastive pretraining needs images")
        if n < 2:
            raise ValueError(
                "X has 1 row (1 sample); contrastive pretraining compares the images of "
                "a batch with each other and needs at least 2 images."
            )
        if self.batch_size > n:
            raise ValueError(
                f"batch_size={self.batch_size} is larger than the {n} images of X; the "
                "images of a batch are each other's negatives, so a batch cannot hold "
                f"more images than X has: use batch_size <= {n}."
            )

    def _images(self, cells, labels, size):
        """The images prepared (resized, in [0, 1], not normalised): a stacked tensor
        for in-memory arrays, else an ImageSource reading them (through a cache)."""
        prepare = ImageTransform(size, self.channels, None, None,
                                 intensity_range=self.intensity_range)
        source = ImageSource(cells, prepare, labels,
                             cache=ImageCache() if self.cache_images else None)
        stack = source.batch(np.arange(len(cells)))
        if stack is not None:
            source.clear_prepared()
            return stack
        if self.cache_images:
            for i in range(len(cells)):
                source[i]  # every file read (and checked) once, before training
        return source

    def fit(self, X, y=None):
        """Learn the encoder from the images of X, by contrasting two views of each.

        Parameters
        ----------
        X : DataFrame, Series, list or array of images
            A DataFrame with an image column (``column``), a sequence of
            file paths or image arrays, or an array of images (n, H, W) or
            (n, H, W, C).
        y : None
            Ignored: labels are never read (self-supervised learning).

        Returns
        -------
        self : ContrastivePretrainer
        """
        self._validate_params()
        modality = self._modality()
        size = check_image_size(self.image_size)
        views = contrastive_views(self.augment, size)
        cells, labels = roi_image_cells(self, X, modality, reset=True)
        self._check_rows(len(cells))
        device = resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        with torch_seed(seed, device):
            images = self._images(cells, labels, size)
            finish = ImageTransform(size, self.channels, self.normalize, views,
                                    intensity_range=self.intensity_range).finish
            net = _ContrastiveNet(build_backbone(modality.encoder_spec()),
                                  int(self.projection_dim)).to(device)
            history = self._train(net, _TwoViews(images, finish), seed, device)
        backbone = net.backbone.cpu().eval()
        self.encoder_state_ = {k: _read_only(v.detach().numpy().copy())
                               for k, v in backbone.state_dict().items()}
        self.history_ = history
        self.loss_curve_ = [h["loss"] for h in history]
        self.n_iter_ = len(history)
        self.modality_ = modality
        self.n_features_out_ = int(backbone.num_features)
        self.device_ = device
        return self

    def _train(self, net, dataset, seed, device):
        sampler = _Batches(len(dataset), int(self.batch_size),
                           torch.Generator().manual_seed(seed))
        loader = DataLoader(dataset, batch_sampler=sampler, num_workers=int(self.num_workers),
                            generator=torch.Generator().manual_seed(seed + 1),
                            pin_memory=str(device).startswith("cuda"))
        optimizer = torch.optim.AdamW(net.parameters(), lr=float(self.lr),
                                      weight_decay=float(self.weight_decay))
        total = int(self.max_epochs) * len(sampler)
        policy = lr_schedule_policy(self.lr_schedule, self.lr, total)
        schedule = None if policy is None else policy[0](optimizer, **policy[1])
        epochs = range(1, int(self.max_epochs) + 1)
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            epochs = bar = tqdm(epochs, desc="contrastive pretraining", unit="epoch")
        history = []
        net.train()
        for epoch in epochs:
            start, losses = time.perf_counter(), []
            for batch, (v1, v2) in enumerate(loader, 1):
                v1, v2 = v1.to(device, non_blocking=True), v2.to(device, non_blocking=True)
                z = net(torch.cat([v1, v2]))
                loss = nt_xent_loss(z[: len(v1)], z[len(v1):], float(self.temperature))
                if not bool(torch.isfinite(loss)):
                    raise FloatingPointError(
                        f"The contrastive loss became {float(loss.detach())} at epoch "
                        f"{epoch}, "
                        f"batch {batch}. Likely causes: a learning rate too high "
                        f"(lr={self.lr}), a temperature too low "
                        f"(temperature={self.temperature}), or images (or an augment "
                        "callable) giving values that are not finite. Training was "
                        "stopped."
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if schedule is not None:
                    schedule.step()
                losses.append(float(loss.detach()))
            history.append({"epoch": epoch, "loss": float(np.mean(losses)),
                            "lr": float(optimizer.param_groups[0]["lr"]),
                            "dur": time.perf_counter() - start})
            if bar is not None:
                bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
        if bar is not None:
            bar.close()
        return history

    # -- the fitted encoder ----------------------------------------------
    def __sklearn_is_fitted__(self):
        return hasattr(self, "encoder_state_")

    def _check_fitted(self, what):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet, so it has no encoder "
                f"{what}: fit it on unlabelled images first (pretrainer.fit(X))."
            )

    def pretrained_state_dict(self):
        """Return the trained encoder's state dict, as new torch tensors.

        What ``weights=pretrainer`` loads (see
        :func:`skmultimodal.nn.load_weights`) and :meth:`save` writes.

        Returns
        -------
        state_dict : dict of str to torch.Tensor

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the pretrainer is not fitted.
        """
        self._check_fitted("to hand over as weights= or to save")
        return {k: torch.from_numpy(np.array(v, copy=True))
                for k, v in self.encoder_state_.items()}

    def build_encoder(self):
        """Build the trained encoder, a torch module in evaluation mode on the CPU.

        Returns
        -------
        encoder : torch.nn.Module
            The backbone of :func:`skmultimodal.nn.get_backbone`, loaded with
            the trained weights; ``encoder(x)`` gives the pooled embeddings.
        """
        self._check_fitted("to build")
        spec = dict(self.modality_.encoder_spec(), weights=self.pretrained_state_dict())
        with torch.random.fork_rng(devices=[]):
            return build_backbone(spec).eval()

    def save(self, path):
        """Write the trained encoder's state dict to ``path`` with ``torch.save``.

        The file loads with ``weights=path`` into an image modality or image
        estimator with the same ``backbone``, ``attention``, ``channels`` and
        ``backbone_params`` (and the ResNet stem is read from it).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        path : pathlib.Path
        """
        state = self.pretrained_state_dict()
        path = Path(path)
        torch.save(state, path)
        return path

    def transform(self, X):
        """Embed each image with the trained encoder (pooled features).

        Parameters
        ----------
        X : DataFrame, Series, list or array of images
            As in :meth:`fit`.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        check_is_fitted(self)
        cells, labels = roi_image_cells(self, X, self.modality_, reset=False)
        check_not_empty(len(cells), "ContrastivePretrainer needs at least one image to embed")
        source = self.modality_.make_source(cells, labels, train=False)
        encoder = self.build_encoder().to(self.device_)
        embeddings, _ = encode_source(encoder, source, output="pooled",
                                      batch_size=max(int(self.batch_size), 64),
                                      num_workers=int(self.num_workers), verbose=self.verbose)
        return embeddings

    def get_feature_names_out(self, input_features=None):
        """Return the output feature names ``<backbone>_<i>``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "n_features_out_")
        return np.array([f"{self.modality_.backbone}_{i}"
                         for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_clone__(self):
        # A fitted pretrainer is weights that other estimators load: it clones
        # to a fitted copy, so that weights=pretrainer survives clone(). The
        # copies share the encoder's arrays, which are read-only.
        if self.__sklearn_is_fitted__():
            shared = {id(a): a for a in self.encoder_state_.values()
                      if isinstance(a, np.ndarray) and not a.flags.writeable}
            return copy.deepcopy(self, memo=shared)
        return super().__sklearn_clone__()

    def __setstate__(self, state):
        if "device_" in state:
            state["device_"] = loadable_device(state["device_"])
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

