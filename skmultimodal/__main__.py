"""Command-line interface: ``skmultimodal <command>`` or ``python -m skmultimodal <command>``.

Commands
--------
demo
    Cross-validate unimodal and fusion models on synthetic data (and on
    BreastMNIST and METABRIC when found), print a results table and write it
    with ROC and precision-recall curves to an output folder.
"""

import argparse
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
        "--output-dir", default="skmultimodal-results", metavar="DIR",
        help="folder receiving the results (default: %(default)s)",
    )
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
    parser.set_defaults(func=_run_demo)
    return parser


def _run_demo(args):
    from ._demo import run_demo

    import torch

    if args.threads < 0:
        raise SystemExit("--threads must be 0 (torch's choice) or a positive integer")
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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo_parser(subparsers)
    return parser


def main(argv=None):
    """Entry point of the ``skmultimodal`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
