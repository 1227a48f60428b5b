"""Training a plan of runs (:mod:`dflib.study.claims_plan`) on a machine lent for a while.

Each run goes through :func:`dflib.train.fit`; a finished run (here or in the ledger) is
skipped and an unfinished one resumed, so the same call can be made again after a time
limit. Budgets keep a run from being cut off half-way, and each finished run's ledger
entry is written as soon as it ends, so what a machine trained comes back even when the
machine is taken away.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dflib.study.claims_plan import PlannedRun, in_ledger
from dflib.train import fit
from dflib.train.ledger import write_archive, write_entry
from dflib.train.runs import RunFolder, is_finished

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")  # an export named so is one archive, else a folder


def already_trained(planned: PlannedRun, root: str | os.PathLike, ledger=None) -> bool:
    """The run is finished in ``root`` or held by the run ``ledger`` (:func:`in_ledger`)."""
    if is_finished(RunFolder(Path(root) / planned.name)):
        return True
    return bool(ledger) and in_ledger(planned, ledger)


def train_plan(
    plan: list[PlannedRun],
    root: str | os.PathLike,
    *,
    budget_min: float = 0,
    deadline_min: float = 0,
    export: str | os.PathLike | None = None,
    ledger: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Train every run of ``plan`` into ``root/<name>`` with :func:`dflib.train.fit`.

    A finished run is skipped (in ``root``, or in the run ``ledger`` when one is given:
    :func:`in_ledger`), an unfinished one resumed from its ``last.pt``; no run is
    started after ``budget_min`` minutes (0: no limit), nor one expected to end after
    ``deadline_min`` (0: no limit; expected: as long as the longest run of its kind so far
    in this call, so on a machine taken away at a fixed time no run is cut off half-way
    after its kind's first); a failing run is reported and the others go on. After each
    run its ledger entry (:mod:`dflib.train.ledger`: json/csv files, predictions gzipped,
    no weights) is written to ``export/<name>``, or, when ``export`` ends in ``.tar.gz``/
    ``.tgz``, one archive of every finished run's entry is rewritten. One line per run is
    printed. Returns ``name``, ``state``, ``seconds`` per run.
    """
    root, start, states = Path(root), time.perf_counter(), []
    took: dict[tuple, float] = {}  # the longest run of each kind so far, seconds
    for i, planned in enumerate(plan, 1):
        run, t0 = RunFolder(root / planned.name), time.perf_counter()
        tag = f"[{i}/{len(plan)}] {planned.name}"
        expected = took.get(run_kind(planned), 0.0)
        if is_finished(run):
            state, line = "finished", "finished, skipped"
        elif ledger and in_ledger(planned, ledger):
            state, line = "finished", f"in the ledger ({ledger}), skipped"
        elif budget_min and (t0 - start) / 60 >= budget_min:
            state = "not started"
            line = f"not started (budget of {budget_min:g} min spent; run again to continue)"
        elif deadline_min and (t0 - start + expected) / 60 > deadline_min:
            state = "not started"
            line = (f"not started (a run like it took {expected:.0f} s: it would end after the "
                    f"deadline of {deadline_min:g} min; run again to continue)")  # fmt: skip
        else:
            resume = run.last.is_file()
            try:
                m = fit(planned.config, out=str(run.root), resume=resume, progress=progress).metrics
            except Exception as error:  # one bad run must not cost the others
                state, line = "failed", f"FAILED: {type(error).__name__}: {error}"
            else:
                test, seconds = (m.get("test") or {}).get("f1"), time.perf_counter() - t0
                state = "trained"
                took[run_kind(planned)] = max(expected, seconds)
                line = (f"{'resumed, ' if resume else ''}done in {seconds:.0f} s "
                        f"(total {(time.perf_counter() - start) / 60:.1f} min): val F1 "
                        f"{m['val']['f1']:.3f}, test F1 {'-' if test is None else f'{test:.3f}'}, "
                        f"{m['images_per_s']:.0f} img/s")  # fmt: skip
        print(f"{tag}: {line}", flush=True)
        if export and is_finished(run):
            export_run(run, Path(export))
        states.append({"name": planned.name, "state": state,
                       "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
    return states


def run_kind(planned: PlannedRun) -> tuple:
    """What a run's length depends on: its model and its regime (not its seed or arm)."""
    c = planned.config
    return (c.arch, c.img_size, c.batch_size, c.total_epochs, c.train_images, c.synthetic_size)


def export_run(run: RunFolder, target: Path) -> None:
    """The run's ledger entry into ``target/<name>``, or every finished run's under the
    same runs folder into the archive ``target`` (``.tar.gz``/``.tgz``), written atomically."""
    if target.name.endswith(ARCHIVE_SUFFIXES):
        folders = sorted(p for p in run.root.parent.iterdir() if p.is_dir())
        write_archive([RunFolder(p) for p in folders if is_finished(RunFolder(p))], target)
        return
    write_entry(run, target)
