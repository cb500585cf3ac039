"""TCGA-BRCA: loader of the PAM50-gene files and reader of the Xena layout."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sksurv.util import Surv

from ._base import (
    _check_bool,
    _check_option,
    _object_column,
    _require_files,
    get_data_home,
)
from ._verify import _DataFile

FOLDER = "tcga_brca_pam50genes"
EXPRESSION_FILE = "TCGA_breast_cancer_ERpositive_vs_ERnegative_PAM50.tsv"
CLINICAL_FILE = "BRCA_clinicalMatrix.tsv"

SAMPLE_ID = "sampleID"  # 15-character sample barcode, key of the Xena matrix
LABEL = "PAM50Call_RNAseq"
ER_IHC = "breast_carcinoma_estrogen_receptor_status"
ER_CLASSES = ("Negative", "Positive")
PAM50_CLASSES = ("LumA", "LumB", "Basal", "Her2", "Normal")
TASKS = ("pam50", "luminal_vs_basal_her2", "er_status", "overall_survival")
READER_TASKS = ("pam50", "luminal_vs_basal_her2", "overall_survival")
# Overall survival from the clinical matrix: the vital status, and the days
# from the initial diagnosis to the death (deceased) or to the last follow-up
# (living).
VITAL_STATUS = "vital_status"
DAYS_TO_DEATH = "days_to_death"
DAYS_TO_FOLLOWUP = "days_to_last_followup"
SURVIVAL_COLUMNS = (VITAL_STATUS, DAYS_TO_DEATH, DAYS_TO_FOLLOWUP)
DECEASED = ("DECEASED", "Dead")  # Xena / GDC spellings
ALIVE = ("LIVING", "Alive")
SURVIVAL_FIELDS = ("event", "time")
PATIENT_CHARS = 12  # TCGA-XX-XXXX
SAMPLE_CHARS = 15  # TCGA-XX-XXXX-01
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
TILE_LAYOUTS = ("rows", "bag")
# The PAM50 genes of the expression file: all 50 but ORC6, which it lacks.
PAM50_GENES = (
    "ACTR3B", "ANLN", "BAG1", "BCL2", "BIRC5", "BLVRA", "CCNB1", "CCNE1",
    "CDC20", "CDC6", "CDH3", "CENPF", "CEP55", "CXXC5", "EGFR", "ERBB2",
    "ESR1", "EXO1", "FGFR4", "FOXA1", "FOXC1", "GPR160", "GRB7", "KIF2C",
    "KRT14", "KRT17", "KRT5", "MAPT", "MDM2", "MELK", "MIA", "MKI67", "MLPH",
    "MMP11", "MYBL2", "MYC", "NAT1", "NDC80", "NUF2", "PGR", "PHGDH", "PTTG1",
    "RRM2", "SFRP1", "SLC39A6", "TMEM45B", "TYMS", "UBE2C", "UBE2T",
)
# SHA-256 of the published files known to the loader; other copies are
# checked for their structure instead.
EXPRESSION_SHA256 = (
    "4ee2997509e587921a0ec4c4e6f69986b7a8ba7506689088503b947b8cda5a92",
)
CLINICAL_SHA256 = (
    "39eb3be0fb86e6a577bd2cc01502a7fa5a271e1e1cba294e9dc644ad99580d7f",
)

# Baseline covariates of the Xena clinical matrix that do not encode the
# subtype. Left out on purpose: ER/PR/HER2 statuses and every IHC/FISH column
# (near-labels of the subtypes), the *_nature2012 columns (they include
# PAM50_mRNA_nature2012 and expression-derived clusters), the _PANCAN
# clusters, and survival / follow-up (outcome).
CLINICAL_COLUMNS = (
    "age_at_initial_pathologic_diagnosis",
    "pathologic_stage",
    "pathologic_T",
    "pathologic_N",
    "pathologic_M",
    "histological_type",
    "menopause_status",
)

HOW_TO_GET = (
    "The expression file is a course-exercise extract of the TCGA-BRCA "
    "RNA-seq (GitHub vennemeyers/Example1); BRCA_clinicalMatrix.tsv is the UCSC "
    "Xena TCGA Breast Cancer (BRCA) clinical matrix (https://xenabrowser.net/"
    "datapages/?cohort=TCGA%20Breast%20Cancer%20(BRCA)). The full expression "
    "matrix (HiSeqV2 on Xena, or cBioPortal study brca_tcga) can be read with "
    "read_tcga_brca. They are not downloaded automatically."
)

DESCR = """\
.. _tcga_brca_pam50_dataset:

