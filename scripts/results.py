"""Re-make reports/leaderboard.md, reports/claims.md and reports/training.md from the run ledger alone (``make results``).

The same functions as notebook 15 (``dflib.study.leaderboard``, ``dflib.study.claims``)
read ``reports/runs/`` (``dflib.train.runs``): only the
entries' small files, so a clean clone with no ``runs/`` re-makes both tables. They are
headed by this command and the runs' training command; the runs folder is printed
relative to the project root and the date and machine only in one header line, so two
machines write the same tables. ``training.md`` is the table of the ledger's ``table-<arch>``
runs (``dflib.study.leaderboard``), re-made when the ledger holds them; the leaderboard
holds the claims runs only, so the table's runs (same settings as the claims' seed-42 arch
runs) are not counted twice. ``learning_curves.png`` draws every architecture's validation
AUC per epoch in the converged regime (the campaign's; ``make campaign``).

    python scripts/results.py                      # = make results
    python scripts/results.py --runs runs --out /tmp/reports   # from a runs folder instead
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from dflib.environment import resolve_path
from dflib.study.claims import (
    CURVES_FILE,
    PREFIX,
    claim_runs,
    claims,
    training_command,
    write_reports,
)
from dflib.study.leaderboard import leaderboard, runs_command, table_runs, write_table
from dflib.train.runs import LEDGER, finished_runs
from dflib.viz.leaderboard import converged_curves
from dflib.viz.plotting import save

DEFAULTS = {"runs": LEDGER, "out": "reports", "include": f"{PREFIX}-*", "prefix": PREFIX}


def command_of(args: argparse.Namespace) -> str:
    """``make results``, or the script's own command when options differ from it."""
    changed = [(k, getattr(args, k)) for k in DEFAULTS if getattr(args, k) != DEFAULTS[k]]
    if not changed:
        return "make results"
    flags = [x for k, v in changed for x in (f"--{k}", str(v))]
    return shlex.join(["python", "scripts/results.py", *flags])


def write_curves(runs, prefix: str, out: Path) -> Path:
    """``learning_curves.png``: every architecture's validation AUC per epoch in the
    converged regime, the 3-epoch regime's end marked (no timestamp in the file, so the
    same runs give the same bytes)."""
    fig = converged_curves(claim_runs(runs, prefix)[0], runs)
    path = save(fig, out / CURVES_FILE, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULTS["runs"], help="ledger or runs folder")
    parser.add_argument("--out", default=DEFAULTS["out"], help="where the two .md files go")
    parser.add_argument("--include", default=DEFAULTS["include"],
                        help="leaderboard run-name globs ('': all)")  # fmt: skip
    parser.add_argument("--prefix", default=PREFIX, help="the claims runs' plan prefix")
    parser.add_argument("--allow-empty", action="store_true",
                        help="write the tables even when the folder holds no finished run")  # fmt: skip
    args = parser.parse_args(argv)
    if not finished_runs(args.runs) and not args.allow_empty:
        print(f"results: no finished run in {args.runs}; nothing written (an empty table would "
              "replace the committed results). Import the runs first (python scripts/ledger.py "
              "import FILE.tar.gz, or add RUN_DIR), or pass --allow-empty.", file=sys.stderr)  # fmt: skip
        return 1
    table = leaderboard(args.runs, include=args.include)
    frame = claims(args.runs, args.prefix)
    command = "\n".join([command_of(args),
                         "# the runs: " + training_command(args.runs, args.prefix)])  # fmt: skip
    for path in write_reports(args.out, table, frame, args.runs, command, args.prefix):
        print(f"wrote {path}")
    if args.out:
        print(f"wrote {write_curves(args.runs, args.prefix, resolve_path(args.out))}")
    trained = table_runs(args.runs)
    if trained:
        command = "\n".join([command_of(args), "# the runs: " + runs_command(trained)])
        write_table(trained, command, f"{args.out}/training.md")
        print(f"wrote {args.out}/training.md ({len(trained)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
