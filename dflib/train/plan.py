"""The runs a study needs: found where they are finished, trained where they are missing.

Every caller that needs runs made goes through :func:`ensure_planned`: the runs a notebook
names by their run folders (:func:`ensure_run`, :func:`ensure_runs`: notebook 10 tunes the
threshold of a run that notebook 04 or ``make demo`` trained; the smoke size makes it when
missing; a user's run is taken whatever its settings: the user named it), the claims plan
(:mod:`dflib.study.claims`: notebook 15, ``scripts/claims_runs.py``), the
cross-generator study (:mod:`dflib.study.crossgen`), the retraining on pseudo-labels
(:func:`dflib.decide.pseudo.retrain_with_pseudo`: notebook 11) and
``scripts/train_table.py``. It lives in ``train`` because the decisions and the studies
both use it.

A :class:`PlannedRun` is a run folder's name, its whole :class:`TrainConfig` and what the
run is for in a study (its ``role``). For each one the planner

- takes a finished run of that name (:func:`dflib.train.runs.is_finished`) after checking
  that it was made with the settings the plan names (:attr:`PlannedRun.same`): a folder
  trained otherwise is refused, never read as this run;
- may take a copy from other folders (``also``: the ledger ``reports/runs``), only one made
  with the same settings, so a clean clone retrains nothing the ledger holds;
- trains a missing run, or resumes an unfinished one from its ``last.pt``, under an
  inter-process lock (:func:`dflib.environment.file_lock`): two notebooks or test workers
  asking for one run train it once;
- records the role in the run's ``params.json`` (key ``role``, e.g.
  ``claims/median/freqnet/global_median``), which the studies read back. The role changes
  nothing in training, so it is not a :class:`TrainConfig` setting; :meth:`TrainConfig.from_dict`
  ignores the key.

The logistics of a machine lent for a while (when to stop starting runs, what to send
back) are ``scripts/campaign.py``'s.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dflib.environment import file_lock, split_names
from dflib.train.config import TrainConfig, get_recipe
from dflib.train.loop import fit
from dflib.train.runs import ROLE, RunFolder, finished_runs, is_finished, run_folder, write_json


class MissingRunError(FileNotFoundError):
    """A planned run is not there and was not to be made (the message says how to make it)."""


@dataclass(frozen=True)
class PlannedRun:
    """One run a study needs.

    Attributes:
        name: the run folder's name (under the planner's ``root``; without one, a name under
            ``runs/`` or a path, as :func:`dflib.train.runs.run_folder` reads it).
        config: everything that trains it.
        role: what it is for, ``<study>/...`` (``claims/median/freqnet/global_median``;
            ``""``: a plain run), recorded in its ``params.json``.
        same: the settings a finished run of this name must share with ``config`` to be
            taken for it (``()``: any finished run of the name, as a notebook's named
            upstream run).
        changes: the settings that differ from the architecture's recipe (for a plan's
            description).
    """

    name: str
    config: TrainConfig
    role: str = ""
    same: tuple[str, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return self.config.arch

    @property
    def seed(self) -> int:
        return self.config.seed


# trains ``planned`` into ``run``: (planned, run, resume, progress)
Trainer = Callable[[PlannedRun, RunFolder, bool, bool], Any]


def train_with_fit(planned: PlannedRun, run: RunFolder, resume: bool, progress: bool) -> None:
    """The default trainer: :func:`dflib.train.fit` in this process."""
    fit(planned.config, out=str(run.root), resume=resume, progress=progress)


def planned_folder(planned: PlannedRun, root: str | os.PathLike | None = None) -> RunFolder:
    """Where ``planned`` is trained: ``root/<name>``, else :func:`run_folder` of its name."""
    return RunFolder(Path(root) / planned.name) if root else run_folder(planned.name)


def differences(planned: PlannedRun, params: dict[str, Any]) -> list[str]:
    """``setting: found (planned: wanted)`` for each of ``planned.same`` on which the run of
    ``params`` (its ``params.json``) differs, and its role when both the plan and the run
    name one and they differ (a run that records none was made before roles were).

    A setting missing from ``params`` has its default (a run made before the setting
    existed), as :meth:`TrainConfig.from_dict` reads it; lists compare as sets (fake
    families in another order are the same families).
    """
    found = TrainConfig.from_dict(params)
    out = []
    for key in planned.same:
        have, want = getattr(found, key), getattr(planned.config, key)
        if isinstance(have, tuple) and isinstance(want, tuple):
            if set(have) == set(want):
                continue
        elif have == want:
            continue
        out.append(f"{key}: {_shown(have)} (planned: {_shown(want)})")
    recorded = params.get(ROLE) or ""
    if planned.role and recorded and recorded != planned.role:
        out.append(f"{ROLE}: {recorded!r} (planned: {planned.role!r})")
    return out


def _shown(value: Any) -> str:
    """A setting as a command line gives it (``nearest,bilinear``; ``()``: none named)."""
    if isinstance(value, tuple):
        return ",".join(value) if value else "()"
    return repr(value)


def find_finished(
    planned: PlannedRun,
    root: str | os.PathLike | None = None,
    also: Iterable[str | os.PathLike] = (),
) -> RunFolder | None:
    """The finished run of ``planned``: in ``root`` (see :func:`planned_folder`), else a
    copy in one of the folders ``also`` made with the same settings; ``None`` if neither.

    Raises:
        ValueError: the run in ``root`` was made with other settings (each one named): it
            would be read as this run, and this run cannot be trained there.
    """
    run = _taken(planned, planned_folder(planned, root))
    if run is not None:
        return run
    for folder in also:
        copy = RunFolder(Path(folder) / planned.name)
        if is_finished(copy) and not differences(planned, copy.read_json("params")):
            return copy
    return None


def _taken(planned: PlannedRun, run: RunFolder) -> RunFolder | None:
    """``run`` if it is finished and made with ``planned``'s settings, ``None`` if it is
    not finished; :class:`ValueError` if it is finished but made otherwise."""
    if not is_finished(run):
        return None
    changed = differences(planned, run.read_json("params"))
    if changed:
        raise ValueError(
            f"run {run.root} was trained with other settings than the plan needs "
            f"({'; '.join(changed)}). Delete the run folder, or choose another run name "
            "(another prefix, or another runs folder)."
        )
    return run


def ensure_planned(
    plan: Sequence[PlannedRun],
    *,
    root: str | os.PathLike | None = None,
    also: Iterable[str | os.PathLike] = (),
    make_missing: bool = True,
    progress: bool = False,
    train: Trainer | None = None,
) -> list[RunFolder]:
    """The finished run of every planned run, in order, training the missing ones.

    Args:
        plan: the runs.
        root: the runs folder they live in (``None``: each name as :func:`run_folder`
            reads it, ``runs/<name>`` for a bare name).
        also: other folders whose finished copy of a run counts (the ledger), when made
            with the same settings (:func:`find_finished`).
        make_missing: train a missing run (resume an unfinished one); ``False``: name
            every missing run in one :class:`MissingRunError` before anything is trained.
        progress: tqdm bars while training.
        train: what trains a run (default :func:`train_with_fit`; ``scripts/train_table.py``
            runs each through its training notebook).

    Raises:
        MissingRunError: runs are missing and ``make_missing`` is False (all named at once).
        ValueError: a finished run of a planned name was made with other settings.
    """
    also = list(also)
    found = [find_finished(p, root, also) for p in plan]
    missing = [p for p, run in zip(plan, found, strict=True) if run is None]
    if missing and not make_missing:
        raise MissingRunError(
            "\n\n".join(missing_message(p, planned_folder(p, root)) for p in missing)
        )
    runs = []
    for planned, run in zip(plan, found, strict=True):
        if run is None:
            run = _made(planned, planned_folder(planned, root), progress, train or train_with_fit)
        else:
            _say_found(run)
        runs.append(run)
    return runs


def _made(planned: PlannedRun, run: RunFolder, progress: bool, train: Trainer) -> RunFolder:
    """Train (or resume) ``planned`` into ``run`` under the run's lock: the first process
    asking trains it, the others wait and then find it finished."""
    with file_lock(run.root):
        if _taken(planned, run) is not None:  # made by another process while this one waited
            _say_found(run)
            return run
        resume = run.last.is_file()
        c = planned.config
        state = "unfinished, resuming it from last.pt" if resume else "not found, training it"
        print(f"run {run.name} {state} now in {run.root.parent} ({c.arch}, {c.synthetic_size} "
              f"benchmark, {c.epochs} epoch(s) at {c.img_size} px)", flush=True)  # fmt: skip
        train(planned, run, resume, progress)
        if planned.role:
            write_json(run.params, {**run.read_json("params"), ROLE: planned.role})
    return run


def _say_found(run: RunFolder) -> None:
    params = run.read_json("params")
    print(f"run {run.name}: {params.get('arch')}, {params.get('n_train', '?')} training "
          f"images at {params.get('img_size')} px, {params.get('epochs')} epochs "
          f"({run.root})")  # fmt: skip


def missing_message(planned: PlannedRun, run: RunFolder) -> str:
    """Which run is missing, the finished runs beside it (and a close name), and the
    commands that make it."""
    finished = [r.name for r in finished_runs(run.root.parent)]
    close = difflib.get_close_matches(run.name, finished, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(finished) if finished else "none yet"
    state = "is not finished (no metrics.json)" if run.root.is_dir() else "does not exist"
    return (
        f"run {planned.name!r} {state} (looked at {run.root}).{hint}\n"
        f"Finished runs: {listing}.\n"
        f"Make it with `make demo` (runs/demo-freqnet), the training notebook with "
        f"`-p out {run.root}`, or `python -m dflib train --arch {planned.arch} --out {run.root}`; "
        f"or run this notebook with `-p make_missing True` to train a small one now."
    )


# --- the runs a notebook names (the decision and study notebooks' parameters) ---


def available_runs() -> list[str]:
    """Names of the finished runs under ``runs/``."""
    return [run.name for run in finished_runs()]


def ensure_run(
    name: str | os.PathLike,
    arch: str = "xception_resnet50",
    *,
    make_missing: bool = False,
    progress: bool = False,
    **recipe_overrides: Any,
) -> RunFolder:
    """The finished run ``name``; train it first if it is missing and ``make_missing``.

    Args:
        name: a run name under ``runs/`` or a path.
        arch: the architecture to train when the run has to be made.
        make_missing: train a missing (or unfinished) run with ``arch``'s recipe and
            ``recipe_overrides``; an unfinished run is resumed from its ``last.pt``.
        progress: tqdm bars while training.
        recipe_overrides: settings of :func:`dflib.train.get_recipe` (``synthetic_size``,
            ``train_images``, ``img_size``, ``epochs``, ...) for a run that is made.

    Raises:
        MissingRunError: the run is missing and ``make_missing`` is False; the message
            lists the finished runs and the commands that make this one.
    """
    return ensure_runs([str(name)], [arch], make_missing=make_missing, progress=progress,
                       **recipe_overrides)[0]  # fmt: skip


def ensure_runs(
    names: str | list[str],
    archs: str | list[str],
    *,
    make_missing: bool = False,
    progress: bool = False,
    **recipe_overrides: Any,
) -> list[RunFolder]:
    """:func:`ensure_run` for several runs; ``names`` and ``archs`` may be comma-separated
    strings (notebook parameters). ``archs`` pairs with ``names`` (the last one repeats).

    Every missing run is named in one error before anything is trained, so a user who
    lacks three runs learns it once.
    """
    names, archs = split_names(names), split_names(archs)
    if not names:
        raise ValueError("no run names given (expected e.g. 'demo-freqnet,demo-rgb_fft')")
    archs = archs or ["xception_resnet50"]
    archs = archs + [archs[-1]] * (len(names) - len(archs))
    plan = [PlannedRun(n, get_recipe(a, **recipe_overrides))
            for n, a in zip(names, archs, strict=False)]  # fmt: skip
    return ensure_planned(plan, make_missing=make_missing, progress=progress)
