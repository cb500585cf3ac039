"""Multiple-instance learning: instance encoders pooled into one bag embedding."""

import torch
from torch import nn

from ._checks import check_positive_int

#: Pooling operators of a bag of instance embeddings.
BAG_POOLINGS = ("gated_attention", "attention", "mean", "max")


class AttentionPooling(nn.Module):
    """Attention-based MIL pooling (Ilse, Tomczak and Welling, 2018).

    The weight of instance ``k`` is a softmax over the bag's instances of
    ``w^T tanh(V h_k)`` (``gated=False``) or
    ``w^T (tanh(V h_k) * sigmoid(U h_k))`` (gated attention, ``gated=True``);
    the bag embedding is the weighted sum of the instance embeddings. Padded
    instances get weight 0; a bag with no instance gets a zero embedding and
    zero weights.

    Parameters
    ----------
    in_features : int
    hidden : int, default=128
    gated : bool, default=True
    """

    def __init__(self, in_features, hidden=128, gated=True):
        super().__init__()
        check_positive_int(in_features, "in_features")
        check_positive_int(hidden, "hidden")
        self.V = nn.Linear(in_features, hidden)
        self.U = nn.Linear(in_features, hidden) if gated else None
        self.w = nn.Linear(hidden, 1)

    def scores(self, h):
        """Unnormalised attention scores ``(N, K)`` of instance embeddings ``(N, K, D)``."""
        a = torch.tanh(self.V(h))
        if self.U is not None:
            a = a * torch.sigmoid(self.U(h))
        return self.w(a).squeeze(-1)

    def forward(self, h, mask):
        """Bag embeddings ``(N, D)`` and instance weights ``(N, K)``."""
        scores = self.scores(h).float().masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        weights = torch.nan_to_num(weights, nan=0.0)  # bags with no instance
        return torch.einsum("nk,nkd->nd", weights.to(h.dtype), h), weights


def pool_instances(h, mask, pooling, attention=None):
    """Pool instance embeddings ``(N, K, D)`` over the real instances of ``mask``.

    Returns
    -------
    pooled : (N, D)
    weights : (N, K)
        Attention weights (attention poolings), ``1/k`` (mean) or the share of
        the features for which each instance is the maximum (max).
    """
    m = mask.to(h.dtype).unsqueeze(-1)
    count = mask.sum(dim=1, keepdim=True)
    if pooling in ("attention", "gated_attention"):
        return attention(h, mask)
    if pooling == "mean":
        pooled = (h * m).sum(dim=1) / count.clamp(min=1).to(h.dtype)
        return pooled, mask.float() / count.clamp(min=1).float()
    filled = h.masked_fill(~mask.unsqueeze(-1), float("-inf"))
    pooled, arg = filled.max(dim=1)
    pooled = torch.where(count > 0, pooled, torch.zeros_like(pooled))
    share = torch.zeros(mask.shape, device=h.device)
    share.scatter_add_(1, arg, torch.ones_like(arg, dtype=share.dtype))
    share = share / h.shape[-1] * (count > 0).float()
    return pooled, share


class BagPooling(nn.Module):
    """One of :data:`BAG_POOLINGS` over ``(N, K, in_features)`` instance embeddings."""

    def __init__(self, in_features, pooling="gated_attention", attention_dim=128):
        super().__init__()
        if pooling not in BAG_POOLINGS:
            raise ValueError(
                f"pooling={pooling!r} is not supported; choose one of {list(BAG_POOLINGS)}.")
        self.pooling = pooling
        self.attention = (AttentionPooling(in_features, attention_dim,
                                           gated=pooling == "gated_attention")
                          if pooling in ("attention", "gated_attention") else None)

    def forward(self, h, mask):
        """Bag embeddings ``(N, in_features)`` and instance weights ``(N, K)``."""
        return pool_instances(h, mask, self.pooling, self.attention)


def full_mask(x):
    """A mask of real instances for unpadded bags ``(N, K, ...)``."""
    return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)


def encode_instances(net, x, mask):
    """Run ``net`` on the real instances of ``x`` ``(N, K, C, H, W)``.

    Returns ``(N, K, D)``, zeros at the padded positions.
    """
    n, k = x.shape[:2]
    if not bool(mask.any()):
        return x.new_zeros((n, k, net.num_features))
    flat = net(x[mask])
    out = flat.new_zeros((n, k, flat.shape[-1]))
    out[mask] = flat
    return out
