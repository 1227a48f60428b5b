"""The run ledger ``reports/runs/`` (``dflib.train.ledger``): add run folders, import an archive.

    python scripts/ledger.py add runs/claims-arch-freqnet-s42 runs/demo-freqnet   # entries from run folders
    python scripts/ledger.py import claims_runs*.tar.gz                           # archives a GPU machine returned
    python scripts/ledger.py pack out.tar.gz runs/claims-*                        # entries of run folders, one archive

An entry holds a finished run's params.json, metrics.json, history.csv, environment.json
and gzipped predictions, never weights. An archive member that is not a ledger file, or
that could write outside the ledger (absolute path, ``..``, a link), refuses the archive.
Then ``make results`` re-renders reports/leaderboard.md and reports/claims.md from the ledger.
"""

from __future__ import annotations

import argparse
import sys

from dflib.environment import resolve_path
from dflib.train.ledger import LEDGER, LedgerError, import_archive, write_archive, write_entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", default=LEDGER, help="the ledger folder (default: %(default)s)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="write the ledger entries of finished run folders")
    add.add_argument("runs", nargs="+", help="run folders")
    imp = sub.add_parser("import", help="unpack .tar.gz files of ledger entries into the ledger")
    imp.add_argument("archives", nargs="+", help=".tar.gz files written by claims_runs.py "
                     "--export (one per process with --jobs) or pack")  # fmt: skip
    pack = sub.add_parser("pack", help="one .tar.gz of the ledger entries of run folders")
    pack.add_argument("archive", help="the .tar.gz to write")
    pack.add_argument("runs", nargs="+", help="run folders")
    args = parser.parse_args(argv)
    try:
        if args.action == "add":
            for run in args.runs:
                print(f"{run} -> {write_entry(resolve_path(run), args.ledger)}")
        elif args.action == "import":
            for archive in args.archives:
                names = import_archive(resolve_path(archive), args.ledger)
                print(f"{archive}: imported {len(names)} entries into {args.ledger}: "
                      f"{', '.join(names)}")  # fmt: skip
        else:
            path = write_archive([resolve_path(r) for r in args.runs], resolve_path(args.archive))
            print(f"wrote {path}")
    except (LedgerError, FileNotFoundError) as error:
        print(f"ledger: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
