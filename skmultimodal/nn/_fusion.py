"""Fusion networks: several modality encoders joined into one classifier.

Torch modules only; they know nothing of scikit-learn. A network is described
by a list of modality specifications (plain dicts, so that skorch can store
and pickle them):

- ``{"name": "us", "kind": "image", "backbone": "resnet18", "attention": "eca",
  "weights": None, "in_channels": 3, "freeze_backbone": False,
  "backbone_params": {}}`` (:meth:`ImageModality.encoder_spec
  <skmultimodal.modalities.ImageModality.encoder_spec>` plus the name)
- ``{"name": "clinical", "kind": "tabular", "in_features": 12,
  "hidden_layer_sizes": (64,), "dropout": 0.1, "batch_norm": True,
  "activation": "relu"}``

``forward`` takes one keyword argument per modality (the batch tensor) and,
optionally, ``<name>_present``: a bool tensor of shape (N,) telling which rows
hold that modality (absent means all rows do), as yielded by
:class:`skmultimodal.data.MultimodalDataset` with ``with_presence=True``.
"""

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from ._bags import BagPooling, encode_instances, full_mask
from ._checks import check_positive_int, check_rate
from ._mlp import MLP
from ._registry import build_backbone, train_keeping_frozen

__all__ = [
    "CrossAttentionBlock",
    "CrossAttentionFusionNet",
    "FUSIONS",
    "IntermediateFusionNet",
    "ModalityEncoder",
    "POOLINGS",
    "PROJECTIONS",
]

#: Fusion operators of :class:`IntermediateFusionNet`.
FUSIONS = ("concat", "gated", "kronecker", "bilinear")
#: Projections of the modality embeddings of :class:`IntermediateFusionNet`.
PROJECTIONS = ("layernorm", "relu")
#: Pooling options of :class:`CrossAttentionFusionNet`.
POOLINGS = ("mean", "cls")
#: Largest number of modalities a Kronecker fusion accepts.
MAX_KRONECKER_MODALITIES = 3

_KINDS = ("image", "image_bag", "tabular")
#: Kinds whose encoder is an image backbone.
IMAGE_KINDS = ("image", "image_bag")


def _check_specs(modalities):
    if not isinstance(modalities, (list, tuple)) or not modalities:
        raise ValueError("modalities must be a non-empty list of modality specifications.")
    names = []
    for spec in modalities:
        if not isinstance(spec, dict) or spec.get("kind") not in _KINDS or "name" not in spec:
            raise ValueError(
                f"Bad modality specification {spec!r}: a dict with 'name' and 'kind' "
                f"in {list(_KINDS)} is expected."
            )
        names.append(spec["name"])
    if len(set(names)) != len(names):
        raise ValueError(f"Modality names are not unique: {names}")
    return names


