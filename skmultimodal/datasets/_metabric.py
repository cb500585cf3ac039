"""Loader of the METABRIC clinical + mRNA + mutation table."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sksurv.util import Surv

from ._base import _check_bool, _check_option, _require_files, get_data_home
from ._verify import _DataFile

FOLDER = "metabric"
FILENAME = "METABRIC_RNA_Mutation.csv.gz"
LABEL = "pam50_+_claudin-low_subtype"
N_CLINICAL = 31  # the first 31 columns of the file are clinical
N_GENES = 489
N_PATIENTS = 1904  # rows of the table
# SHA-256 of the published copies known to the loader: the csv.gz shipped with
# the project's data (written from the Kaggle table). Other copies are checked
# for their structure instead.
SHA256 = ("a7ad7cc1b56217b4b1d6217550b61ab91a018567b8e8a8b18ff9f6df234237fc",)

CLASSIFICATION_TASKS = ("luminal_vs_basal_her2", "pam50")
SURVIVAL_TASKS = ("overall_survival", "disease_specific_survival")
TASKS = (*CLASSIFICATION_TASKS, *SURVIVAL_TASKS)
MODALITIES = ("clinical", "genes", "mutations")
PAM50_CLASSES = ("LumA", "LumB", "Her2", "Basal", "claudin-low", "Normal")
LABELS = (*PAM50_CLASSES, "NC")  # the values of the label column

# Outcome columns. In this table ``overall_survival`` is the vital status at
# the last follow-up coded 1 = living, 0 = deceased (the reverse of an event
# indicator): its 801 ones are exactly the "Living" rows of death_from_cancer.
SURVIVAL_TIME = "overall_survival_months"
VITAL_STATUS = "overall_survival"
CAUSE_OF_DEATH = "death_from_cancer"
LIVING = "Living"
DIED_OF_DISEASE = "Died of Disease"
CAUSES = (LIVING, DIED_OF_DISEASE, "Died of Other Causes")
SURVIVAL_FIELDS = ("event", "time")

# Baseline clinical columns that encode neither the subtype label nor the
# outcome. Left out on purpose: the label itself, integrative_cluster,
# 3-gene_classifier_subtype (other expression-based subtypings), the receptor
# statuses and the treatments below (near-labels and label proxies),
# overall_survival(_months) and death_from_cancer (outcome), cohort, and
# cancer_type / oncotree_code / mutation_count.
CLINICAL_COLUMNS = (
    "age_at_diagnosis",
    "type_of_breast_surgery",
    "cellularity",
    "radio_therapy",
    "inferred_menopausal_state",
    "lymph_nodes_examined_positive",
    "tumor_size",
    "tumor_stage",
    "neoplasm_histologic_grade",
    "primary_tumor_laterality",
    "nottingham_prognostic_index",
    "cancer_type_detailed",
    "tumor_other_histologic_subtype",
)
# Treatment decisions taken from the receptor status (endocrine therapy for
# ER-positive, chemotherapy mostly for ER-negative or HER2-positive tumours):
# proxies of Luminal vs Basal/Her2.
TREATMENT_COLUMNS = ("chemotherapy", "hormone_therapy")
RECEPTOR_COLUMNS = (
    "er_status_measured_by_ihc",
    "er_status",
    "her2_status",
    "her2_status_measured_by_snp6",
    "pr_status",
)

HOW_TO_GET = (
    "The file is the Kaggle table 'Breast Cancer Gene Expression Profiles "
    "(METABRIC)' (https://www.kaggle.com/datasets/raghadalharbi/"
    "breast-cancer-gene-expression-profiles-metabric), saved as "
    "METABRIC_RNA_Mutation.csv.gz; its data come from cBioPortal study "
    "brca_metabric (https://www.cbioportal.org/study/summary?id=brca_metabric). "
    "It is not downloaded automatically (no single canonical file address)."
)

DESCR = """\
.. _metabric_dataset:

METABRIC: clinical data, mRNA z-scores and mutations
----------------------------------------------------

1,904 primary breast tumours of the METABRIC cohort, one row per patient:
31 clinical columns, mRNA z-scores of 489 genes and 173 mutation columns.

**Tasks**

- ``"luminal_vs_basal_her2"`` (task of arXiv 2503.02849): the 1,559 patients
  with PAM50 subtype LumA, LumB, Her2 or Basal; target 1 = Basal/Her2
  (419 patients), 0 = Luminal (LumA + LumB, 1,140 patients).
