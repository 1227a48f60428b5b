"""Training a plan of runs on a machine lent for a while: budgets, deadlines, exports.

Each run is found or made by ``dflib.train.plan`` (the one planner: a finished run, in the
runs folder or with the same settings in the ledger, is skipped; an unfinished one is
resumed from its ``last.pt``), so the same call can be made again after a time limit. What
this adds is the logistics of a rented machine: no run started after a budget, nor one a
run of its kind says would end after a deadline, so none is cut off half-way; a failing run
reported while the others go on; and each finished run's ledger entry written as soon as it
ends (``scripts/ledger.py``), into a folder or one archive, so what the machine trained
comes back even when it is taken away. ``scripts/claims_runs.py`` drives it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dflib.train.plan import PlannedRun, ensure_planned, find_finished
from dflib.train.runs import RunFolder, finished_runs, is_finished

from ledger import write_archive, write_entry

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")  # an export named so is one archive, else a folder


def already_trained(planned: PlannedRun, root: str | os.PathLike, ledger=None) -> bool:
    """The run is finished in ``root``, or the ``ledger`` holds it with the same settings."""
    return find_finished(planned, root, [ledger] if ledger else []) is not None


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
    """Train every run of ``plan`` into ``root/<name>`` (``dflib.train.plan.ensure_planned``).

    A finished run is skipped (in ``root``, or in the run ``ledger`` when one is given, made
    with the same settings), an unfinished one resumed from its ``last.pt``; no run is
    started after ``budget_min`` minutes (0: no limit), nor one expected to end after
    ``deadline_min`` (0: no limit; expected: as long as the longest run of its kind so far
    in this call, so on a machine taken away at a fixed time no run is cut off half-way
    after its kind's first); a failing run is reported and the others go on. After each
    run its ledger entry (json/csv files, predictions gzipped, no weights) is written to
    ``export/<name>``, or, when ``export`` ends in ``.tar.gz``/``.tgz``, one archive of
    every finished run's entry is rewritten. One line per run is printed. Returns
    ``name``, ``state``, ``seconds`` per run.
    """
    root, start, states = Path(root), time.perf_counter(), []
    took: dict[tuple, float] = {}  # the longest run of each kind so far, seconds
    also = [ledger] if ledger else []
    for i, planned in enumerate(plan, 1):
        run, t0 = RunFolder(root / planned.name), time.perf_counter()
        tag = f"[{i}/{len(plan)}] {planned.name}"
        expected = took.get(run_kind(planned), 0.0)
        try:
            found, refused = find_finished(planned, root, also), ""
        except ValueError as error:  # a run of this name made otherwise: it is not this run
            found, refused = None, str(error)
        if refused:
            state, line = "failed", f"FAILED: {refused}"
        elif found is not None:
            state = "finished"
            line = ("finished, skipped" if found.root == run.root
                    else f"in the ledger ({ledger}), skipped")  # fmt: skip
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
                ensure_planned([planned], root=root, progress=progress)
                m = run.read_json("metrics")
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
        write_archive(finished_runs(run.root.parent), target)
        return
    write_entry(run, target)