class ModalityEncoder(nn.Module):
    """Encoder of one modality: an image backbone, a bag encoder or a tabular MLP.

    A bag encoder (``kind="image_bag"``) runs the image backbone on every
    real instance of a padded batch of bags ``(N, K, C, H, W)`` (``mask``
    ``(N, K)`` tells the real ones) and pools the instance embeddings with
    its ``pooling`` (:class:`~skmultimodal.nn.BagPooling`: gated attention,
    attention, mean or max).

    Parameters
    ----------
    spec : dict
        Modality specification (see the module documentation).

    Attributes
    ----------
    kind : {"image", "image_bag", "tabular"}
    net : torch.nn.Module
        The backbone (``get_backbone``) or the :class:`~skmultimodal.nn.MLP`.
    pool : BagPooling or None
        The pooling of a bag encoder.
    num_features : int
        Width of the pooled embedding.
    precomputed : {None, "pooled", "features"}
        None: the input is the image. Otherwise (set by
        :meth:`use_precomputed` on a frozen image encoder) the input is the
        backbone's output computed beforehand, and ``net`` is skipped:
        ``"pooled"`` takes pooled embeddings ``(N, num_features)``,
        ``"features"`` spatial feature maps ``(N, num_features, h, w)``; for a
        bag encoder, ``"pooled"`` takes instance embeddings
        ``(N, K, num_features)``.
    """

    precomputed = None  # also the value of modules pickled before it existed

    def __init__(self, spec):
        super().__init__()
        self.kind = spec["kind"]
        self.frozen = bool(spec.get("freeze_backbone", False))
        self.pool = None
        if self.kind in IMAGE_KINDS:
            self.net = build_backbone(spec)
            if self.kind == "image_bag":
                self.pool = BagPooling(self.net.num_features,
                                       spec.get("pooling", "gated_attention"),
                                       spec.get("attention_dim", 128))
        else:
            self.net = MLP(
                spec["in_features"],
                hidden_layer_sizes=spec.get("hidden_layer_sizes", (64,)),
                dropout=spec.get("dropout", 0.0),
                batch_norm=spec.get("batch_norm", True),
                activation=spec.get("activation", "relu"),
            )
        self.num_features = self.net.num_features
        self.precomputed = None

    def use_precomputed(self, output):
        """Take precomputed backbone outputs as input from now on.

        Parameters
        ----------
        output : {"pooled", "features", None}
            What the inputs are (see ``precomputed``); None goes back to
            images.

        Returns
        -------
        self : ModalityEncoder
        """
        if output is not None:
            if self.kind not in IMAGE_KINDS or not self.frozen:
                raise ValueError(
                    "Only frozen image encoders can take precomputed features."
                )
            if output not in ("pooled", "features"):
                raise ValueError(
                    f"output={output!r} must be 'pooled', 'features' or None."
                )
            if self.kind == "image_bag" and output != "pooled":
                raise ValueError("A bag encoder takes precomputed instance embeddings "
                                 "('pooled') only.")
        self.precomputed = output
        return self

    def train(self, mode=True):
        """Set the training mode; a frozen encoder stays in evaluation mode."""
        return train_keeping_frozen(self, mode, self.net if self.frozen else None)

    def instance_embeddings(self, x, mask=None):
        """Instance embeddings ``(N, K, num_features)`` of a bag encoder (zeros where padded)."""
        if self.kind != "image_bag":
            raise RuntimeError(f"A {self.kind} encoder has no instances.")
        if self.precomputed == "pooled":
            return x
        return encode_instances(self.net, x, full_mask(x) if mask is None else mask)

    def forward_bag(self, x, mask=None):
        """Bag embeddings ``(N, D)``, instance weights ``(N, K)`` and instance embeddings."""
        mask = full_mask(x) if mask is None else mask
        h = self.instance_embeddings(x, mask)
        pooled, weights = self.pool(h, mask)
        return pooled, weights, h

    def forward(self, x, mask=None):
        """Pooled embedding ``(N, num_features)`` (``mask``: real instances of bags)."""
        if self.kind == "image_bag":
            return self.forward_bag(x, mask)[0]
        if self.precomputed == "pooled":
            return x
        if self.precomputed == "features":
            # the backbones' global average pooling (their dropout is off: frozen)
            return F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.net(x)

    def forward_features(self, x):
        """Spatial feature map ``(N, num_features, h, w)`` (image encoders only)."""
        if self.kind != "image":
            raise RuntimeError(f"A {self.kind} encoder has no spatial feature map.")
        if self.precomputed == "features":
            return x
        if self.precomputed == "pooled":
            raise RuntimeError(
                "This encoder takes precomputed pooled embeddings, which have no "
                "spatial feature map."
            )
        return self.net.forward_features(x)


