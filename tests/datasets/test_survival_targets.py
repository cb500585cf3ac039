"""Survival targets of load_metabric, load_tcga_brca_pam50 and read_tcga_brca.

Real-data tests need SKMULTIMODAL_DATA.
"""
import numpy as np
import pandas as pd
import pytest
from sksurv.metrics import concordance_index_censored

from skmultimodal.datasets import load_metabric
from skmultimodal.datasets._metabric import (
    CAUSE_OF_DEATH,
    FILENAME,
    RECEPTOR_COLUMNS,
    SURVIVAL_TIME,
    TREATMENT_COLUMNS,
    VITAL_STATUS,
)
from skmultimodal.datasets._verify import DataFileError

from . import test_metabric
from .test_metabric import N_ROWS, _small_table


def _is_survival_array(y, n):
    assert y.dtype.names == ("event", "time")
    assert y.dtype["event"] == np.bool_ and y.dtype["time"] == np.float64
    assert y.shape == (n,)


# --------------------------------------------------------------------------
# METABRIC: a small table in the layout of the real one


# patient -> (overall_survival_months, overall_survival, death_from_cancer)
OUTCOMES = [
    (10.0, 1, "Living"),
    (20.5, 0, "Died of Disease"),
    (30.0, 0, "Died of Other Causes"),
    (0.0, 1, "Living"),
    (55.0, 0, None),  # deceased, cause unknown
    (None, 0, "Died of Disease"),  # time unknown
    (70.0, None, "Died of Disease"),  # status unknown, from the cause
    (80.0, 0, "Died of Disease"),
]


def _outcome_table(outcomes=OUTCOMES):
    table = _small_table()
    others = [c for c in table.columns if c.startswith("other_")]
    table = table.rename(
        columns=dict(zip(others, (SURVIVAL_TIME, VITAL_STATUS, CAUSE_OF_DEATH)))
    )
    table[SURVIVAL_TIME] = [o[0] for o in outcomes]
    table[VITAL_STATUS] = pd.array([o[1] for o in outcomes], dtype="Int64")
    table[CAUSE_OF_DEATH] = [o[2] for o in outcomes]
    return table


@pytest.fixture
def small_outcomes(tmp_path, monkeypatch):
    monkeypatch.setattr(test_metabric._metabric, "N_PATIENTS", N_ROWS)
    folder = tmp_path / "metabric"
    folder.mkdir()
    path = folder / FILENAME
    _outcome_table().to_csv(path, index=False)
    return path


def test_small_overall_survival(small_outcomes, tmp_path):
    bunch = load_metabric(data_home=tmp_path, task="overall_survival")
    y = bunch.target
    # the row without a time is dropped; the status of row 6 comes from the cause
    assert bunch.data["patient_id"].tolist() == [0, 1, 2, 3, 4, 6, 7]
    _is_survival_array(y, 7)
    assert y["event"].tolist() == [False, True, True, False, True, True, True]
    assert y["time"].tolist() == [10.0, 20.5, 30.0, 0.0, 55.0, 70.0, 80.0]
    assert list(bunch.target_names) == ["event", "time"]
    assert bunch.frame["event"].tolist() == y["event"].tolist()
    assert bunch.frame["time"].tolist() == y["time"].tolist()
    assert "target" not in bunch.frame
    # the outcome columns never reach the features
    assert not {SURVIVAL_TIME, VITAL_STATUS, CAUSE_OF_DEATH} & set(bunch.data.columns)
    X, y2 = load_metabric(data_home=tmp_path, task="overall_survival", return_X_y=True)
    assert np.array_equal(y, y2) and X.equals(bunch.data)


def test_small_disease_specific_survival(small_outcomes, tmp_path):
    y = load_metabric(data_home=tmp_path, task="disease_specific_survival").target
    # dropped: row 4 (deceased, cause unknown) and row 5 (no time)
    _is_survival_array(y, 6)
    # deaths of other causes (row 2) are censored
    assert y["event"].tolist() == [False, True, False, False, True, True]
    assert y["time"].tolist() == [10.0, 20.5, 30.0, 0.0, 70.0, 80.0]


def test_small_classification_tasks_unchanged(small_outcomes, tmp_path):
    bunch = load_metabric(data_home=tmp_path, task="pam50")
    assert len(bunch.target) == 7 and bunch.target.dtype == object
    assert bunch.frame["target"].tolist() == bunch.target.tolist()


