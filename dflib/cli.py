"""Command line: ``python -m dflib <command>`` (or ``dflib <command>`` once installed).

Commands:
    generate   build (or reuse) the embedded benchmark and print its folder
    inspect    load a data folder, print class counts, weights and the skip report
"""

from __future__ import annotations

import argparse
import sys


def _generate(args: argparse.Namespace) -> int:
    from dflib import synthetic

    root = synthetic.ensure_dataset(args.size, workers=args.workers)
    print(root)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    import numpy as np

    from dflib import data

    train = data.load_split(
        args.data_dir, "train", synthetic_size=args.size, labels_csv=args.labels_csv
    )
    counts = data.class_counts(train.labels)
    print(f"{train.root}: {len(train):,} training images, real {counts[0]:,} / fake {counts[1]:,}")
    print(
        "class weights total / (2 * count):", np.round(data.class_weights(train.labels), 4).tolist()
    )
    test = data.load_test_if_present(args.data_dir, synthetic_size=args.size)
    print(f"test images: {len(test):,}" if test is not None else "test images: no test folder")
    print(train.report.summary())
    if args.report:
        print("skip report written to", train.report.save(args.report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dflib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="build the embedded benchmark")
    generate.add_argument("--size", default="full", help="full, smoke or tiny (default full)")
    generate.add_argument(
        "--workers", type=int, default=None, help="processes (default: all cores)"
    )
    generate.set_defaults(run=_generate)
    inspect = commands.add_parser("inspect", help="check a data folder and report skipped files")
    inspect.add_argument("--data-dir", default="synthetic", help="data folder, or 'synthetic'")
    inspect.add_argument("--size", default="full", help="benchmark size when --data-dir synthetic")
    inspect.add_argument("--labels-csv", default=None, help="labels CSV name if not detected")
    inspect.add_argument("--report", default=None, help="write the skip report to this CSV")
    inspect.set_defaults(run=_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported after parsing: ``--help`` and usage errors must not wait for pandas.
    from dflib.data import DataError

    try:
        return args.run(args)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