class _FusionNetBase(nn.Module):
    """Encoders, presence handling and modality dropout shared by the fusion nets."""

    def __init__(self, modalities, modality_dropout):
        super().__init__()
        self.names = _check_specs(modalities)
        check_rate(modality_dropout, "modality_dropout")
        self.modality_dropout = float(modality_dropout)
        self.encoders = nn.ModuleDict(
            {spec["name"]: ModalityEncoder(spec) for spec in modalities}
        )

    def image_backbone(self, name):
        """The backbone of the image modality ``name``."""
        encoder = self.encoders[name]
        if encoder.kind not in IMAGE_KINDS:
            raise KeyError(f"Modality {name!r} is {encoder.kind}, not an image.")
        return encoder.net

    def _presence(self, inputs):
        """Presence after modality dropout, and the rows it hid a modality of.

        Returns
        -------
        present : bool tensor of shape (N, n_modalities)
        dropped : bool tensor of shape (N,) or None
            True where modality dropout hid a present modality of the row;
            None when modality dropout is off (outside training).
        """
        first = inputs[self.names[0]]
        n, device = first.shape[0], first.device
        cols = []
        for name in self.names:
            flag = inputs.get(f"{name}_present")
            if flag is None and inputs.get(f"{name}_mask") is not None:
                flag = inputs[f"{name}_mask"].any(dim=1)  # a bag with no instance
            if flag is None:
                flag = torch.ones(n, dtype=torch.bool, device=device)
            cols.append(flag.reshape(n).to(device=device, dtype=torch.bool))
        present = torch.stack(cols, dim=1)
        dropped = None
        if self.training and self.modality_dropout > 0 and len(self.names) > 1:
            drop = (torch.rand(present.shape, device=device) < self.modality_dropout) & present
            # Never drop every modality of a row: such rows keep all they have.
            drop[~(present & ~drop).any(dim=1)] = False
            present = present & ~drop
            dropped = drop.any(dim=1)
        return present, dropped

    @staticmethod
    def _branch_gradient_off(x, dropped):
        """``x`` (N, ...) with its gradient stopped in the ``dropped`` rows.

        On a row where modality dropout hid a modality, the label may depend
        on the hidden modality (an interaction), so fitting it from the
        others alone can only be done by memorising them. Such rows train
        the missing embeddings, the fusion and the head, but not the branches
        (encoder and projection or tokenizer) of the modalities left.
        """
        if dropped is None:
            return x
        return torch.where(dropped.view(-1, *([1] * (x.dim() - 1))), x.detach(), x)


