"""The two markdown reports of notebook 15: ``leaderboard.md`` and ``claims.md``.

Each starts with what made it (the notebook command and the training command of its
runs), the runs folder, the data size and the devices, so a table is never separated
from its provenance.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pandas as pd

from dflib.study.claims import LEVEL_TOL, claim_runs, plan_command, verdict_counts
from dflib.study.claims_plan import PREFIX
from dflib.study.leaderboard import provenance, write_leaderboard

__all__ = [
    "notebook_command",
    "training_command",
    "write_claims",
    "write_leaderboard",
    "write_reports",
]


def notebook_command(notebook: str, out: str = "out.ipynb", **parameters) -> str:
    """``papermill <notebook> <out> -p name value ...`` for the given parameters."""
    args = ["papermill", notebook, out]
    for name, value in parameters.items():
        args += ["-p", name, str(value)]
    return shlex.join(args)


def training_command(runs_dir=None, prefix: str = PREFIX) -> str:
    """The ``scripts/claims_runs.py`` command that makes the claims runs of ``runs_dir``
    at the size they were trained at (the most common one)."""
    _, setting = claim_runs(runs_dir, prefix)
    return plan_command(setting, runs_dir)


def write_claims(path, frame: pd.DataFrame, runs_dir, command: str, prefix: str = PREFIX) -> Path:
    """``claims.md``: provenance, the verdict rule, and one row per finding."""
    table, _ = claim_runs(runs_dir, prefix)
    counts = verdict_counts(frame)
    text = "\n".join([
        "# The write-ups' findings (docs/writeups.md#findings): reproduced, refuted or inconclusive", "",
        *provenance(table, runs_dir, command), "",
        "Rule: one seed decides nothing (*inconclusive*); a comparison pairs each seed's runs "
        "and must differ by more than the seed spread (sd of the per-seed differences); a "
        f"reported level is met within {LEVEL_TOL}; a ranking is scored by Kendall's tau per "
        "seed (reproduced when the mean scores keep the whole order and the tau's mean exceeds "
        "its spread, refuted when the seeds agree on another order). Scores are F1 of the "
        "fake class at 0.5.", "",
        "Regimes: each row names the regime the write-up reported in (*reported_at*: its "
        "recipe's image size and epochs on its 50,000 images) and the regime of the runs "
        "measured (*measured_at*). A level is judged only by runs at its image size, with at "
        "least its epochs, on the full benchmark; otherwise it is *not comparable* and the "
        "level measured in the other regime is shown as information. A comparison, a "
        "ranking or the threshold gain is decided in the most trained regime measured and "
        "its verdict names it (*refuted at 64 px / 3 epochs*).", "",
        "Verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".", "",
        frame.assign(command=frame["command"].map(lambda c: f"`{c}`")).to_markdown(index=False),
        "",
    ])  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_reports(
    reports_dir: str | os.PathLike,
    table: pd.DataFrame,
    frame: pd.DataFrame,
    runs_dir,
    command: str,
    prefix: str = PREFIX,
) -> list[Path]:
    """Both files into ``reports_dir`` (resolved against the project root); ``""``
    writes nothing and returns ``[]``."""
    from dflib.environment import resolve_path

    if not reports_dir:
        return []
    root = resolve_path(reports_dir)
    return [write_leaderboard(root / "leaderboard.md", table, runs_dir, command),
            write_claims(root / "claims.md", frame, runs_dir, command, prefix)]  # fmt: skip
