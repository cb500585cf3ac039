"""Survival losses against direct computations."""

import numpy as np
import torch

from skmultimodal.survival import CoxPHLoss, DiscreteTimeLoss


def _cox_by_hand(risk, time, event):
    """Negative partial log-likelihood, Breslow's ties, averaged over events."""
    total = 0.0
    for i in np.flatnonzero(event):
        at_risk = time >= time[i]
        total += risk[i] - np.log(np.exp(risk[at_risk]).sum())
    return -total / event.sum()


def test_cox_loss_matches_the_partial_likelihood_with_ties():
    rng = np.random.default_rng(0)
    risk = rng.normal(size=12)
    time = rng.integers(1, 5, 12).astype(float)  # many ties
    event = rng.random(12) < 0.6
    target = torch.tensor(np.column_stack([time, event]), dtype=torch.float32)
    loss = CoxPHLoss()(torch.tensor(risk, dtype=torch.float32)[:, None], target)
    np.testing.assert_allclose(loss.item(), _cox_by_hand(risk, time, event), rtol=1e-5)


def test_cox_loss_is_invariant_to_row_order_and_risk_shift():
    rng = np.random.default_rng(1)
    risk = torch.tensor(rng.normal(size=10), dtype=torch.float32)
    target = torch.tensor(np.column_stack([rng.exponential(size=10), rng.random(10) < 0.7]),
                          dtype=torch.float32)
    loss = CoxPHLoss()
    perm = torch.randperm(10)
    torch.testing.assert_close(loss(risk, target), loss(risk[perm], target[perm]))
    torch.testing.assert_close(loss(risk, target), loss(risk + 3.0, target))


def test_cox_loss_without_events_is_zero_with_a_gradient():
    risk = torch.randn(5, requires_grad=True)
    target = torch.tensor([[1.0, 0.0]] * 5)
    value = CoxPHLoss()(risk, target)
    value.backward()
    assert value.item() == 0.0 and risk.grad is not None


def _discrete_by_hand(logits, k, event):
    h = 1 / (1 + np.exp(-logits))
    out = []
    for row, (b, e) in enumerate(zip(k, event)):
        surv_before = np.prod(1 - h[row, :b])
        out.append(np.log(h[row, b] * surv_before) if e else np.log(surv_before * (1 - h[row, b])))
    return -np.mean(out)


def test_discrete_time_loss_matches_the_likelihood():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8, 4))
    k = rng.integers(0, 4, 8)
    event = rng.random(8) < 0.5
    target = torch.tensor(np.column_stack([k, event]), dtype=torch.float32)
    loss = DiscreteTimeLoss()(torch.tensor(logits, dtype=torch.float32), target)
    np.testing.assert_allclose(loss.item(), _discrete_by_hand(logits, k, event), rtol=1e-5)
