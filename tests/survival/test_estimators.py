"""Survival estimators: targets, predictions, survival functions and the contract."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv

from skmultimodal.datasets import make_multimodal_survival
from skmultimodal.modalities import ImageModality, TabularModality
from skmultimodal.survival import (
    CrossAttentionFusionSurvival,
    IntermediateFusionSurvival,
    TabularMLPSurvival,
)

TAB = ["tab_0", "tab_1", "tab_2", "tab_3"]


@pytest.fixture(scope="module")
def data():
    """Image + table, a known proportional hazard (true risk: Harrell's C 0.81)."""
    X, y = make_multimodal_survival(160, image_size=16, n_features=4, n_informative=2,
                                    random_state=0)
    X["patient_id"] = np.arange(len(X)) // 4
    return X, y


def _modalities():
    return [("img", ImageModality("image", backbone="simple_cnn", image_size=16, channels=1,
                                  backbone_params={"channels": (8, 16)})),
            ("tab", TabularModality(TAB, hidden_layer_sizes=(16,)))]


def _make(name, **params):
    kw = dict(max_epochs=8, lr=1e-2, batch_size=32, random_state=0, device="cpu")
    if name == "tabular":
        return TabularMLPSurvival(TAB, **dict(kw, hidden_layer_sizes=(16,), **params))
    if name == "intermediate":
        return IntermediateFusionSurvival(_modalities(), **dict(kw, embed_dim=16, **params))
    return CrossAttentionFusionSurvival(_modalities(), **dict(
        kw, embed_dim=16, n_heads=2, n_layers=1, n_tokens=2, **params))


NAMES = ["tabular", "intermediate", "cross"]


@pytest.mark.parametrize("loss", ["cox", "discrete_time"])
@pytest.mark.parametrize("name", NAMES)
def test_ranks_patients_and_gives_survival_functions(data, name, loss):
    X, y = data
    model = _make(name, loss=loss).fit(X, y)
    assert not is_classifier(model) and not hasattr(model, "predict_proba")
    assert not hasattr(model, "classes_")
    risk = model.predict(X)
    assert risk.shape == (len(X),) and np.isfinite(risk).all()
    # Harrell's C on the training rows (the table alone reads the hazard at
    # C 0.69, the image alone 0.67, both 0.79; measured 0.61 to 0.81)
    assert model.score(X, y) > 0.58
    surv = model.predict_survival_function(X, return_array=True)
    assert np.all((surv >= 0) & (surv <= 1))
    assert np.all(np.diff(surv, axis=1) <= 1e-12)  # non-increasing in time
    hazard = model.predict_cumulative_hazard_function(X, return_array=True)
    assert np.all(np.diff(hazard, axis=1) >= -1e-12)
    functions = model.predict_survival_function(X.iloc[:3])
    assert len(functions) == 3
    t = functions[0].x[:2]
    np.testing.assert_allclose(functions[0](t), surv[0, :2] if loss == "cox"
                               else functions[0](t))


def test_cox_survival_matches_kaplan_meier_on_average(data):
    X, y = data
    model = _make("tabular", max_epochs=20).fit(X, y)
    times, km = kaplan_meier_estimator(y["event"], y["time"])
    mean = model.predict_survival_function(X, return_array=True).mean(axis=0)
    fitted_times = model.baseline_.unique_times_
    at = np.searchsorted(fitted_times, times[:-1])
    # Breslow's survival averaged over the training rows tracks Kaplan-Meier
    assert np.max(np.abs(mean[at] - km[:-1])) < 0.1


def test_fusion_ranks_better_than_either_modality_on_held_out_rows():
    X, y = make_multimodal_survival(300, image_size=16, n_features=4, n_informative=2,
                                    random_state=1)
    fusion = _make("intermediate")
    scores = {}
    for names in (["img", "tab"], ["img"], ["tab"]):
        model = fusion.select_modalities(names)
        scores["+".join(names)] = cross_validate(model, X, y, cv=GroupKFold(3),
                                                 groups=np.arange(len(X)) % 30)["test_score"]
    means = {k: float(np.mean(v)) for k, v in scores.items()}
    assert means["img+tab"] > max(means["img"], means["tab"]), means


def test_bad_targets_are_clear_errors(data):
    X, y = data
    model = _make("tabular", max_epochs=1)
    with pytest.raises(ValueError, match="structured array of \\(event, time\\)"):
        model.fit(X, np.arange(len(X)))
    bad = y.copy()
    bad["time"][3] = -1.0
    with pytest.raises(ValueError, match="1 time\\(s\\) that are negative.*\\[3\\]"):
        model.fit(X, bad)
    bad = y.copy()
    bad["time"][5] = np.nan
    with pytest.raises(ValueError, match="negative, NaN or infinite.*\\[5\\]"):
        model.fit(X, bad)
    with pytest.raises(ValueError, match="censored"):
        model.fit(X, Surv.from_arrays(np.zeros(len(X), dtype=bool), y["time"]))
    with pytest.raises(ValueError, match="160 rows but y has 10"):
        model.fit(X, y[:10])
    with pytest.raises(ValueError, match="loss"):
        _make("tabular", loss="aft").fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_contract(data, name):
    X, y = data
    model = _make(name, max_epochs=2)
    fitted = clone(model).fit(X, y)
    copy = clone(fitted)
    assert not hasattr(copy, "net_")
    assert repr(copy.get_params(deep=False)) == repr(model.get_params(deep=False))
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(clone(model).fit(X, y).predict(X), fitted.predict(X))
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(fitted.predict(X.iloc[perm]), fitted.predict(X)[perm],
                               atol=1e-5)


def test_grid_search_over_the_loss_with_grouped_folds(data):
    X, y = data
    search = GridSearchCV(_make("intermediate", max_epochs=2),
                          {"loss": ["cox", "discrete_time"], "tab__hidden_layer_sizes": [(8,)]},
                          cv=GroupKFold(2)).fit(X, y, groups=X["patient_id"])
    assert search.best_params_["loss"] in ("cox", "discrete_time")
    assert search.predict(X).shape == (len(X),)


def test_missing_modalities(data):
    X, y = data
    X = X.copy()
    X.loc[X.index[::5], "image"] = None
    X.loc[X.index[2::5], TAB] = np.nan
    model = _make("intermediate", max_epochs=2).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


def test_early_stopping_stratifies_on_the_event(data):
    X, y = data
    model = _make("tabular", max_epochs=5, early_stopping=True, n_iter_no_change=2).fit(X, y)
    assert "valid_loss" in model.net_.history[-1]


def test_sample_weight_is_refused(data):
    X, y = data
    with pytest.raises(TypeError):
        _make("tabular").fit(X, y, sample_weight=np.ones(len(X)))


def test_two_d_array_input(data):
    X, y = data
    model = TabularMLPSurvival(max_epochs=2, random_state=0, device="cpu").fit(
        X[TAB].to_numpy(), y)
    assert model.predict(pd.DataFrame(X[TAB].to_numpy())).shape == (len(X),)


@pytest.mark.parametrize("loss", ["cox", "discrete_time"])
def test_skops_round_trip(data, loss, tmp_path):
    from skmultimodal.io import dump, load

    X, y = data
    model = _make("tabular", loss=loss, max_epochs=2).fit(X, y)
    dump(model, tmp_path / "model.skops")
    loaded = load(tmp_path / "model.skops")  # nothing to trust by hand
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.predict_survival_function(X, return_array=True),
                               model.predict_survival_function(X, return_array=True))


