"""cross_validate and GridSearchCV on a Dask cluster through joblib's dask backend.

A ``distributed.LocalCluster`` with worker processes stands in for a real
cluster: the estimators, the data and the fitted models travel between
processes exactly as they would between machines.
"""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality, TabularModality

distributed = pytest.importorskip(
    "distributed", reason="Dask tests need dask[distributed]: pip install 'skmultimodal[scale]'"
)


def _torch_one_thread():
    import torch

    torch.set_num_threads(1)
    return torch.get_num_threads()


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        worker_dashboard_address=None,
    )
    client = distributed.Client(cluster)
    # the workers train tiny networks: one torch thread each, as in the tests
    assert set(client.run(_torch_one_thread).values()) == {1}
    yield client
    client.close()
    cluster.close()


def _model(**kw):
    modalities = [
        ("img", ImageModality("image", backbone="simple_cnn", image_size=16, channels=1,
                              backbone_params={"channels": (8, 16)})),
        ("tab", TabularModality([f"tab_{i}" for i in range(10)], hidden_layer_sizes=(8,))),
    ]
    return IntermediateFusionClassifier(
        modalities, embed_dim=8, head_hidden_sizes=(8,), max_epochs=2, batch_size=32,
        lr=1e-2, device="cpu", random_state=0, **kw,
    )


@pytest.fixture(scope="module")
def data():
    X, y = make_multimodal_classification(60, image_size=16, n_patients=20, random_state=0)
    return X, y, X.pop("patient_id").to_numpy()


def test_cross_validate_on_dask(client, data):
    X, y, groups = data
    cv = StratifiedGroupKFold(n_splits=3)
    before = _task_count(client)
    with parallel_config(backend="dask"):
        result = cross_validate(_model(), X, y, groups=groups, cv=cv,
                                scoring=["accuracy", "roc_auc"], n_jobs=-1,
                                return_estimator=True, return_indices=True)
    # the fits ran as tasks on the cluster's workers (task state transitions)
    assert _task_count(client) - before >= 3
    # the fitted models come back from the workers and reproduce their scores
    for k, est in enumerate(result["estimator"]):
        test = result["indices"]["test"][k]
        assert est.score(X.iloc[test], y[test]) == pytest.approx(result["test_accuracy"][k])
        assert set(test).isdisjoint(result["indices"]["train"][k])
    assert np.all(np.isfinite(result["test_roc_auc"]))
    # a patient never sits on both sides of a split
    for train, test in zip(result["indices"]["train"], result["indices"]["test"]):
        assert set(groups[train]).isdisjoint(groups[test])
    # A worker thread waiting on nested joblib tasks (ColumnTransformer) lets
    # the worker start another fit in the same process; the fits run one after
    # the other, so each fold's model is the one fitted locally, bit for bit.
    for k, est in enumerate(result["estimator"]):
        train = result["indices"]["train"][k]
        local = _model().fit(X.iloc[train], y[train])
        np.testing.assert_array_equal(est.predict_proba(X), local.predict_proba(X))


def test_grid_search_on_dask(client, data):
    X, y, groups = data
    grid = {"fusion": ["concat", "gated"], "tab__hidden_layer_sizes": [(8,), (16,)]}
    search = GridSearchCV(_model(), grid, cv=StratifiedGroupKFold(n_splits=2),
                          scoring="roc_auc", n_jobs=-1)
    before = _task_count(client)
    with parallel_config(backend="dask"):
        search.fit(X, y, groups=groups)
    # 4 candidates x 2 folds ran as tasks on the cluster (task state transitions)
    assert _task_count(client) - before >= 8
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert best.get_params()["fusion"] == search.best_params_["fusion"]
    assert best.predict_proba(X).shape == (len(X), 2)


def _task_count(client):
    """Tasks the workers have finished so far."""
    counts = client.run(lambda dask_worker: dask_worker.state.transition_counter)
    return sum(counts.values())
