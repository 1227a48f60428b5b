"""Finding the upstream runs a decision notebook reads, or making them at smoke size.

Notebooks talk to each other only through run folders (:mod:`dflib.train.runs`): notebook 10 tunes
the threshold of a run that notebook 04 (or ``make demo``) trained. When the named run
is missing, a notebook must say which run and how to make it, or, when asked to (the
CI smoke size does), train it with a small recipe, never fail with a bare traceback.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from dflib.environment import file_lock
from dflib.train import fit, get_recipe
from dflib.train.runs import RunFolder, finished_runs, is_finished, run_folder


class MissingRunError(FileNotFoundError):
    """A named upstream run is not there (the message says how to make it)."""


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
    run = run_folder(name)
    if is_finished(run) or not make_missing:  # no lock to read a run (its folder may be read-only)
        return _finished_or_made(run, str(name), arch, make_missing, progress, recipe_overrides)
    with file_lock(run.root):  # made once, however many ask at once
        return _finished_or_made(run, str(name), arch, make_missing, progress, recipe_overrides)


def _finished_or_made(run: RunFolder, name: str, arch: str, make_missing: bool, progress: bool,
                      recipe_overrides: dict[str, Any]) -> RunFolder:  # fmt: skip
    if is_finished(run):
        params = run.read_json("params")
        print(f"run {run.name}: {params.get('arch')}, {params.get('n_train', '?')} training "
              f"images at {params.get('img_size')} px, {params.get('epochs')} epochs "
              f"({run.root})")  # fmt: skip
        return run
    if not make_missing:
        raise MissingRunError(_missing_message(run, str(name), arch))
    config = get_recipe(arch, **recipe_overrides)
    resume = run.last.is_file()
    print(f"run {run.name} not found in {run.root.parent}: {'resuming' if resume else 'training'} "
          f"it now ({arch}, {config.synthetic_size} benchmark, {config.epochs} epoch(s) at "
          f"{config.img_size} px)")  # fmt: skip
    fit(config, out=str(run.root), resume=resume, progress=progress)
    return run


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
    names, archs = _split(names), _split(archs)
    if not names:
        raise ValueError("no run names given (expected e.g. 'demo-freqnet,demo-rgb_fft')")
    archs = archs or ["xception_resnet50"]
    archs = archs + [archs[-1]] * (len(names) - len(archs))
    if not make_missing:
        missing = [(n, a) for n, a in zip(names, archs, strict=False)
                   if not is_finished(run_folder(n))]  # fmt: skip
        if missing:
            raise MissingRunError(
                "\n\n".join(_missing_message(run_folder(n), n, a) for n, a in missing)
            )
    return [
        ensure_run(n, a, make_missing=make_missing, progress=progress, **recipe_overrides)
        for n, a in zip(names, archs, strict=False)
    ]


def _split(value: str | list[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def _missing_message(run: RunFolder, name: str, arch: str) -> str:
    finished = available_runs()
    close = difflib.get_close_matches(run.name, finished, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(finished) if finished else "none yet"
    state = "is not finished (no metrics.json)" if run.root.is_dir() else "does not exist"
    return (
        f"run {name!r} {state} (looked at {run.root}).{hint}\n"
        f"Finished runs: {listing}.\n"
        f"Make it with `make demo` (runs/demo-freqnet), the training notebook with "
        f"`-p out {run.root}`, or `python -m dflib train --arch {arch} --out {run.root}`; "
        f"or run this notebook with `-p make_missing True` to train a small one now."
    )