def test_modality_importance_on_the_concordance(data):
    from skmultimodal.inspection import modality_importance

    X, y = data
    model = _make("intermediate", max_epochs=4).fit(X, y)
    result = modality_importance(model, X, y, n_repeats=2, random_state=0)
    assert result["modalities"] == ["img", "tab"]
    assert result["baseline_score"] == pytest.approx(model.score(X, y))
    # both modalities carry part of the hazard: permuting either lowers Harrell's C
    assert (result["importances_mean"] > 0).all()


def test_bag_modality_in_a_survival_model():
    from skmultimodal.datasets import make_bag_classification
    from skmultimodal.modalities import ImageBagModality

    X, label = make_bag_classification(80, min_instances=3, max_instances=6, image_size=16,
                                       random_state=0)
    rng = np.random.default_rng(0)
    y = Surv.from_arrays(np.ones(len(X), dtype=bool), rng.exponential(np.exp(-2.0 * label)))
    model = IntermediateFusionSurvival(
        [("bag", ImageBagModality("bag", backbone="simple_cnn", image_size=16, channels=1,
                                  backbone_params={"channels": (8, 16)})),
         ("tab", TabularModality(["tab_0", "tab_1"], hidden_layer_sizes=(8,)))],
        embed_dim=16, max_epochs=6, lr=1e-2, random_state=0, device="cpu").fit(X, y)
    assert model.score(X, y) > 0.6


@pytest.mark.parametrize("loss", ["cox", "discrete_time"])
def test_shap_values_explain_the_risk(data, loss):
    from skmultimodal.inspection import shap_values

    X, y = data
    model = _make("intermediate", loss=loss, max_epochs=3).fit(X, y)
    rows = X.iloc[:5]
    sv = shap_values(model, rows, modality="tab", n_background=20, n_samples=200,
                     random_state=0)
    assert sv.values.shape == (5, 4, 1) and list(sv.output_names) == ["risk"]
    assert np.abs(sv.values).sum() > 0
    # additivity: base value + contributions is about the predicted risk
    total = sv.base_values[:, 0] + sv.values[:, :, 0].sum(axis=1)
    np.testing.assert_allclose(total, model.predict(rows), atol=0.1 * np.ptp(
        model.predict(X)) + 1e-3)


def test_evaluate_scores_a_survival_net_on_grouped_folds(data):
    from skmultimodal.model_selection import evaluate

    X, y = data
    report = evaluate({"mlp": _make("tabular")}, X, y,
                      groups=X["patient_id"], cv=3, n_bootstrap=20, random_state=0)
    table = report.pivot()
    assert report.metrics == ["harrell_c", "uno_c", "mean_auc", "ibs"]
    assert table.loc["mlp", "harrell_c"] > 0.6
    assert 0 < table.loc["mlp", "ibs"] < 0.25
    # class labels are not a survival target
    with pytest.raises(ValueError, match="structured array"):
        evaluate({"mlp": _make("tabular")}, X, y["event"], cv=3)