def test_survival_tasks_do_not_warn_for_receptors(small_outcomes, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bunch = load_metabric(
            data_home=tmp_path, task="overall_survival", modalities="clinical",
            include_receptor_status=True, include_treatment=True,
        )
    assert set(RECEPTOR_COLUMNS + TREATMENT_COLUMNS) <= set(bunch.data.columns)


@pytest.mark.parametrize(
    "row, outcome, match",
    [
        (0, (10.0, 0, "Living"), "disagrees with 'death_from_cancer'"),
        (1, (10.0, 1, "Died of Disease"), r"disagrees .*patients \[1\]"),
        (0, (-1.0, 1, "Living"), "negative survival times"),
        (0, (10.0, 2, "Living"), "unexpected vital statuses"),
        (0, (10.0, 1, "Alive"), "unexpected causes of death .*'Alive'"),
        (0, ("ten", 1, "Living"), "not finite numbers among its survival times"),
    ],
)
def test_inconsistent_outcomes_are_refused(tmp_path, monkeypatch, row, outcome, match):
    monkeypatch.setattr(test_metabric._metabric, "N_PATIENTS", N_ROWS)
    folder = tmp_path / "metabric"
    folder.mkdir()
    table = _outcome_table()
    table[SURVIVAL_TIME] = table[SURVIVAL_TIME].astype(object)
    table[VITAL_STATUS] = table[VITAL_STATUS].astype(object)
    table.loc[row, [SURVIVAL_TIME, VITAL_STATUS, CAUSE_OF_DEATH]] = list(outcome)
    table.to_csv(folder / FILENAME, index=False)
    for task in ("overall_survival", "disease_specific_survival"):
        with pytest.raises(DataFileError, match=match) as info:
            load_metabric(data_home=tmp_path, task=task)
        assert str(folder / FILENAME) in str(info.value)
    # the classification tasks do not read the outcome
    load_metabric(data_home=tmp_path, task="pam50")


def test_missing_outcome_columns_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(test_metabric._metabric, "N_PATIENTS", N_ROWS)
    folder = tmp_path / "metabric"
    folder.mkdir()
    _small_table().to_csv(folder / FILENAME, index=False)
    with pytest.raises(DataFileError, match="lacks the columns .*overall_survival"):
        load_metabric(data_home=tmp_path, task="overall_survival")


def test_unknown_task_lists_the_survival_tasks(tmp_path):
    with pytest.raises(ValueError, match="'disease_specific_survival'"):
        load_metabric(data_home=tmp_path, task="survival")


@pytest.fixture(scope="module")
def metabric_raw(data_home):
    return pd.read_csv(
        data_home / "metabric" / FILENAME,
        usecols=["patient_id", SURVIVAL_TIME, VITAL_STATUS, CAUSE_OF_DEATH, "age_at_diagnosis",
                 "nottingham_prognostic_index"],
    ).set_index("patient_id")


@pytest.mark.real_data
def test_real_metabric_overall_survival(data_home, metabric_raw):
    bunch = load_metabric(data_home=data_home, task="overall_survival",
                          modalities=("clinical",))
    y = bunch.target
    _is_survival_array(y, 1904)
    assert int(y["event"].sum()) == 1103 and int((~y["event"]).sum()) == 801
    raw = metabric_raw.loc[bunch.groups]
    # the file codes the vital status 1 = living: the event is its complement
    assert np.array_equal(y["event"], raw[VITAL_STATUS].to_numpy() == 0)
    assert np.array_equal(y["time"], raw[SURVIVAL_TIME].to_numpy())
    assert y["time"].min() == 0.0 and y["time"].max() == pytest.approx(355.2)
    # deaths and living patients follow the cause-of-death column
    living = raw[CAUSE_OF_DEATH].eq("Living").to_numpy()
    assert not (y["event"] & living).any() and (y["event"] | living).all()
    # sanity: the Nottingham prognostic index ranks the patients by risk
    npi = bunch.data["nottingham_prognostic_index"].to_numpy()
    cindex = concordance_index_censored(y["event"], y["time"], npi)[0]
    assert cindex > 0.55


@pytest.mark.real_data
def test_real_metabric_disease_specific_survival(data_home, metabric_raw):
    bunch = load_metabric(data_home=data_home, task="disease_specific_survival",
                          modalities=("genes",))
    y = bunch.target
    _is_survival_array(y, 1903)
    assert int(y["event"].sum()) == 622 and int((~y["event"]).sum()) == 1281
    assert 5130 not in set(bunch.groups)  # deceased, cause of death missing
    raw = metabric_raw.loc[bunch.groups]
    assert np.array_equal(
        y["event"], raw[CAUSE_OF_DEATH].eq("Died of Disease").to_numpy()
    )
    assert np.array_equal(y["time"], raw[SURVIVAL_TIME].to_numpy())
    assert bunch.data.shape == (1903, 1 + 489)