TCGA-BRCA: RNA-seq of the PAM50 genes with clinical covariates
--------------------------------------------------------------

Primary breast tumours of The Cancer Genome Atlas: expression (log2, RSEM-like
values of the TCGA/Xena HiSeqV2 matrix) of 49 of the 50 PAM50 genes (ORC6 is
absent), joined on the sample barcode to the UCSC Xena clinical matrix for
the PAM50 call (``PAM50Call_RNAseq``) and baseline clinical covariates.

**Tasks**

- ``"pam50"``: the 759 tumours with a PAM50 call; target = LumA 385,
  LumB 172, Basal 127, Her2 60, Normal 15 (strings).
- ``"luminal_vs_basal_her2"``: the 744 tumours called LumA, LumB, Basal or
  Her2; target 1 = Basal/Her2 (187), 0 = Luminal (557).
- ``"er_status"``: the 991 tumours of the expression file with a known
  barcode; target 1 = ER positive (765), 0 = ER negative (226), from the
  file's class row (IHC status; it equals the clinical matrix's
  ``breast_carcinoma_estrogen_receptor_status`` of every sample).
- ``"overall_survival"``: the 990 tumours of known barcode with a known
  overall survival; target = scikit-survival structured array, ``event`` =
  death (``vital_status`` "DECEASED", 129 events, 861 censored), ``time`` in
  **days** from the initial diagnosis: ``days_to_death`` for the deceased,
  ``days_to_last_followup`` for the living (0 to 8,605; 10 tumours have
  time 0). Dropped: TCGA-A8-A082-01, whose follow-up time is negative (-31).
  Over the whole clinical matrix, a sample without a vital status, a
  deceased patient without ``days_to_death`` or a negative time would be
  dropped likewise (5, 1 and 2 of its 1,247 samples).

**Columns**: ``patient_id`` (12-character barcode TCGA-XX-XXXX; one tumour per
patient), the 49 genes (float), then 7 clinical covariates kept as published
(NaNs and strings such as '[Discrepancy]' included):
age_at_initial_pathologic_diagnosis, pathologic_stage, pathologic_T,
pathologic_N, pathologic_M, histological_type, menopause_status. ER, PR and
HER2 statuses, the *_nature2012 columns (which include another PAM50 call and
expression clusters) and survival are never returned as features (survival is
the target of ``"overall_survival"``).

**Barcode repair**: the header row of the expression file does not belong to
its columns. The columns were sorted by ER class (235 negative, then 801
positive) while the header kept the original sample order, and 45 columns
hold samples that are not in the header. Joined as written, the genes are
paired with other patients' labels: the PAM50 calls then agree with the
expression no better than chance (and SOURCE.txt's counts of that join,
LumA 404, LumB 180, Basal 131, Her2 64, Normal 16 of 1,036, describe wrongly
paired rows). The loader restores the pairing: the first 9 negative and the
first 36 positive columns have no known barcode and are dropped; the other
226 negative (resp. 765 positive) columns are, in order, the header's
samples whose clinical ER status is negative (resp. positive). This is
verified against the LumA-vs-Basal file of the same origin, whose barcodes
are right: all 307 samples in both files have identical expression values
after the repair (1 before); a logistic regression recovers the PAM50 call
from the 49 genes with about 93% accuracy (about 46% before). A file whose
header already matches its ER classes is read as is.

**Files**: ``<data_home>/tcga_brca_pam50genes/`` holding
``TCGA_breast_cancer_ERpositive_vs_ERnegative_PAM50.tsv`` (genes x samples:
row 1 the aliquot barcodes, row 2 ``class-ERstatus``, then one row per gene)
from GitHub vennemeyers/Example1 (a course-exercise file; exact upstream not
documented) and ``BRCA_clinicalMatrix.tsv``, the UCSC Xena TCGA-BRCA clinical
matrix (1,247 samples x 194 columns; PAM50Call_RNAseq: LumA 434, LumB 194,
Basal 142, Normal 119, Her2 67, missing 291 - normal-tissue samples
included).

