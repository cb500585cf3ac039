"""Survival losses: Cox partial likelihood and a discrete-time likelihood."""

import torch
from torch import nn


class CoxPHLoss(nn.Module):
    """Negative Cox partial log-likelihood of a batch (DeepSurv), Breslow's ties.

    ``forward(risk, target)``: ``risk`` of shape (N,) or (N, 1), the
    predicted log-hazard ratio; ``target`` (N, 2) holding the time and the
    event indicator (1 for an event, 0 for censoring). Each event compares
    its risk with the risk set of the rows still at risk at its time (tied
    times share one risk set). The loss is averaged over the events of the
    batch; a batch without an event gives 0 (and no gradient).
    """

    def forward(self, risk, target):
        """Loss of a batch."""
        risk = risk.reshape(-1).float()
        time, event = target[:, 0].float(), target[:, 1].float()
        order = torch.argsort(time, descending=True)
        risk, time, event = risk[order], time[order], event[order]
        log_risk_set = torch.logcumsumexp(risk, dim=0)
        # tied times: every row of a tie sees the whole tie in its risk set
        _, inverse, counts = torch.unique_consecutive(time, return_inverse=True,
                                                      return_counts=True)
        last = torch.cumsum(counts, dim=0) - 1
        log_risk_set = log_risk_set[last[inverse]]
        n_events = event.sum()
        return -((risk - log_risk_set) * event).sum() / n_events.clamp(min=1.0)


class DiscreteTimeLoss(nn.Module):
    """Negative log-likelihood of a discrete-time hazard model (as MCAT trains).

    ``forward(logits, target)``: ``logits`` (N, K), one hazard logit per
    time bin; ``target`` (N, 2) holding the bin index of the row's time and
    the event indicator. The hazard of bin k is ``sigmoid(logits[:, k])``;
    an event in bin k has likelihood ``h_k * prod_{j<k} (1 - h_j)``, a row
    censored in bin k ``prod_{j<=k} (1 - h_j)``. Averaged over the rows.
    """

    def forward(self, logits, target):
        """Loss of a batch."""
        logits = logits.float()
        k = target[:, 0].long().clamp(0, logits.shape[1] - 1)
        event = target[:, 1].float()
        log_h = nn.functional.logsigmoid(logits)
        log_s = nn.functional.logsigmoid(-logits)  # log(1 - h)
        cum = torch.cumsum(log_s, dim=1)
        before = torch.where(k > 0, cum.gather(1, (k - 1).clamp(min=0)[:, None])[:, 0],
                             torch.zeros_like(event))
        at = log_h.gather(1, k[:, None])[:, 0]
        through = cum.gather(1, k[:, None])[:, 0]
        loglik = event * (before + at) + (1 - event) * through
        return -loglik.mean()