- ``"pam50"``: the 1,898 patients with a PAM50 + claudin-low subtype (the
  6 "NC" tumours are dropped); target = LumA 679, LumB 461, Her2 220,
  Basal 199, claudin-low 199, Normal 140.
- ``"overall_survival"``: all 1,904 patients; target = scikit-survival
  structured array (``event`` = death from any cause, 1,103 events and 801
  censored; ``time`` = ``overall_survival_months``, months from diagnosis to
  death or last follow-up, 0 to 355.2; one living patient has time 0).
- ``"disease_specific_survival"``: the 1,903 patients whose cause of death
  is known (one deceased patient, MB-5130, has no cause and is dropped);
  ``event`` = death from breast cancer (``death_from_cancer`` = "Died of
  Disease", 622 events); patients alive (801) or dead of other causes (480)
  are censored at their last follow-up / death (1,281 censored).

In the file, ``overall_survival`` is the vital status coded 1 = **living**,
0 = deceased (the reverse of an event indicator); the loader checks it against
``death_from_cancer`` ("Living" exactly where it is 1) and refuses a file
where they disagree.

**Modalities**

- clinical: 13 baseline columns that encode neither the label nor the outcome,
  kept as published (NaNs and string categories included). ER/PR/HER2
  statuses are offered only on request (``include_receptor_status=True``):
  the PAM50 subtypes are largely defined by them. So are the treatments
  ``chemotherapy`` and ``hormone_therapy`` (``include_treatment=True``):
  decisions taken from the receptor status, they are proxies of the label
  (66% of the patients given chemotherapy are Basal/Her2, 18% of the others).
- genes: the 489 mRNA z-score columns (``brca1`` ... ``ugt2b7``).
- mutations: the 173 ``*_mut`` columns as 0/1 (string '0' -> 0, any other
  value -> 1). In 4 columns (rasgef1b_mut, hras_mut, smarcb1_mut, siah1_mut)
  12 mutation strings were lost when the table was recovered; they are NA in
  the file and read as mutated (variant unknown).

Simple baselines reported with the data (5-fold stratified CV, Luminal vs
Basal/Her2): logistic regression on the genes F1 0.870, PR-AUC 0.951; on
11 clinical columns F1 0.786, PR-AUC 0.872.

**File**: ``<data_home>/metabric/METABRIC_RNA_Mutation.csv.gz``, the Kaggle
table "Breast Cancer Gene Expression Profiles (METABRIC)"
(raghadalharbi/breast-cancer-gene-expression-profiles-metabric), a subset of
cBioPortal study brca_metabric. ``patient_id`` is the numeric part of the
METABRIC id (MB-0000 -> 0).

**Licence**: ODbL-1.0 (cBioPortal datahub), with attribution.

**Citations**:

- Curtis C, Shah SP, Chin SF, et al. The genomic and transcriptomic
  architecture of 2,000 breast tumours reveals novel subgroups. Nature
  486:346-352 (2012).
- Pereira B, Chin SF, Rueda OM, et al. The somatic mutation profiles of 2,433
  breast cancers refines their genomic and transcriptomic landscapes. Nat
  Commun 7:11479 (2016).
- Cerami E, et al. The cBio cancer genomics portal. Cancer Discov 2:401-404
  (2012).
- Gao J, et al. Integrative analysis of complex cancer genomics and clinical
  profiles using the cBioPortal. Sci Signal 6:pl1 (2013).
"""


_RECEPTOR_WARNING = (
    "include_receptor_status=True adds ER/PR/HER2 status columns, which are "
    "strongly tied to the PAM50 subtype label: scores using them largely "
    "measure the receptor statuses."
)
_TREATMENT_WARNING = (
    "include_treatment=True adds chemotherapy and hormone_therapy, treatment "
    "decisions taken from the receptor status: they are proxies of the PAM50 "
    "subtype label, and scores using them partly measure the treatment policy."
)


def _check_modalities(modalities):
    """Return the modalities as a tuple of known, distinct names."""
    if isinstance(modalities, str):
        modalities = (modalities,)
    try:
        modalities = tuple(modalities)
    except TypeError:
        raise ValueError(
            f"modalities must be a sequence of names among {MODALITIES}, "
            f"got {modalities!r}"
        ) from None
    if not modalities:
        raise ValueError(f"modalities must name at least one of {MODALITIES}")
    for name in modalities:
        _check_option(name, "each modality", MODALITIES)
    if len(set(modalities)) != len(modalities):
        raise ValueError(f"modalities must not repeat a name, got {modalities}")
    return modalities


def _split_columns(columns, source):
    """Return (gene columns, mutation columns) of the file, checking its layout."""
    columns = list(columns)
    source.check_columns(
        columns[:N_CLINICAL],
        ("patient_id", LABEL, *CLINICAL_COLUMNS, *TREATMENT_COLUMNS, *RECEPTOR_COLUMNS),
        expected=f"the METABRIC_RNA_Mutation table ({N_CLINICAL} clinical columns "
        f"first, then {N_GENES} gene columns and the *_mut columns)",
    )
    mutations = [c for c in columns[N_CLINICAL:] if c.endswith("_mut")]
    genes = [c for c in columns[N_CLINICAL:] if not c.endswith("_mut")]
    if len(genes) != N_GENES:
        raise source.error(
            f"does not have the expected layout: it has {len(genes)} gene columns "
            f"after the {N_CLINICAL} clinical ones, expected {N_GENES}; is it the "
            f"METABRIC_RNA_Mutation table?"
        )
    return genes, mutations


def _read_table(path):
    """Read and check the file: (table with float genes, genes, mutations, source)."""
    source = _DataFile(path, "METABRIC file", HOW_TO_GET, sha256=SHA256)
    source.check_fields(expected=f"{N_PATIENTS:,} rows")
    with source.reading():
        raw = pd.read_csv(path, low_memory=False)
    genes, mutations = _split_columns(raw.columns, source)
    source.check_count(len(raw), N_PATIENTS)
    raw["patient_id"] = source.numeric(
        raw[["patient_id"]], "patient ids", allow_missing=False, integer=True
    )["patient_id"]
    raw[genes] = source.numeric(raw[genes], "gene z-scores")
    source.check_values(raw[LABEL], LABELS, f"subtypes in {LABEL!r}")
    return raw, genes, mutations, source


def _mutations_as_binary(frame):
    """0 where the value is the string '0' (or the number 0), else 1 (NA included)."""
    binary = {}
    for name, column in frame.items():
        if pd.api.types.is_numeric_dtype(column):
            unmutated = column.eq(0)
        else:
            unmutated = column.astype("string").eq("0")
        binary[name] = (~unmutated.fillna(False).astype(bool)).astype(np.int64)
    return pd.DataFrame(binary, index=frame.index)


def _select_task(raw, task):
    """Rows and target of a task: (row mask, target array, target_names)."""
    label = raw[LABEL]
    if task == "luminal_vs_basal_her2":
        rows = label.isin(["LumA", "LumB", "Her2", "Basal"]).to_numpy()
        target = label[rows].isin(["Her2", "Basal"]).to_numpy().astype(np.int64)
        return rows, target, np.array(["Luminal", "Basal/Her2"])
    rows = label.isin(PAM50_CLASSES).to_numpy()
    target = label[rows].to_numpy().astype(object)
    return rows, target, np.array(PAM50_CLASSES)


def _ids(raw, rows):
    """The first 5 patient ids of the rows of ``raw`` selected by ``rows``."""
    return raw.loc[rows, "patient_id"].astype(np.int64).tolist()[:5]


def _survival_target(raw, task, source):
    """Rows and target of a survival task: (row mask, structured array, names).

    The vital status (1 = living, 0 = deceased) and the cause of death must
    agree wherever both are given; a row whose event or time is unknown is
    dropped (for ``"disease_specific_survival"``, a death of unknown cause).
    """
    source.check_columns(
        raw.columns,
        (SURVIVAL_TIME, VITAL_STATUS, CAUSE_OF_DEATH),
        expected="the METABRIC_RNA_Mutation table with its outcome columns",
    )
    time = source.numeric(raw[[SURVIVAL_TIME]], "survival times")[SURVIVAL_TIME]
    if (time < 0).any():
        raise source.error(
            f"holds negative survival times in {SURVIVAL_TIME!r} (patients "
            f"{_ids(raw, time < 0)})"
        )
    status = source.numeric(raw[[VITAL_STATUS]], "vital statuses", integer=True)
    status = status[VITAL_STATUS]
    source.check_values(status, (0, 1), f"vital statuses in {VITAL_STATUS!r}")
    cause = raw[CAUSE_OF_DEATH].astype(object).where(raw[CAUSE_OF_DEATH].notna())
    source.check_values(cause, CAUSES, f"causes of death in {CAUSE_OF_DEATH!r}")
    both = status.notna() & cause.notna()
    disagree = both & ((status == 1) != (cause == LIVING))
    if disagree.any():
        raise source.error(
            f"has rows whose vital status {VITAL_STATUS!r} (1 = living, "
            f"0 = deceased) disagrees with {CAUSE_OF_DEATH!r}: patients "
            f"{_ids(raw, disagree)} "
            f"({int(disagree.sum())} rows)"
        )
    # 1.0 / 0.0 / NaN (unknown). Deceased: from the vital status, else from
    # the cause of death.
    known_cause = cause.notna().to_numpy()
    dead = np.where(
        status.notna(),
        status.to_numpy() == 0,
        np.where(known_cause, cause.to_numpy() != LIVING, np.nan),
    )
    if task == "overall_survival":
        event = dead
    else:  # death from the cancer; living or dead of other causes: censored
        event = np.where(
            known_cause,
            cause.to_numpy() == DIED_OF_DISEASE,
            np.where(dead == 0, 0.0, np.nan),
        )
    rows = ~np.isnan(event) & time.notna().to_numpy()
    target = Surv.from_arrays(
        event=event[rows].astype(bool),
        time=time.to_numpy(dtype=np.float64)[rows],
        name_event=SURVIVAL_FIELDS[0],
        name_time=SURVIVAL_FIELDS[1],
    )
    return rows, target, np.array(SURVIVAL_FIELDS)


def load_metabric(
    *,
    data_home=None,
    task="luminal_vs_basal_her2",
    modalities=("clinical", "genes"),
    include_receptor_status=False,
    include_treatment=False,
    return_X_y=False,
):
    """Load METABRIC: clinical data, mRNA z-scores and mutations (one row per patient).

    =================   =============================================
    Patients            1,904 in the file; 1,559 (luminal_vs_basal_her2),
                        1,898 (pam50), 1,904 (overall_survival) or
                        1,903 (disease_specific_survival)
    Classes             2 (luminal_vs_basal_her2) or 6 (pam50)
    Survival events     1,103 deaths (overall_survival), 622 deaths
                        from breast cancer (disease_specific_survival)
    Clinical            13 baseline columns (+2 treatments,
                        +5 receptor statuses)
    Genes               489 mRNA z-scores, float
    Mutations           173 binary columns
    =================   =============================================

    Read from ``<data_home>/metabric/METABRIC_RNA_Mutation.csv.gz``; nothing
    is downloaded (the table has no canonical single-file address; the error
    raised when it is missing says where to obtain it). A copy other than the
    one whose checksum the loader knows is checked for its structure (every
    row complete, the expected columns, at least 1,904 rows, numeric gene
    z-scores, known subtype labels) and refused if it is damaged.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    task : {"luminal_vs_basal_her2", "pam50", "overall_survival", \
            "disease_specific_survival"}, default="luminal_vs_basal_her2"
        ``"luminal_vs_basal_her2"``: patients of subtype LumA, LumB, Her2 or
        Basal, target 1 = Basal/Her2 (the positive class), 0 = Luminal.
        ``"pam50"``: patients of subtype LumA, LumB, Her2, Basal, claudin-low
        or Normal (the "NC" ones are dropped), target = the subtype string.
        The survival tasks keep the patients of every subtype and give a
        scikit-survival structured array (fields ``event`` bool and ``time``
        float, in months from diagnosis, from ``overall_survival_months``):
        ``"overall_survival"``: event = death from any cause (1,103 events,
        801 censored). ``"disease_specific_survival"``: event = death from
        breast cancer (``death_from_cancer`` = "Died of Disease", 622
        events); living patients and deaths of other causes are censored at
        their last follow-up (1,281 censored); the deceased patient whose
        cause of death is missing (MB-5130) is dropped. The file's
        ``overall_survival`` column is the vital status coded 1 = living,
        0 = deceased; the loader checks it against ``death_from_cancer``
        ("Living" exactly where it is 1) and refuses a file where they
        disagree. Rows with a missing time or status are dropped (none in the
        published file). One living patient (MB-0284) has time 0.
    modalities : sequence of {"clinical", "genes", "mutations"}, \
            default=("clinical", "genes")
        The modalities whose columns go into ``data``, in this order.
        ``"clinical"``: 13 baseline columns that encode neither the subtype
        nor the outcome, kept as published (NaNs and string categories
        included; imputation and encoding are left to the estimators).
        ``"genes"``: the 489 mRNA z-score columns. ``"mutations"``: the 173
        ``*_mut`` columns as int 0/1 ('0' -> 0, a protein change or NA -> 1).
    include_receptor_status : bool, default=False
        Add the ER, PR and HER2 status columns to the clinical modality. They
        are strongly tied to the PAM50 label (HER2-enriched and basal-like
        tumours are largely defined by them), so a UserWarning is emitted
        (not for the survival tasks, where they are ordinary prognostic
        covariates). Only used when ``"clinical"`` is among ``modalities``.
    include_treatment : bool, default=False
        Add the ``chemotherapy`` and ``hormone_therapy`` columns to the
        clinical modality. They are treatment decisions taken from the
        receptor status, hence proxies of Luminal vs Basal/Her2, so a
        UserWarning is emitted (not for the survival tasks). Only used when
        ``"clinical"`` is among ``modalities``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            ``patient_id`` (int) first, then the columns of the modalities.
        target : ndarray of shape (n_samples,)
            Int 0/1 for ``"luminal_vs_basal_her2"``, subtype strings for
            ``"pam50"``, a structured array with fields ``event`` (bool) and
            ``time`` (float, months) for the survival tasks (as made by
            :meth:`sksurv.util.Surv.from_arrays`).
        target_names : ndarray of str
            ``["Luminal", "Basal/Her2"]``, the six subtypes, or the fields
            ``["event", "time"]``.
        groups : ndarray of int
            ``patient_id`` of each row (one row per patient), for grouped
            cross-validation with other sources.
        feature_groups : dict
            Modality name -> list of its columns in ``data``.
        frame : DataFrame
            ``data`` with a ``target`` column (the survival tasks: ``event``
            and ``time`` columns).
        DESCR : str
            Description with provenance, licence and citations.
        filename : str
            Path of the file read.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the file is not in ``<data_home>/metabric/``.
    ValueError
        If ``task`` or ``modalities`` name something unknown, or the file is
        empty, truncated or corrupt (a ``DataFileError``, whose message names
        the file, what was expected and where to obtain it again); for a
        survival task, also if the outcome columns are missing, hold values
        other than the expected codes, a negative time, or a vital status
        that disagrees with the cause of death.

    Examples
    --------
    >>> from skmultimodal.datasets import load_metabric
    >>> X, y = load_metabric(task="overall_survival",
    ...                      return_X_y=True)  # doctest: +SKIP
    >>> y.dtype.names, int(y["event"].sum()), len(y)  # doctest: +SKIP
    (('event', 'time'), 1103, 1904)
    """
    _check_option(task, "task", TASKS)
    modalities = _check_modalities(modalities)
    include_receptor_status = _check_bool(
        include_receptor_status, "include_receptor_status"
    )
    include_treatment = _check_bool(include_treatment, "include_treatment")
    folder = get_data_home(data_home) / FOLDER
    (path,) = _require_files(folder, [FILENAME], "METABRIC", how_to_get=HOW_TO_GET)

    raw, genes, mutations, source = _read_table(path)
    survival = task in SURVIVAL_TASKS
    if survival:
        rows, target, target_names = _survival_target(raw, task, source)
    else:
        rows, target, target_names = _select_task(raw, task)
    raw = raw.loc[rows].reset_index(drop=True)

    clinical = list(CLINICAL_COLUMNS)
    if "clinical" in modalities:
        for include, columns, what in (
            (include_treatment, TREATMENT_COLUMNS, _TREATMENT_WARNING),
            (include_receptor_status, RECEPTOR_COLUMNS, _RECEPTOR_WARNING),
        ):
            if include:
                if not survival:
                    warnings.warn(what, UserWarning, stacklevel=2)
                clinical += list(columns)
    feature_groups = {}
    blocks = [raw[["patient_id"]].astype(np.int64)]
    for modality in modalities:
        if modality == "clinical":
            block = raw[clinical]
        elif modality == "genes":
            block = raw[genes]
        else:
            block = _mutations_as_binary(raw[mutations])
        feature_groups[modality] = list(block.columns)
        blocks.append(block)
    data = pd.concat(blocks, axis=1).copy()  # copy: one block per dtype

    if return_X_y:
        return data, target
    if survival:
        columns = {name: target[name] for name in SURVIVAL_FIELDS}
    else:
        columns = {"target": target}
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        groups=data["patient_id"].to_numpy(),
        feature_groups=feature_groups,
        frame=pd.concat([data, pd.DataFrame(columns)], axis=1),
        DESCR=DESCR,
        filename=str(path),
    )