**Licence**: TCGA open-access data (NIH/GDC, TCGA publication guidelines),
redistributed openly by UCSC Xena.

**Citations**:

- The Cancer Genome Atlas Network. Comprehensive molecular portraits of human
  breast tumours. Nature 490:61-70 (2012).
- Goldman MJ, et al. Visualizing and interpreting cancer genomics data via
  the Xena platform. Nat Biotechnol 38:675-678 (2020).
"""

READER_HOW_TO_GET = (
    "The UCSC Xena TCGA Breast Cancer (BRCA) cohort (https://xenabrowser.net/"
    "datapages/?cohort=TCGA%20Breast%20Cancer%20(BRCA)) publishes the HiSeqV2 "
    "expression matrix and BRCA_clinicalMatrix."
)

READER_DESCR = """\
TCGA-BRCA read from files in the UCSC Xena layout (see read_tcga_brca):
expression genes x samples, clinical matrix keyed by sampleID, PAM50 call
PAM50Call_RNAseq; ER/PR/HER2 statuses, *_nature2012 columns and survival are
never returned as features (task "overall_survival": vital_status with
days_to_death / days_to_last_followup, in days, as the target). Licence:
TCGA open access (NIH/GDC). Citations: The Cancer Genome Atlas Network, Nature
490:61-70 (2012); Goldman MJ et al., Nat Biotechnol 38:675-678 (2020).
"""


def _read_tsv(source, **kwargs):
    """Read a tab-separated file after checking that no line is cut short."""
    source.check_fields(sep="\t")
    with source.reading():
        return pd.read_csv(source.path, sep="\t", **kwargs)


def _read_clinical(source, required=(SAMPLE_ID, LABEL)):
    """The Xena clinical matrix indexed by its 15-character sampleID."""
    clinical = _read_tsv(source, low_memory=False)
    source.check_columns(
        clinical.columns, required, expected="the UCSC Xena TCGA-BRCA clinical matrix"
    )
    source.check_count(len(clinical), 1, unit="samples")
    clinical[SAMPLE_ID] = clinical[SAMPLE_ID].astype(str).str[:SAMPLE_CHARS]
    return clinical.drop_duplicates(SAMPLE_ID).set_index(SAMPLE_ID)


def _check_barcodes(barcodes, source):
    barcodes = pd.Index(barcodes).astype(str)
    bad = [
        b for b in barcodes if not (b.startswith("TCGA-") and len(b) >= SAMPLE_CHARS)
    ]
    if bad:
        raise source.error(
            f"does not have the expected layout: the sample names must be TCGA "
            f"barcodes of at least 15 characters (TCGA-XX-XXXX-01...), got {bad[:3]}"
        )
    return np.asarray(barcodes)


def _expression(source, genes_x_samples, allow_missing=True):
    """Genes x samples strings -> samples x genes float, refusing non-numbers."""
    expression = source.numeric(
        genes_x_samples.T.reset_index(drop=True),
        "expression values",
        allow_missing=allow_missing,
    )
    expression.columns = [str(c) for c in genes_x_samples.index]
    expression.columns.name = None
    return expression


def _read_er_file(source):
    """(header barcodes, ER class per column, expression columns x genes)."""
    raw = _read_tsv(source, header=None, index_col=0, dtype=str)
    if raw.shape[0] < 3 or not str(raw.index[1]).startswith("class"):
        raise source.error(
            "does not have the expected layout (row 1 the barcodes, row 2 the "
            "class, then one row per gene)"
        )
    header = _check_barcodes(raw.iloc[0].to_numpy(), source)
    er_class = raw.iloc[1].to_numpy().astype(str)
    source.check_values(er_class, ER_CLASSES, "ER classes")
    missing = [g for g in PAM50_GENES if g not in set(raw.index[2:])]
    if missing:
        raise source.error(
            f"lacks {len(missing)} of the {len(PAM50_GENES)} PAM50 genes it should "
            f"hold (e.g. {missing[:3]}): it looks truncated"
        )
    return header, er_class, _expression(source, raw.iloc[2:], allow_missing=False)


def _realign_barcodes(header, er_class, ihc):
    """Barcode of each expression column (None where unknown); see DESCR.

    ``ihc`` is the clinical ER status of each header barcode (NaN if absent).
    If the header already agrees with the classes, it is returned as is.
    Otherwise the columns must be sorted by class, and the header's negative
    (positive) samples are assigned, in order, to the last negative (positive)
    columns.
    """
    ihc = np.asarray(pd.Series(ihc, dtype=object).where(pd.notna(ihc), None))
    known = np.array([v is not None for v in ihc])
    if (ihc[known] == er_class[known]).all():
        return header.astype(object)
    n_negative = int((er_class == "Negative").sum())
    sorted_by_class = (er_class[:n_negative] == "Negative").all()
    negative = header[ihc == "Negative"]
    positive = header[ihc == "Positive"]
    n_extra_negative = n_negative - len(negative)
    n_extra_positive = len(er_class) - n_negative - len(positive)
    if not sorted_by_class or n_extra_negative < 0 or n_extra_positive < 0:
        raise ValueError(
            "The barcodes of the expression file disagree with its ER classes "
            "in a way that cannot be repaired (the known defect of this file is "
            "columns sorted by class under an unsorted header)"
        )
    barcodes = np.full(len(er_class), None, dtype=object)
    barcodes[n_extra_negative:n_negative] = negative
    barcodes[n_negative + n_extra_positive :] = positive
    return barcodes


def _overall_survival(clinical, source):
    """Event (1.0 / 0.0 / NaN) and time (days or NaN) of each sample of ``clinical``.

    Event = death (``vital_status``); time = ``days_to_death`` for the
    deceased, ``days_to_last_followup`` for the living. Unknown (NaN): no
    vital status, a missing time, or a negative time. A living patient with a
    ``days_to_death`` is refused as inconsistent.
    """
    source.check_columns(
        clinical.columns,
        SURVIVAL_COLUMNS,
        expected="the UCSC Xena TCGA-BRCA clinical matrix with its survival columns",
    )
    status = clinical[VITAL_STATUS].astype(object).where(clinical[VITAL_STATUS].notna())
    source.check_values(status, (*ALIVE, *DECEASED), f"values of {VITAL_STATUS!r}")
    days = source.numeric(
        clinical[[DAYS_TO_DEATH, DAYS_TO_FOLLOWUP]].reset_index(drop=True),
        "survival days",
    )
    death = days[DAYS_TO_DEATH].to_numpy()
    followup = days[DAYS_TO_FOLLOWUP].to_numpy()
    dead = status.isin(DECEASED).to_numpy()
    alive = status.isin(ALIVE).to_numpy()
    inconsistent = alive & ~np.isnan(death)
    if inconsistent.any():
        raise source.error(
            f"has samples whose {VITAL_STATUS!r} is living but which have a "
            f"{DAYS_TO_DEATH!r}: {list(clinical.index[inconsistent][:5])} "
            f"({int(inconsistent.sum())} samples)"
        )
    time = np.where(dead, death, np.where(alive, followup, np.nan))
    event = np.where(dead | alive, dead.astype(np.float64), np.nan)
    unknown = np.isnan(time) | (time < 0) | np.isnan(event)
    event[unknown] = np.nan
    time[unknown] = np.nan
    return pd.DataFrame({"event": event, "time": time}, index=clinical.index)


def _survival_rows(survival):
    """(row mask, structured array, field names) of the samples of ``survival``."""
    rows = survival["event"].notna().to_numpy()
    target = Surv.from_arrays(
        event=survival["event"].to_numpy()[rows].astype(bool),
        time=survival["time"].to_numpy(dtype=np.float64)[rows],
        name_event=SURVIVAL_FIELDS[0],
        name_time=SURVIVAL_FIELDS[1],
    )
    return rows, target, np.array(SURVIVAL_FIELDS)


def _frame(data, target):
    """``data`` with the target column(s): ``event`` and ``time`` for survival."""
    if target.dtype.names:
        columns = {name: target[name] for name in target.dtype.names}
    else:
        columns = {"target": target}
    return pd.concat([data, pd.DataFrame(columns, index=data.index)], axis=1)


def _select_task(label, task):
    """(row mask, target, target_names) of a PAM50 task."""
    if task == "pam50":
        rows = label.isin(PAM50_CLASSES).to_numpy()
        return rows, label[rows].to_numpy().astype(object), np.array(PAM50_CLASSES)
    rows = label.isin(["LumA", "LumB", "Basal", "Her2"]).to_numpy()
    target = label[rows].isin(["Basal", "Her2"]).to_numpy().astype(np.int64)
    return rows, target, np.array(["Luminal", "Basal/Her2"])


def _assemble(expression, clinical, task, er_class=None, source=None):
    """Rows of the task: data (patient_id, genes, covariates), target, names.

    ``expression`` is indexed by 15-character sample barcodes; ``source``
    (the clinical matrix's ``_DataFile``) is needed by ``"overall_survival"``.
    """
    if task == "overall_survival":
        survival = _overall_survival(clinical, source).reindex(expression.index)
        rows, target, target_names = _survival_rows(survival)
    elif task == "er_status":
        rows = np.ones(len(expression), dtype=bool)
        target = (er_class == "Positive").astype(np.int64)
        target_names = np.array(ER_CLASSES)
    else:
        label = clinical[LABEL].reindex(expression.index)
        rows, target, target_names = _select_task(label, task)
    expression = expression.loc[rows]
    covariates = [c for c in CLINICAL_COLUMNS if c in clinical.columns]
    samples = expression.index
    data = pd.concat(
        [
            pd.DataFrame(
                {"patient_id": pd.Series(samples.str[:PATIENT_CHARS], dtype=object)}
            ),
            expression.astype(np.float64).reset_index(drop=True),
            clinical[covariates].reindex(samples).reset_index(drop=True),
        ],
        axis=1,
    ).copy()
    feature_groups = {"genes": list(expression.columns)}
    if covariates:
        feature_groups["clinical"] = covariates
    return data, target, target_names, feature_groups, np.asarray(samples, dtype=object)


def load_tcga_brca_pam50(*, data_home=None, task="pam50", return_X_y=False):
    """Load TCGA-BRCA: expression of the PAM50 genes + clinical covariates.

    =================   ==============================================
    Tumours             991 with a known barcode; 759 (pam50), 744
                        (luminal_vs_basal_her2), 991 (er_status) or
                        990 (overall_survival)
    Classes             5 (pam50) or 2
    Survival events     129 deaths, 861 censored (overall_survival)
    Genes               49 PAM50 genes, log2 expression, float
    Clinical            7 baseline covariates (no receptor status)
    =================   ==============================================

    Read from ``<data_home>/tcga_brca_pam50genes/``; nothing is downloaded.
    The header of the expression file is shifted with respect to its columns;
    the loader repairs the pairing and drops the 45 columns of unknown
    barcode (see ``DESCR``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data sets; see :func:`get_data_home`.
    task : {"pam50", "luminal_vs_basal_her2", "er_status", \
            "overall_survival"}, default="pam50"
        ``"pam50"``: tumours with a PAM50 call (``PAM50Call_RNAseq``), target
        = LumA, LumB, Basal, Her2 or Normal. ``"luminal_vs_basal_her2"``:
        tumours called LumA, LumB, Basal or Her2, target 1 = Basal/Her2, 0 =
        Luminal. ``"er_status"``: all tumours, target 1 = ER positive (IHC).
        ``"overall_survival"``: tumours with a known overall survival, target
        = scikit-survival structured array: ``event`` (bool) = death
        (``vital_status`` "DECEASED"), ``time`` (float) in **days** from the
        initial diagnosis to the death (``days_to_death``) or to the last
        follow-up of the living (``days_to_last_followup``). Tumours without
        a vital status, a deceased one without ``days_to_death`` and negative
        times are dropped (one tumour, of follow-up -31 days, in the
        published files).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            ``patient_id`` (12-character barcode) first, then the 49 genes,
            then the 7 clinical covariates (as published).
        target : ndarray of shape (n_samples,)
            Subtype strings for ``"pam50"``, a structured array with fields
            ``event`` (bool) and ``time`` (float, days) for
            ``"overall_survival"`` (as made by
            :meth:`sksurv.util.Surv.from_arrays`), int 0/1 otherwise.
        target_names : ndarray of str
            The five subtypes, ``["Luminal", "Basal/Her2"]``,
            ``["Negative", "Positive"]`` or the fields ``["event", "time"]``.
        groups : ndarray of str
            ``patient_id`` of each row (one tumour per patient).
        sample_ids : ndarray of str
            15-character sample barcode of each row (key of the clinical
            matrix).
        feature_groups : dict
            ``{"genes": [...], "clinical": [...]}``.
        frame : DataFrame
            ``data`` with a ``target`` column (``event`` and ``time`` columns
            for ``"overall_survival"``).
        DESCR : str
            Description with provenance, the barcode repair, licence and
            citations.
        filenames : dict
            Paths of the ``"expression"`` and ``"clinical"`` files read.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to obtain it.
    ValueError
        If ``task`` is unknown, or a file is damaged (a ``DataFileError``,
        whose message names the file, what was expected and where to obtain
        it again): empty, a line cut short, not the expected layout, a PAM50
        gene missing, an expression value that is not a number, or a clinical
        matrix lacking samples of the expression file; for
        ``"overall_survival"``, also a clinical matrix lacking
        ``vital_status``, ``days_to_death`` or ``days_to_last_followup``,
        holding an unknown vital status or a non-numeric time, or a living
        patient with a ``days_to_death``. Copies other than the published
        files the loader knows by checksum are checked this way.

    Examples
    --------
    >>> from skmultimodal.datasets import load_tcga_brca_pam50
    >>> X, y = load_tcga_brca_pam50(task="overall_survival",
    ...                             return_X_y=True)  # doctest: +SKIP
    >>> int(y["event"].sum()), len(y)  # doctest: +SKIP
    (129, 990)
    """
    _check_option(task, "task", TASKS)
    _check_bool(return_X_y, "return_X_y")
    folder = get_data_home(data_home) / FOLDER
    expression_path, clinical_path = _require_files(
        folder,
        [EXPRESSION_FILE, CLINICAL_FILE],
        "TCGA-BRCA PAM50",
        how_to_get=HOW_TO_GET,
    )
    header, er_class, expression = _read_er_file(
        _DataFile(
            expression_path, "TCGA-BRCA expression file", HOW_TO_GET,
            sha256=EXPRESSION_SHA256,
        )
    )
    clinical_source = _DataFile(
        clinical_path, "TCGA-BRCA clinical matrix", HOW_TO_GET, sha256=CLINICAL_SHA256
    )
    required = (SAMPLE_ID, LABEL, ER_IHC)
    if task == "overall_survival":
        required += SURVIVAL_COLUMNS
    clinical = _read_clinical(clinical_source, required=required)
    samples = pd.Index([b[:SAMPLE_CHARS] for b in header])
    absent = samples.difference(clinical.index)
    if len(absent):
        raise clinical_source.error(
            f"lacks {len(absent):,} of the {len(samples):,} samples of "
            f"{EXPRESSION_FILE} (e.g. {list(absent[:3])}): it looks truncated"
        )
    ihc = clinical[ER_IHC].reindex(samples).to_numpy()
    barcodes = _realign_barcodes(header, er_class, ihc)

    known = np.array([b is not None for b in barcodes])
    expression = expression.loc[known]
    expression.index = pd.Index([b[:SAMPLE_CHARS] for b in barcodes[known]])
    data, target, target_names, feature_groups, samples = _assemble(
        expression, clinical, task, er_class=er_class[known], source=clinical_source
    )

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        groups=data["patient_id"].to_numpy(),
        sample_ids=samples,
        feature_groups=feature_groups,
        frame=_frame(data, target),
        DESCR=DESCR,
        filenames={"expression": str(expression_path), "clinical": str(clinical_path)},
    )


def _read_xena_expression(source, genes, sample_types):
    """Xena genes x samples matrix -> samples (15-char index) x genes, float."""
    raw = _read_tsv(source, index_col=0)
    source.check_count(len(raw), 1, unit="gene rows")
    raw.index = raw.index.astype(str)
    raw = raw[~raw.index.duplicated()]
    if genes is not None:
        genes = [genes] if isinstance(genes, str) else list(genes)
        missing = [g for g in genes if g not in raw.index]
        if missing:
            raise ValueError(
                f"genes not in {source.path.name}: {missing[:10]}"
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
        raw = raw.loc[genes]
    barcodes = _check_barcodes(raw.columns, source)
    expression = _expression(source, raw)
    expression.index = pd.Index([b[:SAMPLE_CHARS] for b in barcodes])
    expression = expression[~expression.index.duplicated()]
    keep = expression.index.str[13:SAMPLE_CHARS].isin(sample_types)
    return expression.loc[keep]


def _patient_tiles(data, tiles_dir):
    """Sorted tile paths of each patient of ``data`` (an empty list if none)."""
    tiles_dir = Path(tiles_dir)
    if not tiles_dir.is_dir():
        raise FileNotFoundError(f"tiles_dir '{tiles_dir}' is not a folder")
    per_patient = []
    for patient in data["patient_id"]:
        folder = tiles_dir / patient
        tiles = (
            sorted(
                p for p in folder.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if folder.is_dir()
            else []
        )
        per_patient.append([str(p.resolve()) for p in tiles])
    if not any(per_patient):
        raise ValueError(
            f"No tile found in '{tiles_dir}' for the {len(data)} patients of the "
            f"table: expected tiles_dir/<12-character barcode, e.g. "
            f"{data['patient_id'].iloc[0] if len(data) else 'TCGA-A1-A0SB'}>/"
            f"*.png|jpg|tif"
        )
    return per_patient


def _tile_rows(data, tiles_dir):
    """One row per tile: (row index into data, tile path), and patients without."""
    per_patient = _patient_tiles(data, tiles_dir)
    rows = [i for i, tiles in enumerate(per_patient) for _ in tiles]
    paths = [path for tiles in per_patient for path in tiles]
    without = [p for p, tiles in zip(data["patient_id"], per_patient) if not tiles]
    return np.asarray(rows, dtype=np.intp), paths, without


def read_tcga_brca(
    expression_path,
    clinical_path,
    tiles_dir=None,
    *,
    task="pam50",
    genes=None,
    sample_types=("01",),
    tiles="rows",
    return_X_y=False,
):
    """Read TCGA-BRCA expression, PAM50 calls and optional image tiles (Xena layout).

    For users with the full TCGA files, e.g. the UCSC Xena ``HiSeqV2`` gene
    expression matrix and ``BRCA_clinicalMatrix``, plus tiles cut from the
    diagnostic slides (GDC).

    Parameters
    ----------
    expression_path : str or path-like
        Tab-separated genes x samples matrix: first column the gene symbols
        (its header cell is ignored, ``sample`` in Xena), header row the TCGA
        barcodes (15 characters or longer; only the first 15 are used, the
        first column of a repeated sample is kept). May be gzipped.
    clinical_path : str or path-like
        Tab-separated clinical matrix with the columns ``sampleID``
        (15-character barcode) and ``PAM50Call_RNAseq``; the covariates
        age_at_initial_pathologic_diagnosis, pathologic_stage, pathologic_T,
        pathologic_N, pathologic_M, histological_type and menopause_status
        are added when present.
    tiles_dir : str or path-like, default=None
        Folder with one sub-folder per patient, named by the 12-character
        barcode (``TCGA-A1-A0SB``), holding image tiles (.png, .jpg, .jpeg,
        .tif, .tiff), read in the order of their sorted paths. How they are
        returned is set by ``tiles``.
    task : {"pam50", "luminal_vs_basal_her2", "overall_survival"}, \
            default="pam50"
        As in :func:`load_tcga_brca_pam50`: the 5 PAM50 calls (strings),
        1 = Basal/Her2 vs 0 = Luminal (LumA + LumB), or the overall survival
        as a scikit-survival structured array (``event`` = death from
        ``vital_status``, DECEASED/Dead or LIVING/Alive; ``time`` in days,
        ``days_to_death`` or ``days_to_last_followup``; samples of unknown
        or negative time dropped). ``clinical_path`` must then have these
        three columns.
    genes : list of str, default=None
        Gene symbols to keep, in this order; all genes if None.
    sample_types : sequence of str, default=("01",)
        TCGA sample-type codes (characters 14-15 of the barcode) to keep.
        ``"01"`` is the primary tumour; Xena also calls a PAM50 subtype for
        solid-tissue normals (``"11"``, mostly "Normal"), which would blur the
        Normal class.
    tiles : {"rows", "bag"}, default="rows"
        How the tiles of ``tiles_dir`` are returned (only with ``tiles_dir``).
        ``"rows"``: one row per tile, with its path in column ``image_path``
        and the patient's genes and covariates; patients without tiles are
        left out. ``"bag"``: one row per patient (as without ``tiles_dir``),
        with the list of the patient's tile paths in column ``tiles`` (a bag
        for multiple-instance learning); a patient without tiles keeps the
        row, with None in ``tiles``. Either way the patients without tiles
        are listed in ``patients_without_tiles``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame
            ``patient_id`` (12 characters), ``image_path`` (with
            ``tiles_dir`` and ``tiles="rows"``) or ``tiles`` (object column
            of lists of str or None, with ``tiles_dir`` and
            ``tiles="bag"``), the genes, then the covariates present.
        target : ndarray of shape (n_samples,)
            Subtype strings, int 0/1, or a structured array with fields
            ``event`` (bool) and ``time`` (float, days) for
            ``"overall_survival"``.
        target_names : ndarray of str
            The names of the classes of ``task``, or the fields
            ``["event", "time"]``.
        groups : ndarray of str
            ``patient_id`` of each row: with ``tiles="rows"``, a patient has
            many rows.
        sample_ids : ndarray of str
            15-character sample barcode of each row.
        feature_groups : dict
            ``{"genes": [...], "clinical": [...]}``, with ``"image":
            ["image_path"]`` (or ``["tiles"]`` with ``tiles="bag"``) first
            when ``tiles_dir`` is given.
        patients_without_tiles : list of str
            Only with ``tiles_dir``.
        frame : DataFrame
            ``data`` with a ``target`` column (``event`` and ``time`` columns
            for ``"overall_survival"``).
        DESCR : str
            Description of the layout read, licence and citations.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If a file or ``tiles_dir`` is missing.
    ValueError
        If ``task`` or ``tiles`` is invalid (``tiles="bag"`` without
        ``tiles_dir`` included), a file does not have the expected layout, a
        gene is unknown, no sample has a label, or no tile is found; a ``DataFileError`` if a
        file is empty, has a line cut short (or a gzip stream cut short) or
        holds an expression value that is not a number.
    """
    _check_option(task, "task", READER_TASKS)
    _check_option(tiles, "tiles", TILE_LAYOUTS)
    if tiles == "bag" and tiles_dir is None:
        raise ValueError(
            'tiles="bag" puts the tiles of tiles_dir in one cell per patient: '
            "give tiles_dir"
        )
    _check_bool(return_X_y, "return_X_y")
    if isinstance(sample_types, str):
        sample_types = (sample_types,)
    sample_types = tuple(sample_types)
    for path in (expression_path, clinical_path):
        path = Path(path)
        _require_files(path.parent, [path.name], "TCGA-BRCA", from_data_home=False)

    expression = _read_xena_expression(
        _DataFile(expression_path, "TCGA-BRCA expression file", READER_HOW_TO_GET),
        genes,
        sample_types,
    )
    clinical_source = _DataFile(
        clinical_path, "TCGA-BRCA clinical matrix", READER_HOW_TO_GET
    )
    required = (SAMPLE_ID, LABEL)
    if task == "overall_survival":
        required += SURVIVAL_COLUMNS
    clinical = _read_clinical(clinical_source, required=required)
    data, target, target_names, feature_groups, samples = _assemble(
        expression, clinical, task, source=clinical_source
    )
    if not len(data):
        what = (
            "a known overall survival" if task == "overall_survival"
            else f"a PAM50 call for task {task!r}"
        )
        raise ValueError(
            f"No sample of type {sample_types} in {Path(expression_path).name} has "
            f"{what} in {Path(clinical_path).name}"
        )
    groups = data["patient_id"].to_numpy()
    extra = {}
    if tiles_dir is not None and tiles == "bag":
        per_patient = _patient_tiles(data, tiles_dir)
        bags = _object_column(per_patient)
        bags[[not paths for paths in per_patient]] = None
        data.insert(1, "tiles", pd.Series(bags, dtype=object))
        feature_groups = {"image": ["tiles"], **feature_groups}
        extra["patients_without_tiles"] = [
            p for p, paths in zip(data["patient_id"], per_patient) if not paths
        ]
    elif tiles_dir is not None:
        rows, paths, without = _tile_rows(data, tiles_dir)
        data = data.iloc[rows].reset_index(drop=True)
        data.insert(1, "image_path", pd.Series(paths, dtype=object))
        target, samples, groups = target[rows], samples[rows], groups[rows]
        feature_groups = {"image": ["image_path"], **feature_groups}
        extra["patients_without_tiles"] = without

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        groups=groups,
        sample_ids=samples,
        feature_groups=feature_groups,
        frame=_frame(data, target),
        DESCR=READER_DESCR,
        **extra,
    )
