"""Loader of the METABRIC clinical + mRNA + mutation table."""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _check_option, _require_files, get_data_home

FOLDER = "metabric"
FILENAME = "METABRIC_RNA_Mutation.csv.gz"
LABEL = "pam50_+_claudin-low_subtype"
N_CLINICAL = 31  # the first 31 columns of the file are clinical
N_GENES = 489

TASKS = ("luminal_vs_basal_her2", "pam50")
MODALITIES = ("clinical", "genes", "mutations")
PAM50_CLASSES = ("LumA", "LumB", "Her2", "Basal", "claudin-low", "Normal")

# Baseline clinical columns that encode neither the subtype label nor the
# outcome. Left out on purpose: the label itself, integrative_cluster,
# 3-gene_classifier_subtype (other expression-based subtypings), the receptor
# statuses below (near-labels), overall_survival(_months) and
# death_from_cancer (outcome), cohort, and cancer_type / oncotree_code /
# mutation_count.
CLINICAL_COLUMNS = (
    "age_at_diagnosis",
    "type_of_breast_surgery",
    "cellularity",
    "chemotherapy",
    "hormone_therapy",
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

**Modalities**

- clinical: 15 baseline columns that encode neither the label nor the outcome,
  kept as published (NaNs and string categories included). ER/PR/HER2
  statuses are offered only on request (``include_receptor_status=True``):
  the PAM50 subtypes are largely defined by them.
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


def _split_columns(columns):
    """Return (gene columns, mutation columns) of the file, checking its layout."""
    columns = list(columns)
    missing = [
        c for c in ("patient_id", LABEL, *CLINICAL_COLUMNS, *RECEPTOR_COLUMNS)
        if c not in columns[:N_CLINICAL]
    ]
    mutations = [c for c in columns[N_CLINICAL:] if c.endswith("_mut")]
    genes = [c for c in columns[N_CLINICAL:] if not c.endswith("_mut")]
    if missing or len(genes) != N_GENES:
        raise ValueError(
            f"{FILENAME} does not have the expected layout (31 clinical columns "
            f"including {missing or 'all expected ones'}, then {N_GENES} gene "
            f"columns, found {len(genes)}); is it the METABRIC_RNA_Mutation table?"
        )
    return genes, mutations


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


def load_metabric(
    *,
    data_home=None,
    task="luminal_vs_basal_her2",
    modalities=("clinical", "genes"),
    include_receptor_status=False,
    return_X_y=False,
):
    """Load METABRIC: clinical data, mRNA z-scores and mutations (one row per patient).

    =================   =============================================
    Patients            1,904 in the file; 1,559 (luminal_vs_basal_her2)
                        or 1,898 (pam50) after the task's selection
    Classes             2 (luminal_vs_basal_her2) or 6 (pam50)
    Clinical            15 baseline columns (+5 receptor statuses)
    Genes               489 mRNA z-scores, float
    Mutations           173 binary columns
    =================   =============================================

    Read from ``<data_home>/metabric/METABRIC_RNA_Mutation.csv.gz``; nothing
    is downloaded (the table has no canonical single-file address; the error
    raised when it is missing says where to obtain it).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    task : {"luminal_vs_basal_her2", "pam50"}, default="luminal_vs_basal_her2"
        ``"luminal_vs_basal_her2"``: patients of subtype LumA, LumB, Her2 or
        Basal, target 1 = Basal/Her2 (the positive class), 0 = Luminal.
        ``"pam50"``: patients of subtype LumA, LumB, Her2, Basal, claudin-low
        or Normal (the "NC" ones are dropped), target = the subtype string.
    modalities : sequence of {"clinical", "genes", "mutations"}, \
            default=("clinical", "genes")
        The modalities whose columns go into ``data``, in this order.
        ``"clinical"``: 15 baseline columns that encode neither the subtype
        nor the outcome, kept as published (NaNs and string categories
        included; imputation and encoding are left to the estimators).
        ``"genes"``: the 489 mRNA z-score columns. ``"mutations"``: the 173
        ``*_mut`` columns as int 0/1 ('0' -> 0, a protein change or NA -> 1).
    include_receptor_status : bool, default=False
        Add the ER, PR and HER2 status columns to the clinical modality. They
        are strongly tied to the PAM50 label (HER2-enriched and basal-like
        tumours are largely defined by them), so a UserWarning is emitted.
        Only used when ``"clinical"`` is among ``modalities``.
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
            ``"pam50"``.
        target_names : ndarray of str
            ``["Luminal", "Basal/Her2"]`` or the six subtypes.
        groups : ndarray of int
            ``patient_id`` of each row (one row per patient), for grouped
            cross-validation with other sources.
        feature_groups : dict
            Modality name -> list of its columns in ``data``.
        frame : DataFrame
            ``data`` with a ``target`` column.
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
        If ``task`` or ``modalities`` name something unknown.
    """
    _check_option(task, "task", TASKS)
    modalities = _check_modalities(modalities)
    if not isinstance(include_receptor_status, (bool, np.bool_)):
        raise ValueError(
            f"include_receptor_status must be a bool, got {include_receptor_status!r}"
        )
    folder = get_data_home(data_home) / FOLDER
    (path,) = _require_files(folder, [FILENAME], "METABRIC", how_to_get=HOW_TO_GET)

    raw = pd.read_csv(path, low_memory=False)
    genes, mutations = _split_columns(raw.columns)
    rows, target, target_names = _select_task(raw, task)
    raw = raw.loc[rows].reset_index(drop=True)

    clinical = list(CLINICAL_COLUMNS)
    if include_receptor_status and "clinical" in modalities:
        warnings.warn(
            "include_receptor_status=True adds ER/PR/HER2 status columns, which "
            "are strongly tied to the PAM50 subtype label: scores using them "
            "largely measure the receptor statuses.",
            UserWarning,
            stacklevel=2,
        )
        clinical += list(RECEPTOR_COLUMNS)
    feature_groups = {}
    blocks = [raw[["patient_id"]].astype(np.int64)]
    for modality in modalities:
        if modality == "clinical":
            block = raw[clinical]
        elif modality == "genes":
            block = raw[genes].astype(np.float64)
        else:
            block = _mutations_as_binary(raw[mutations])
        feature_groups[modality] = list(block.columns)
        blocks.append(block)
    data = pd.concat(blocks, axis=1).copy()  # copy: one block per dtype

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        groups=data["patient_id"].to_numpy(),
        feature_groups=feature_groups,
        frame=pd.concat([data, pd.Series(target, name="target")], axis=1),
        DESCR=DESCR,
        filename=str(path),
    )
