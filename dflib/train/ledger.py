"""The run ledger: the small files of every run a report cites, kept in the repository.

``reports/runs/<run-name>/`` holds a finished run folder's ``params.json``,
``metrics.json``, ``history.csv``, ``environment.json`` and its predictions gzipped
(``predictions_val.csv.gz``, ``predictions_test.csv.gz``); never weights, figures or
caches. A ledger entry *is* a finished run folder for every reader of small files
(:class:`~dflib.train.runs.RunFolder` finds either predictions name,
:func:`~dflib.train.runs.is_finished` asks for no weights), so the leaderboard and the
claims read ``reports/runs`` exactly as they read ``runs/`` (``make results``).

``params.json`` is copied as it was written (it keeps ``data_dir`` and the ``cache``
path of the machine that trained): the reports never print either.

This module says where the ledger is and what an entry holds; writing entries, and
carrying them back from another machine, is logistics: ``scripts/ledger.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dflib.environment import resolve_path

LEDGER = "reports/runs"  # relative to the project root
FILES = ("params.json", "metrics.json", "history.csv", "environment.json")
PREDICTIONS = ("predictions_val.csv", "predictions_test.csv")
# every name an entry may hold
ENTRY_FILES = (*FILES, *(f"{p}.gz" for p in PREDICTIONS))


def ledger_root(ledger: str | os.PathLike | None = None) -> Path:
    """``ledger`` resolved against the project root (default ``reports/runs``)."""
    return resolve_path(ledger or LEDGER)
