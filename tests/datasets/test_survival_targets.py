"""Survival targets of load_metabric, load_tcga_brca_pam50 and read_tcga_brca.

Real-data tests need SKMULTIMODAL_DATA.
"""
import numpy as np
import pandas as pd
import pytest
from sksurv.metrics import concordance_index_censored

from skmultimodal.datasets import load_metabric, load_tcga_brca_pam50, read_tcga_brca
from skmultimodal.datasets._metabric import (
    CAUSE_OF_DEATH,
    FILENAME,
    RECEPTOR_COLUMNS,
    SURVIVAL_TIME,
    TREATMENT_COLUMNS,
    VITAL_STATUS,
)
from skmultimodal.datasets._verify import DataFileError

from . import test_metabric, test_tcga
from .test_metabric import N_ROWS, _small_table


def _is_survival_array(y, n):
    assert y.dtype.names == ("event", "time")
    assert y.dtype["event"] == np.bool_ and y.dtype["time"] == np.float64
    assert y.shape == (n,)


# --------------------------------------------------------------------------
# METABRIC: a small table in the layout of the real one


# patient -> (overall_survival_months, overall_survival, death_from_cancer)
OUTCOMES = [
    (10.0, 1, None),  # living, cause empty: censored in both
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


# --------------------------------------------------------------------------
# TCGA-BRCA: the small files of test_tcga with survival columns


# sample -> (vital_status, days_to_death, days_to_last_followup)
TCGA_SURVIVAL = {
    "S0": ("LIVING", None, 100.0),
    "S1": ("DECEASED", 50.0, 20.0),
    "S2": ("LIVING", None, 70.0),
    "S3": ("LIVING", None, -31.0),  # negative follow-up: dropped
    "S4": ("DECEASED", None, 30.0),  # deceased without a time: dropped
    "S5": ("LIVING", None, 0.0),
    "S6": (None, None, None),  # no vital status: dropped
}


def _survival_clinical(extra=(), survival=TCGA_SURVIVAL):
    clinical = test_tcga._clinical(extra=extra)
    values = list(survival.values()) + [(None, None, None)] * len(extra)
    for column, i in (("vital_status", 0), ("days_to_death", 1),
                      ("days_to_last_followup", 2)):
        clinical[column] = [v[i] for v in values]
    return clinical


@pytest.fixture
def tcga_home(tmp_path):
    folder = test_tcga._write_pam50_folder(tmp_path)
    _survival_clinical().to_csv(folder / test_tcga.CLINICAL_FILE, sep="\t", index=False)
    return tmp_path


def test_tcga_loader_overall_survival(tcga_home):
    bunch = load_tcga_brca_pam50(data_home=tcga_home, task="overall_survival")
    y = bunch.target
    _is_survival_array(y, 3)
    # expression columns in the order S1, S4, S0, S3, S5; S4 and S3 dropped
    assert bunch.data["patient_id"].tolist() == [
        "TCGA-A1-0001", "TCGA-A0-0000", "TCGA-A5-0005"
    ]
    assert bunch.data["NAT1"].tolist() == [1.0, 0.0, 5.0]
    assert y["event"].tolist() == [True, False, False]
    # days_to_death for the deceased, days_to_last_followup for the living
    assert y["time"].tolist() == [50.0, 100.0, 0.0]
    assert list(bunch.target_names) == ["event", "time"]
    assert bunch.frame["time"].tolist() == [50.0, 100.0, 0.0]
    assert not {"vital_status", "days_to_death", "days_to_last_followup"} & set(
        bunch.data.columns
    )
    X, y2 = load_tcga_brca_pam50(
        data_home=tcga_home, task="overall_survival", return_X_y=True
    )
    assert np.array_equal(y, y2) and X.equals(bunch.data)
    # the classification tasks are unchanged
    assert load_tcga_brca_pam50(data_home=tcga_home).target.tolist() == [
        "Basal", "Her2", "LumA", "LumB", "Normal"
    ]


@pytest.mark.parametrize(
    "change, match",
    [
        ({"S0": ("LIVING", 40.0, 100.0)}, "living but which have a 'days_to_death'"),
        ({"S0": ("Unknown", None, 100.0)}, "unexpected values of 'vital_status'"),
        ({"S0": ("LIVING", None, "soon")}, "not finite numbers among its survival days"),
    ],
)
def test_tcga_inconsistent_survival_is_refused(tmp_path, change, match):
    folder = test_tcga._write_pam50_folder(tmp_path)
    survival = {**TCGA_SURVIVAL, **change}
    _survival_clinical(survival=survival).to_csv(
        folder / test_tcga.CLINICAL_FILE, sep="\t", index=False
    )
    with pytest.raises(DataFileError, match=match):
        load_tcga_brca_pam50(data_home=tmp_path, task="overall_survival")
    load_tcga_brca_pam50(data_home=tmp_path, task="pam50")  # does not read them


def test_tcga_missing_survival_columns_are_refused(tmp_path):
    test_tcga._write_pam50_folder(tmp_path)  # its clinical matrix has no survival
    with pytest.raises(DataFileError, match="lacks the columns .*vital_status"):
        load_tcga_brca_pam50(data_home=tmp_path, task="overall_survival")


def test_read_tcga_brca_overall_survival(tmp_path):
    expression_path, clinical_path, _ = test_tcga._write_xena(tmp_path)
    _survival_clinical(extra=[("TCGA-A1-0001-11", None, "Normal")]).to_csv(
        clinical_path, sep="\t", index=False
    )
    bunch = read_tcga_brca(expression_path, clinical_path, task="overall_survival")
    # S0, S1, S3, S4, S6 and an unlabelled sample: S3, S4, S6 and it dropped
    assert bunch.data["patient_id"].tolist() == ["TCGA-A0-0000", "TCGA-A1-0001"]
    assert bunch.target["event"].tolist() == [False, True]
    assert bunch.target["time"].tolist() == [100.0, 50.0]
    assert list(bunch.frame.columns[-2:]) == ["event", "time"]
    # one row per tile: the target follows the rows
    tiles = test_tcga._write_tiles(tmp_path)
    rows = read_tcga_brca(expression_path, clinical_path, tiles, task="overall_survival")
    assert rows.target.dtype.names == ("event", "time")
    # only TCGA-A1-0001 (two tiles) has both tiles and a known survival
    assert rows.groups.tolist() == ["TCGA-A1-0001"] * 2
    assert rows.target.tolist() == [(True, 50.0)] * 2
    with pytest.raises(DataFileError, match="lacks the columns"):
        test_tcga._clinical().to_csv(clinical_path, sep="\t", index=False)
        read_tcga_brca(expression_path, clinical_path, task="overall_survival")


@pytest.mark.real_data
def test_real_tcga_overall_survival(data_home):
    bunch = load_tcga_brca_pam50(data_home=data_home, task="overall_survival")
    y = bunch.target
    _is_survival_array(y, 990)
    assert int(y["event"].sum()) == 129 and int((~y["event"]).sum()) == 861
    assert "TCGA-A8-A082-01" not in set(bunch.sample_ids)  # follow-up -31 days
    clinical = pd.read_csv(
        data_home / "tcga_brca_pam50genes" / test_tcga.CLINICAL_FILE, sep="\t",
        usecols=["sampleID", "vital_status", "days_to_death", "days_to_last_followup"],
    ).set_index("sampleID").loc[bunch.sample_ids]
    dead = clinical["vital_status"].eq("DECEASED").to_numpy()
    assert np.array_equal(y["event"], dead)
    assert np.array_equal(y["time"][dead], clinical["days_to_death"].to_numpy()[dead])
    assert np.array_equal(
        y["time"][~dead], clinical["days_to_last_followup"].to_numpy()[~dead]
    )
    # the same 990 tumours as er_status minus the one dropped
    assert len(load_tcga_brca_pam50(data_home=data_home, task="er_status").target) == 991
    # sanity: older patients die earlier
    age = bunch.data["age_at_initial_pathologic_diagnosis"].to_numpy()
    assert concordance_index_censored(y["event"], y["time"], age)[0] > 0.55