class IntermediateFusionNet(_FusionNetBase):
    """Intermediate fusion: per-modality embeddings joined before a common head.

    Each modality is encoded (image: pooled backbone features; tabular: MLP),
    projected to ``embed_dim`` (Linear, then LayerNorm or ReLU, then dropout),
    replaced by a learned missing embedding in the rows where the modality is
    absent, then fused:

    - ``"concat"``: the embeddings are concatenated;
    - ``"gated"``: PathomicFusion-style gating (Chen et al., 2020), simplified:
      each embedding ``z_m`` is transformed, ``h_m = ReLU(W_m z_m)``, and
      scaled by a gate computed from all modalities,
      ``g_m = sigmoid(V_m [z_1, ..., z_M])``; the gated ``g_m * h_m`` are
      concatenated;
    - ``"kronecker"``: each embedding is reduced to ``kronecker_dim`` units,
      a constant 1 is appended, and the outer product of the (up to three)
      vectors is flattened, so the fused vector holds the unimodal terms and
      all their pairwise (and triple) products;
    - ``"bilinear"``: the concatenated embeddings, followed by, for every pair
      of modalities, the element-wise product of two linear (signed)
      projections of their embeddings, ``(U_a z_a) * (V_b z_b)``: low-rank
      bilinear pooling (Kim et al., 2017) next to the unimodal terms. Each
      product is a first-order feature of an interaction, so the network
      learns labels that depend on the product of two modalities' evidence
      instead of memorising them.

    The fused vector goes through an MLP head (``head_hidden_sizes``, no
    batch normalisation) and a linear layer to the logits.

    Parameters
    ----------
    n_classes : int
    modalities : list of dict
        Modality specifications (see the module documentation).
    embed_dim : int, default=128
    fusion : {"concat", "gated", "kronecker", "bilinear"}, default="concat"
    kronecker_dim : int, default=16
    head_hidden_sizes : tuple of int, default=(128,)
    dropout : float, default=0.1
    modality_dropout : float, default=0.1
        In training, probability of treating a present modality as missing
        (never all modalities of a row). Such rows train the missing
        embeddings, the fusion and the head, not the branches of the
        modalities left.
    projection : {"layernorm", "relu"}, default="relu"
        What follows the linear projection of each embedding: a LayerNorm
        (signed embeddings of a common scale, whatever the encoder) or a
        ReLU.

    Examples
    --------
    >>> import torch
    >>> net = IntermediateFusionNet(2, [
    ...     {"name": "img", "kind": "image", "backbone": "simple_cnn", "in_channels": 1},
    ...     {"name": "tab", "kind": "tabular", "in_features": 5}], embed_dim=8)
    >>> net(img=torch.randn(3, 1, 16, 16), tab=torch.randn(3, 5),
    ...     tab_present=torch.tensor([True, False, True])).shape
    torch.Size([3, 2])
    """

    #: Output of a frozen image encoder the network uses (what can be precomputed).
    encoder_output = "pooled"

    def __init__(self, n_classes, modalities, embed_dim=128, fusion="concat",
                 kronecker_dim=16, head_hidden_sizes=(128,), dropout=0.1,
                 modality_dropout=0.1, projection="relu"):
        super().__init__(modalities, modality_dropout)
        check_positive_int(n_classes, "n_classes")
        check_positive_int(embed_dim, "embed_dim")
        check_positive_int(kronecker_dim, "kronecker_dim")
        check_rate(dropout, "dropout")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion={fusion!r} is not supported; choose one of {list(FUSIONS)}.")
        n_mod = len(self.names)
        if fusion == "kronecker" and n_mod > MAX_KRONECKER_MODALITIES:
            raise ValueError(
                f"fusion='kronecker' takes at most {MAX_KRONECKER_MODALITIES} modalities, "
                f"got {n_mod}; use 'concat' or 'gated'."
            )
        self.fusion = fusion
        if projection not in PROJECTIONS:
            raise ValueError(f"projection={projection!r} is not supported; choose one of "
                             f"{list(PROJECTIONS)}.")
        self.projections = nn.ModuleDict({
            name: nn.Sequential(
                nn.Linear(enc.num_features, embed_dim),
                nn.LayerNorm(embed_dim) if projection == "layernorm" else nn.ReLU(),
                nn.Dropout(dropout))
            for name, enc in self.encoders.items()
        })
        self.missing = nn.ParameterDict(
            {name: nn.Parameter(torch.zeros(embed_dim)) for name in self.names}
        )
        if fusion == "gated":
            self.transforms = nn.ModuleDict(
                {name: nn.Linear(embed_dim, embed_dim) for name in self.names}
            )
            self.gates = nn.ModuleDict(
                {name: nn.Linear(n_mod * embed_dim, embed_dim) for name in self.names}
            )
            fused = n_mod * embed_dim
        elif fusion == "kronecker":
            self.reducers = nn.ModuleDict({
                name: nn.Sequential(nn.Linear(embed_dim, kronecker_dim), nn.ReLU())
                for name in self.names
            })
            fused = (kronecker_dim + 1) ** n_mod
        elif fusion == "bilinear":
            self.pairs = [(a, b) for i, a in enumerate(self.names) for b in self.names[i + 1:]]
            self.factors = nn.ModuleDict({
                f"{a}|{b}|{side}": nn.Linear(embed_dim, embed_dim)
                for a, b in self.pairs for side in (a, b)
            })
            fused = (n_mod + len(self.pairs)) * embed_dim
        else:
            fused = n_mod * embed_dim
        self.fusion_dropout = nn.Dropout(dropout)
        self.head = MLP(fused, hidden_layer_sizes=head_hidden_sizes, dropout=dropout,
                        batch_norm=False)
        self.classifier = nn.Linear(self.head.num_features, n_classes)

    def embed(self, **inputs):
        """Per-modality embeddings after the missing-modality replacement.

        Returns
        -------
        dict of str to torch.Tensor of shape (N, embed_dim)
        """
        present, dropped = self._presence(inputs)
        out = {}
        for i, name in enumerate(self.names):
            z = self._branch_gradient_off(self.projections[name](
                self.encoders[name](inputs[name], inputs.get(f"{name}_mask"))), dropped)
            out[name] = torch.where(present[:, i, None], z, self.missing[name].to(z.dtype))
        return out

    def instance_weights(self, **inputs):
        """Pooling weights ``(N, K)`` of the instances of each bag modality."""
        return {name: enc.forward_bag(inputs[name], inputs.get(f"{name}_mask"))[1]
                for name, enc in self.encoders.items() if enc.kind == "image_bag"}

    def fuse(self, embeddings):
        """Fused vector of the per-modality embeddings."""
        zs = [embeddings[name] for name in self.names]
        if self.fusion == "gated":
            joint = torch.cat(zs, dim=1)
            fused = torch.cat([
                torch.sigmoid(self.gates[name](joint)) * F.relu(self.transforms[name](z))
                for name, z in zip(self.names, zs)
            ], dim=1)
        elif self.fusion == "kronecker":
            fused = None
            for name, z in zip(self.names, zs):
                r = self.reducers[name](z)
                r = torch.cat([r, torch.ones_like(r[:, :1])], dim=1)
                fused = r if fused is None else torch.einsum("ni,nj->nij", fused, r).flatten(1)
        elif self.fusion == "bilinear":
            products = [self.factors[f"{a}|{b}|{a}"](embeddings[a])
                        * self.factors[f"{a}|{b}|{b}"](embeddings[b]) for a, b in self.pairs]
            fused = torch.cat(zs + products, dim=1)
        else:
            fused = torch.cat(zs, dim=1)
        return self.fusion_dropout(fused)

    def forward(self, **inputs):
        """Return the class logits of a batch, given as one tensor per modality."""
        return self.classifier(self.head(self.fuse(self.embed(**inputs))))


