"""Command-line interface: ``skmultimodal <command>`` or ``python -m skmultimodal <command>``.

Commands
--------
demo
    Cross-validate unimodal and fusion models on synthetic data (and on
    BreastMNIST and METABRIC when found), print a results table and write it
    with ROC and precision-recall curves to an output folder.
reproduce
    Rerun the protocol of study1, study2 or study3 (PAPERS.md) on the public
    stand-in data (or, with ``--source original``, on the studies' own data)
    and write its results table and ROC / precision-recall curves.

Both check the output folder before any work: an existing file, a folder that
cannot be created or written, or a folder already holding results files the
command would write (unless ``--overwrite``) stop them at once.

Errors
------
Errors a user can act on (bad arguments, missing or malformed data, an
unusable output folder, a missing optional package: ``ValueError``,
``KeyError``, ``OSError`` and its subclasses, ``ImportError``) print one line,
``skmultimodal: error: <message>``, on stderr and exit with status 2, as
argparse does for bad arguments. Other exceptions are bugs: they keep their
traceback. ``--debug`` (or the environment variable ``SKMULTIMODAL_DEBUG=1``)
shows the traceback of every error. Ctrl-C prints ``skmultimodal: interrupted``
and exits with status 130.
"""

import argparse
import os
import sys

from . import __version__


def _add_demo_parser(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="run the demo: baselines and fusion, results table and curves",
        description=(
            "Cross-validate ImageClassifier, TabularMLPClassifier, logistic regression, "
            "early fusion (ImageEmbedder in a ColumnTransformer) and, when available, "
            "intermediate fusion on synthetic image + tabular data with patient-grouped "
            "folds; add BreastMNIST (train -> test split) and METABRIC (Luminal vs "
            "Basal/Her2, genes) when those data sets are found. Writes results.csv, "
            "results.md and ROC / precision-recall curves (PNG) to the output folder."
        ),
    )
    parser.add_argument(
        "--output-dir", "--output", default="skmultimodal-results", metavar="DIR",
        help="folder receiving the results (default: %(default)s)",
    )
    _add_common_flags(parser)
    parser.add_argument(
        "--quick", action="store_true",
        help="small data, few epochs and 3 folds (a minute or two on a CPU)",
    )
    parser.add_argument(
        "--data-home", default=None, metavar="DIR",
        help="folder holding the public data sets (default: $SKMULTIMODAL_DATA, "
             "else ~/skmultimodal_data)",
    )
    parser.add_argument(
        "--random-state", type=int, default=0, metavar="N",
        help="seed of the data, the splits and the networks (default: %(default)s)",
    )
    parser.add_argument(
        "--synthetic-only", action="store_true",
        help="do not look for the public data sets",
    )
    parser.add_argument(
        "--threads", type=int, default=1, metavar="N",
        help="torch CPU threads; 0 keeps torch's choice (default: %(default)s: the "
             "demo's networks are small, and more threads than free cores slow "
             "torch down many times over on a busy machine)",
    )
    parser.set_defaults(func=_run_demo, _parser=parser)
    return parser


def _add_common_flags(parser):
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace the results files of an earlier run found in the output folder "
             "(default: refuse, before any work)",
    )
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS,
        help="show the traceback of errors (also: SKMULTIMODAL_DEBUG=1)",
    )


def _run_demo(args):
    import torch

    from ._demo import run_demo

    if args.threads < 0:
        args._parser.error("--threads must be 0 (torch's choice) or a positive integer")
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        run_demo(
            args.output_dir,
            quick=args.quick,
            data_home=args.data_home,
            random_state=args.random_state,
            real_data=not args.synthetic_only,
            overwrite=args.overwrite,
        )
    finally:
        torch.set_num_threads(threads)
    return 0


_STUDIES = ("study1", "study2", "study3")


