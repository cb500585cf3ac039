"""Seeding: fits in threads of one process stay reproducible."""

import warnings

import numpy as np
from joblib import Parallel, delayed, parallel_config
from sklearn.base import clone

from skmultimodal import TabularMLPClassifier
from skmultimodal.utils import _torch


def _fit_proba(est, X, y):
    return clone(est).fit(X, y).predict_proba(X)


def test_fits_in_threads_match_sequential_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    estimators = [TabularMLPClassifier(hidden_layer_sizes=(16,), dropout=0.5, max_epochs=6,
                                       batch_size=16, random_state=seed, device="cpu")
                  for seed in range(4)]
    sequential = [_fit_proba(est, X, y) for est in estimators]
    _torch._warn_threads_once.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with parallel_config(backend="threading", n_jobs=4):
            threaded = Parallel()(delayed(_fit_proba)(est, X, y) for est in estimators)
    for seq, thr in zip(sequential, threaded):
        np.testing.assert_array_equal(thr, seq)
    # waiting threads are told once why fits do not run in parallel
    told = [w for w in caught if "thread" in str(w.message)]
    assert len(told) <= 1


def test_seeded_blocks_nest_in_one_thread():
    import torch

    with _torch.torch_seed(1):
        a = torch.rand(2)
        with _torch.torch_seed(2):
            torch.rand(2)
        b = torch.rand(2)
    with _torch.torch_seed(1):
        assert torch.equal(torch.rand(2), a)
        # the nested block left the outer sequence where it was
        assert torch.equal(torch.rand(2), b)


def test_fit_and_predict_leave_torch_global_generator_alone():
    """Prediction draws nothing from torch's global generator (a DataLoader
    without its own generator would), so it cannot disturb a fit running in
    another thread, nor the user's own seeded sequence."""
    import torch

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    est = TabularMLPClassifier(hidden_layer_sizes=(4,), max_epochs=1, random_state=0,
                               device="cpu")
    state = torch.random.get_rng_state().clone()
    est.fit(X, y).predict_proba(X)
    assert torch.equal(torch.random.get_rng_state(), state)