class CrossAttentionBlock(nn.Module):
    """Tokens of one modality attending to the tokens of the others.

    Multi-head cross-attention (post-norm residual), then a feed-forward
    layer (post-norm residual). A learned "null" key is always added, so a
    row whose other modalities are all missing (masked) still has something
    to attend to.

    Parameters
    ----------
    embed_dim, n_heads : int
    dropout : float
    ff_mult : int, default=2
        Width of the feed-forward layer in multiples of ``embed_dim``.
    """

    def __init__(self, embed_dim, n_heads, dropout, ff_mult=2):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, n_heads, dropout=dropout,
                                          batch_first=True)
        self.null_key = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.ff = nn.Sequential(nn.Linear(embed_dim, ff_mult * embed_dim), nn.GELU(),
                                nn.Dropout(dropout), nn.Linear(ff_mult * embed_dim, embed_dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, keys, key_padding_mask, need_weights=False):
        """Return the updated query tokens and, if asked, the attention weights.

        Parameters
        ----------
        query : (N, Lq, E)
        keys : (N, Lk, E)
        key_padding_mask : bool (N, Lk), True for keys to ignore
        need_weights : bool

        Returns
        -------
        tokens : (N, Lq, E)
        weights : (N, n_heads, Lq, Lk) or None
            Attention to the given keys (the weight on the null key, the rest
            up to 1, is left out).
        """
        n = query.shape[0]
        keys = torch.cat([self.null_key.expand(n, -1, -1).to(keys.dtype), keys], dim=1)
        mask = torch.cat(
            [torch.zeros(n, 1, dtype=torch.bool, device=keys.device), key_padding_mask], dim=1
        )
        out, weights = self.attn(query, keys, keys, key_padding_mask=mask,
                                 need_weights=need_weights, average_attn_weights=False)
        x = self.norm1(query + self.dropout(out))
        x = self.norm2(x + self.dropout(self.ff(x)))
        return x, (weights[..., 1:] if need_weights else None)


class CrossAttentionFusionNet(_FusionNetBase):
    """Cross-attention fusion of image spatial tokens and tabular tokens.

    Tokens:

    - image modality: the backbone's last feature map ``(N, C, h, w)`` gives
      ``h * w`` tokens, each linearly projected to ``embed_dim``, plus a
      learned 2-D positional embedding stored on a ``pos_grid x pos_grid``
      grid and bilinearly interpolated to ``(h, w)`` (so any image size
      works);
    - tabular modality: the modality's MLP encoder output is projected by a
      linear layer into ``n_tokens`` tokens of ``embed_dim`` (plus a learned
      embedding per token).

    With ``pooling="cls"`` a learned CLS token is put first in each
    modality's tokens (as query only). In each of ``n_layers`` layers, every
    modality's tokens attend (:class:`CrossAttentionBlock`) to the
    concatenated tokens of all other modalities, all modalities being updated
    from the previous layer's tokens; the tokens of a missing modality are
    masked out as keys (``key_padding_mask``). Each modality's tokens are then
    pooled (mean, or the CLS token), replaced by a learned missing embedding
    where the modality is absent, concatenated, and classified by
    LayerNorm-Linear-GELU-Dropout-Linear. ``n_layers=0`` skips the
    cross-attention (ablation).

    Parameters
    ----------
    n_classes : int
    modalities : list of dict
        Modality specifications (see the module documentation).
    embed_dim : int, default=128
    n_heads : int, default=4
        Must divide ``embed_dim``.
    n_layers : int, default=2
    n_tokens : int, default=4
        Tokens per tabular modality.
    dropout : float, default=0.1
    pooling : {"mean", "cls"}, default="mean"
    modality_dropout : float, default=0.1
    pos_grid : int, default=7
        Side of the learned positional-embedding grid of image modalities.

    Examples
    --------
    >>> import torch
    >>> net = CrossAttentionFusionNet(2, [
    ...     {"name": "img", "kind": "image", "backbone": "simple_cnn", "in_channels": 1},
    ...     {"name": "tab", "kind": "tabular", "in_features": 5}], embed_dim=16,
    ...     n_heads=2)
    >>> net(img=torch.randn(3, 1, 16, 16), tab=torch.randn(3, 5)).shape
    torch.Size([3, 2])
    """

    #: Output of a frozen image encoder the network uses (what can be precomputed).
    encoder_output = "features"

    def __init__(self, n_classes, modalities, embed_dim=128, n_heads=4, n_layers=2,
                 n_tokens=4, dropout=0.1, pooling="mean", modality_dropout=0.1,
                 pos_grid=7):
        super().__init__(modalities, modality_dropout)
        check_positive_int(n_classes, "n_classes")
        check_positive_int(embed_dim, "embed_dim")
        check_positive_int(n_heads, "n_heads")
        check_positive_int(n_tokens, "n_tokens")
        check_positive_int(pos_grid, "pos_grid")
        if isinstance(n_layers, bool) or not isinstance(n_layers, Integral) or n_layers < 0:
            raise ValueError(f"n_layers must be a non-negative int, got {n_layers!r}")
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by n_heads={n_heads}.")
        check_rate(dropout, "dropout")
        if pooling not in POOLINGS:
            raise ValueError(
                f"pooling={pooling!r} is not supported; choose one of {list(POOLINGS)}.")
        self.embed_dim = embed_dim
        self.n_tokens = n_tokens
        self.pooling = pooling
        self.kinds = {spec["name"]: spec["kind"] for spec in modalities}
        self.tokenizers = nn.ModuleDict()
        self.positions = nn.ParameterDict()
        self.bag_pools = nn.ModuleDict()
        for spec in modalities:
            if spec["kind"] == "image_bag":
                self.bag_pools[spec["name"]] = BagPooling(
                    embed_dim, spec.get("pooling", "gated_attention"),
                    spec.get("attention_dim", 128))
        for name, enc in self.encoders.items():
            if self.kinds[name] == "image":
                self.tokenizers[name] = nn.Linear(enc.num_features, embed_dim)
                self.positions[name] = nn.Parameter(
                    0.02 * torch.randn(1, embed_dim, pos_grid, pos_grid))
            elif self.kinds[name] == "image_bag":
                # one token per instance, no position: a bag is a set
                self.tokenizers[name] = nn.Linear(enc.num_features, embed_dim)
            else:
                self.tokenizers[name] = nn.Linear(enc.num_features, n_tokens * embed_dim)
                self.positions[name] = nn.Parameter(0.02 * torch.randn(1, n_tokens, embed_dim))
        self.cls = nn.ParameterDict(
            {name: nn.Parameter(0.02 * torch.randn(1, 1, embed_dim)) for name in self.names}
            if pooling == "cls" else {}
        )
        self.input_dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.ModuleDict({name: CrossAttentionBlock(embed_dim, n_heads, dropout)
                           for name in self.names})
            for _ in range(n_layers)
        )
        self.missing = nn.ParameterDict(
            {name: nn.Parameter(torch.zeros(embed_dim)) for name in self.names}
        )
        n_mod = len(self.names)
        self.head = nn.Sequential(
            nn.LayerNorm(n_mod * embed_dim), nn.Linear(n_mod * embed_dim, embed_dim),
            nn.GELU(), nn.Dropout(dropout), nn.Linear(embed_dim, n_classes),
        )

    def directions(self):
        """``{direction: (query modality, [key modalities])}`` in layer order."""
        out = {}
        for name in self.names:
            others = [o for o in self.names if o != name]
            out[f"{name}->{'+'.join(others)}" if others else f"{name}->"] = (name, others)
        return out

    def tokens(self, name, x, mask=None):
        """Return the tokens ``(N, L, embed_dim)`` of one modality and its grid (h, w) or None.

        A bag gives one token per instance (``mask``: its real instances).
        """
        enc = self.encoders[name]
        if self.kinds[name] == "image_bag":
            tok = self.tokenizers[name](enc.instance_embeddings(x, mask))
            grid = None
        elif self.kinds[name] == "image":
            fmap = enc.forward_features(x)
            n, _, h, w = fmap.shape
            tok = self.tokenizers[name](fmap.flatten(2).transpose(1, 2))
            pos = F.interpolate(self.positions[name], size=(h, w), mode="bilinear",
                                align_corners=False)
            tok = tok + pos.flatten(2).transpose(1, 2).to(tok.dtype)
            grid = (h, w)
        else:
            tok = self.tokenizers[name](enc(x)).view(x.shape[0], self.n_tokens, self.embed_dim)
            tok = tok + self.positions[name].to(tok.dtype)
            grid = None
        return self.input_dropout(tok), grid

    def _forward(self, inputs, need_weights):
        present, dropped = self._presence(inputs)
        toks, grids = {}, {}
        bag_masks = {name: inputs.get(f"{name}_mask") for name in self.bag_pools}
        for name in self.names:
            toks[name], grids[name] = self.tokens(name, inputs[name], bag_masks.get(name))
            toks[name] = self._branch_gradient_off(toks[name], dropped)
        for name, mask in bag_masks.items():
            if mask is None:
                bag_masks[name] = full_mask(toks[name])
        n = present.shape[0]
        n_cls = 1 if self.pooling == "cls" else 0
        queries = {}
        for name in self.names:
            q = toks[name]
            if n_cls:
                q = torch.cat([self.cls[name].expand(n, -1, -1).to(q.dtype), q], dim=1)
            queries[name] = q
        masks = {
            name: (~present[:, i, None]).expand(-1, toks[name].shape[1])
            for i, name in enumerate(self.names)
        }
        for name, mask in bag_masks.items():
            masks[name] = masks[name] | ~mask  # padded instances are no keys
        directions = self.directions()
        weights = {d: [] for d in directions}
        bag_weights = {}
        for layer in self.layers:
            new = {}
            for direction, (name, others) in directions.items():
                if others:
                    keys = torch.cat([queries[o][:, n_cls:] for o in others], dim=1)
                    mask = torch.cat([masks[o] for o in others], dim=1)
                else:
                    keys = queries[name][:, :0]
                    mask = masks[name][:, :0]
                new[name], w = layer[name](queries[name], keys, mask, need_weights)
                if need_weights:
                    weights[direction].append(w)
            queries = new
        pooled = []
        for i, name in enumerate(self.names):
            q = queries[name]
            if name in self.bag_pools:  # the bag's own pooling over its instances
                p, bag_weights[name] = self.bag_pools[name](q[:, n_cls:], bag_masks[name])
            else:
                p = q[:, 0] if n_cls else q.mean(dim=1)
            pooled.append(torch.where(present[:, i, None], p, self.missing[name].to(p.dtype)))
        logits = self.head(torch.cat(pooled, dim=1))
        return logits, weights, grids, bag_weights

    def forward(self, **inputs):
        """Return the class logits of a batch, given as one tensor per modality."""
        return self._forward(inputs, need_weights=False)[0]

    def forward_attention(self, **inputs):
        """Logits, attention weights and image token grids.

        Returns
        -------
        logits : (N, n_classes)
        weights : dict of str to list of torch.Tensor
            Per direction (see :meth:`directions`), one tensor
            ``(N, n_heads, n_query_tokens, n_key_tokens)`` per layer.
        grids : dict of str to (h, w) or None
            Spatial token grid of each image modality (None for tabular).
        """
        return self._forward(inputs, need_weights=True)[:3]

    def instance_weights(self, **inputs):
        """Pooling weights ``(N, K)`` of the instances of each bag modality."""
        return self._forward(inputs, need_weights=False)[3]