def _add_reproduce_parser(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="rerun a study's protocol: models, baselines, ablations, curves",
        description=(
            "Cross-validate the models, unimodal baselines and ablations of one of the "
            "three studies with its metrics: study1 (cross-attention fusion, Luminal vs "
            "Basal/Her2; stand-in data METABRIC and TCGA-BRCA PAM50 genes + clinical), "
            "study2 (intermediate fusion; stand-in data BUSI 3 classes and "
            "BrEaST-Lesions-USG ultrasound + clinical), study3 (attention CNNs + "
            "stacking; stand-in data BrEaST-Lesions-USG ultrasound only). Writes "
            "results.csv, results.md and ROC / precision-recall curves (PNG)."
        ),
    )
    parser.add_argument("study", choices=_STUDIES, help="which study to reproduce")
    parser.add_argument(
        "--quick", action="store_true",
        help="subsampled data, 3 folds, 2-3 epochs, 32-pixel images (about a minute)",
    )
    parser.add_argument(
        "--output-dir", "--output", default=None, metavar="DIR",
        help="folder receiving the results (default: skmultimodal-results/<study>)",
    )
    _add_common_flags(parser)
    parser.add_argument(
        "--data-home", default=None, metavar="DIR",
        help="folder holding the public data sets (default: $SKMULTIMODAL_DATA, "
             "else ~/skmultimodal_data)",
    )
    parser.add_argument(
        "--random-state", type=int, default=0, metavar="N",
        help="seed of the subsample, the folds and the networks (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, metavar="N",
        help="torch CPU threads; 0 keeps torch's choice (default: %(default)s)",
    )
    parser.add_argument(
        "--weights", default=None, metavar="NAME_OR_PATH",
        help="initial weights of the ResNets: a torchvision weights name or a local "
             "state dict (default: random initialisation)",
    )
    original = parser.add_argument_group(
        "original data", "the studies' own data, read instead of the public stand-ins"
    )
    original.add_argument(
        "--source", choices=("public", "original"), default="public",
        help="public stand-in data or the original data given by the paths below "
             "(default: %(default)s)",
    )
    original.add_argument("--expression", metavar="FILE",
                          help="study1: genes x samples expression matrix (Xena layout)")
    original.add_argument("--clinical", metavar="FILE",
                          help="study1: clinical matrix with sampleID, PAM50Call_RNAseq")
    original.add_argument("--tiles", metavar="DIR",
                          help="study1: folder of histology tiles, one sub-folder per "
                               "patient barcode; each patient's tiles are one bag "
                               "(multiple-instance learning, patient-level evaluation)")
    original.add_argument("--brecahad", metavar="ROOT",
                          help="study2: BreCaHAD root (images/*.tif, groundTruth/*.json)")
    original.add_argument("--patch-size", type=int, default=64, metavar="N",
                          help="study2: side of the BreCaHAD patches (default: "
                               "%(default)s)")
    original.add_argument("--ehr", metavar="TABLE",
                          help="study2: EHR table, one row per patient, with a label "
                               "column; patches are paired with rows of their class")
    original.add_argument("--table", metavar="TABLE",
                          help="study3: table of image paths (ultrasound and/or "
                               "mammography) with a label column")
    original.add_argument("--label-column", default="label", metavar="COL",
                          help="label column of --ehr / --table (default: %(default)s)")
    original.add_argument("--group-column", default=None, metavar="COL",
                          help="study3: patient column of --table (default: patient_id "
                               "when present)")
    original.add_argument("--us-column", default="us_path", metavar="COL",
                          help="study3: ultrasound path column (default: %(default)s)")
    original.add_argument("--mammo-column", default="mammo_path", metavar="COL",
                          help="study3: mammogram path column (default: %(default)s)")
    parser.set_defaults(func=_run_reproduce, _parser=parser)
    return parser


def _run_reproduce(args):
    import torch

    from ._reproduce import check_original_args, run_reproduce

    parser = args._parser
    paths = dict(expression=args.expression, clinical=args.clinical, tiles=args.tiles,
                 brecahad=args.brecahad, ehr=args.ehr, table=args.table)
    try:
        check_original_args(args.study, args.source, **paths)
    except ValueError as exc:
        parser.error(str(exc))
    if args.threads < 0:
        parser.error("--threads must be 0 (torch's choice) or a positive integer")
    if args.patch_size < 2:
        parser.error("--patch-size must be at least 2")
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        run_reproduce(
            args.study, args.output_dir, quick=args.quick, data_home=args.data_home,
            random_state=args.random_state, source=args.source,
            patch_size=args.patch_size, label_column=args.label_column,
            group_column=args.group_column, us_column=args.us_column,
            mammo_column=args.mammo_column, weights=args.weights,
            overwrite=args.overwrite, **paths,
        )
    finally:
        torch.set_num_threads(threads)
    return 0


def build_parser():
    """Return the argument parser of the ``skmultimodal`` command."""
    parser = argparse.ArgumentParser(
        prog="skmultimodal",
        description="Multimodal deep learning for breast-cancer data, scikit-learn style.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true",
        help="show the traceback of errors (also: SKMULTIMODAL_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo_parser(subparsers)
    _add_reproduce_parser(subparsers)
    return parser


#: Exceptions reported as one line: bad input or data, an unusable output
#: folder, a missing optional package. Others are bugs and keep their traceback.
USER_ERRORS = (ValueError, KeyError, OSError, ImportError)


def _one_line(exc):
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        message = str(exc.args[0])  # str(KeyError) quotes its message
    else:
        message = str(exc)
    message = " ".join(message.split()) or type(exc).__name__
    if isinstance(exc, KeyError) and len(exc.args) == 1 and " " not in message:
        message = f"missing key or column {message!r}"
    return message


def _debug(args):
    return (getattr(args, "debug", False)
            or os.environ.get("SKMULTIMODAL_DEBUG", "") not in ("", "0"))


def main(argv=None):
    """Entry point of the ``skmultimodal`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 2 after printing ``skmultimodal: error: <message>``
        on stderr for an error the user can act on (:data:`USER_ERRORS`), 130
        when interrupted. Bad arguments exit with status 2 (``SystemExit``),
        as argparse does; ``--debug`` raises the errors instead.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        if _debug(args):
            raise
        print(f"{parser.prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if _debug(args):
            raise
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
