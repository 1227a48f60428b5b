"""Finding the upstream runs a decision notebook reads, or making them at smoke size.

Notebooks talk to each other only through run folders (:mod:`dflib.train.runs`): notebook 10 tunes
the threshold of a run that notebook 04 (or ``make demo``) trained. When the named run
is missing, a notebook must say which run and how to make it, or, when asked to (the
CI smoke size does), train it with a small recipe, never fail with a bare traceback.

This module turns a notebook's parameters (run names, architectures, recipe overrides)
into planned runs; finding and making them is :func:`dflib.train.plan.ensure_planned`'s.
A named upstream run is taken whatever its settings: the user named it.
"""

from __future__ import annotations

import os
from typing import Any

from dflib.train.config import get_recipe
from dflib.train.plan import MissingRunError, PlannedRun, ensure_planned
from dflib.train.runs import RunFolder, finished_runs

__all__ = ["MissingRunError", "available_runs", "ensure_run", "ensure_runs"]


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
    names, archs = _split(names), _split(archs)
    if not names:
        raise ValueError("no run names given (expected e.g. 'demo-freqnet,demo-rgb_fft')")
    archs = archs or ["xception_resnet50"]
    archs = archs + [archs[-1]] * (len(names) - len(archs))
    plan = [PlannedRun(n, get_recipe(a, **recipe_overrides))
            for n, a in zip(names, archs, strict=False)]  # fmt: skip
    return ensure_planned(plan, make_missing=make_missing, progress=progress)


def _split(value: str | list[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]
