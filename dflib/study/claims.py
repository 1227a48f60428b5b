"""Do the write-ups' findings (``docs/writeups.md#findings``) hold: the runs they need,
the regime of each number, the verdict rules, one judge per kind of finding, and
``claims.md``, one row each: reported, measured, verdict, command.

The findings are data (:data:`CLAIMS`, one :class:`Claim` each) and the table is a loop
over them: adding a claim, or an architecture to a level or a ranking, is one edit here;
a variant of the runs is one edit of :data:`VARIANTS`. The runs are those of
:func:`claims_plan` (``scripts/claims_runs.py``), found by the role each carries in its
``params.json`` (:func:`run_role`; older runs by their name), from a runs folder or the
ledger ``reports/runs`` (only their small files are read).

The plan: ``scripts/claims_runs.py`` and notebook 15 train it (through
:func:`dflib.train.plan.ensure_planned`) and :func:`claims` reads it back, so both agree
on what each run is for. Every run is its architecture's recipe
(:func:`dflib.train.get_recipe`) at one shared size (benchmark preset, images, image size,
epochs, no fine-tuning) and one seed; a comparison changes exactly one setting:

========= ============================================= ===================================
group     runs per seed                                  decides
========= ============================================= ===================================
arch      every registered architecture, its recipe     the reported F1 of each model, the
                                                         leaderboard, the threshold gain,
                                                         the pseudo-label probe, and the
                                                         baseline arm of the comparisons
balance   ``claim_arch`` with ``class_weighting=False``  "without balancing: always real";
          (unweighted), and unweighted +                 oversampling vs the weighted loss
          ``balanced_sampler`` (oversample)
median    ``claim_arch`` with ``global_median`` and      global 3x3 median vs the
          with ``none``                                  CoherentNoiseFilter / raw images
blur      ``resnet50`` with ``selective_median``         ResNet-50: selective blur vs none
========= ============================================= ===================================

Run names say what a run is and its seed: ``claims-arch-freqnet-s42``,
``claims-median-freqnet-global_median-s43``; the run also carries it as data, its role
``claims/<group>/<arch>/<variant>``, which the planner records in its ``params.json``
(:func:`run_role` reads it back, and the name of a run made before roles were recorded).
A finished run, here or in the ledger, is taken for a plan run only with its seed and
regime (:data:`SAME`).
Seeds are ``42, 43, ...`` (42: the write-ups').
The plan is ordered seed by seed, so a run cut short by a time limit still holds every
comparison at the seeds it finished.

Every row names the regime a finding was reported in and the regime of the runs that
measured it (:class:`Regime`). Each kind is judged by its own rule (the ``decide_*``
functions; :func:`judge` applies them):

- **level** (``F1 0.91 after 25 epochs``): only by runs at its image size, with at least
  its epochs, on the full benchmark; else **not comparable**, both regimes named, the
  other regime's level shown as information;
- **comparison** (global median vs CoherentNoiseFilter, weighted vs unweighted, blur vs
  none, tuned threshold vs 0.5): in any regime, the most trained one measured with at least
  two seeds (one seed decides nothing); the verdict
  names it (``refuted at 64 px / 3 epochs``);
- **ranking** (an order of architectures): each neighbouring pair compared, on F1 at 0.5 and on
  threshold-free measures, in every regime its models were trained in, one row each: a
  fixed short length (3 epochs) ranks learning speed, an early-stopped regime the models at
  convergence;
- **curve** (XceptionResNet50's gain from 20 to 25 epochs, flat to 40): from the epoch
  histories of runs long enough to have those epochs.

The score is F1 of the fake class at 0.5 on the hidden test labels when every run has
them (the embedded benchmark), else on the validation split.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from dflib.data import class_weights
from dflib.decide.pseudo import WRITEUP, select_pseudo
from dflib.study.leaderboard import (
    BASELINES,
    RANKINGS,
    cell_text,
    leaderboard,
    provenance,
    write_leaderboard,
)
from dflib.train.config import TrainConfig, get_recipe, list_recipes, reference
from dflib.train.plan import ROLE, PlannedRun
from dflib.train.runs import RunFolder, is_finished, ledger_root, runs_root

PREFIX = "claims"
GROUPS = ("arch", "balance", "median", "blur")
FIRST_SEED = 42
CLAIM_ARCH = "freqnet"  # learns within a few epochs at 64 px (reports/training.md)
BLUR_ARCH = "resnet50"  # the write-up's own comparison (0.87 vs about 0.3)

# group -> variant -> the settings that differ from the architecture's recipe
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "balance": {
        "unweighted": {"class_weighting": False, "balanced_sampler": False},
        "oversample": {"class_weighting": False, "balanced_sampler": True},
    },
    "median": {"global_median": {"filter": "global_median"}, "none": {"filter": "none"}},
    "blur": {"selective_median": {"filter": "selective_median"}},
}


def seeds_for(n: int) -> list[int]:
    """The ``n`` seeds of the plan: 42, 43, ..."""
    return [FIRST_SEED + i for i in range(n)]


def run_name(group: str, arch: str, variant: str, seed: int, prefix: str = PREFIX) -> str:
    """``claims-<group>-<arch>[-<variant>]-s<seed>``."""
    middle = arch if variant == "recipe" else f"{arch}-{variant}"
    return f"{prefix}-{group}-{middle}-s{seed}"


# what makes a regime: runs of two regimes never share a name or a ledger entry (early
# stopping too: a run capped at 30 epochs and stopped at 9 is neither a 30- nor a 9-epoch
# run; without early stopping its metric is "f1", the default, whatever was asked)
REGIME_KEYS = ("synthetic_size", "img_size", "epochs", "train_images", "finetune_epochs",
               "early_stopping", "early_stopping_metric")  # fmt: skip
# the short CPU regime of the committed claims runs keeps the plain names
SHORT_REGIME = ("demo", 64, 3, 0, 0, 0, "f1")
SHORT_EPOCHS = SHORT_REGIME[REGIME_KEYS.index("epochs")]  # where the learning-speed runs stop
# what a finished run (in the runs folder or the ledger) must share to be taken for a plan
# run of its name, besides its role: its seed and its regime
SAME = ("seed", *REGIME_KEYS)


def regime_tag(config: TrainConfig) -> str:
    """``""`` for the short regime, else
    ``-<size>-<px>px-<epochs>e[-<images>][-ft<n>][-es<n><metric>]``
    (``claims-arch-freqnet-s42-demo-64px-30e-es5auc``)."""
    values = tuple(getattr(config, k) for k in REGIME_KEYS)
    if values == SHORT_REGIME:
        return ""
    size, px, epochs, images, finetune, stop, metric = values
    return (f"-{size}-{px}px-{epochs}e" + (f"-{images}" if images else "")
            + (f"-ft{finetune}" if finetune else "")
            + (f"-es{stop}{metric}" if stop else ""))  # fmt: skip


def role(group: str, arch: str, variant: str, prefix: str = PREFIX) -> str:
    """The role of a plan run: ``claims/<group>/<arch>/<variant>``."""
    return f"{prefix}/{group}/{arch}/{variant}"


_NAME = re.compile(r"^(?P<prefix>.+)-(?P<group>arch|balance|median|blur)-(?P<arch>[a-z0-9_]+)"
                   r"(?:-(?P<variant>[a-z0-9_]+))?-s(?P<seed>\d+)$")  # fmt: skip


def run_role(params: dict[str, Any], name: str = "", prefix: str = PREFIX) -> dict[str, Any] | None:
    """``group``, ``arch``, ``variant``, ``seed`` of a plan run from its ``params.json``
    (``role`` and ``seed``), else, for a run made before roles were recorded, from its name
    (the one place that parses names). ``None``: not a run of the plan ``prefix``."""
    parts = str(params.get(ROLE) or "").split("/")
    if len(parts) == 4 and parts[0] == prefix and parts[1] in GROUPS:
        return {"group": parts[1], "arch": parts[2], "variant": parts[3],
                "seed": int(params.get("seed", FIRST_SEED))}  # fmt: skip
    found = _NAME.match(name)
    if not found or found["prefix"] != prefix or params.get(ROLE):
        return None
    return {"group": found["group"], "arch": found["arch"],
            "variant": found["variant"] or "recipe", "seed": int(found["seed"])}  # fmt: skip


def claims_plan(
    seeds: int = 3,
    *,
    size: str = "demo",
    img_size: int = 64,
    epochs: int = 10,
    train_images: int = 0,
    batch_size: int = 0,
    finetune_epochs: int = 0,
    early_stopping: int = 0,
    early_stopping_metric: str = "f1",
    archs: list[str] | None = None,
    claim_arch: str = CLAIM_ARCH,
    prefix: str = PREFIX,
    only: list[str] | None = None,
    **train: Any,
) -> list[PlannedRun]:
    """Every run the claims need, seed by seed.

    Args:
        seeds: how many seeds (3 decide a difference larger than the seed spread).
        size: embedded benchmark preset (``data_dir`` stays ``"synthetic"`` unless
            ``train`` says otherwise).
        img_size: px for every model (0: each recipe's own).
        epochs: main-stage epochs for every run.
        train_images: labelled images used (0: all of the preset's).
        batch_size: images per step for every run (0: each recipe's).
        finetune_epochs: write-up 2's second stage (0: none, so every run is scored the
            same way on a validation split it never trained on).
        early_stopping: stop a run after this many epochs without a better validation
            score (0: off; then ``epochs`` is every run's length, else its cap).
        early_stopping_metric: the score it watches, ``"f1"`` or ``"auc"`` (recorded only
            with ``early_stopping``: without it every run has the default ``"f1"``).
        archs: the architectures of the ``arch`` group (default: every recipe).
        claim_arch: the architecture of the ``balance`` and ``median`` comparisons.
        prefix: run names start with it.
        only: glob patterns (or substrings) of run names to keep (whole names, the regime
            included).
        train: further :class:`TrainConfig` settings for every run (``amp``,
            ``channels_last``, ``compile``, ``device``, ``data_dir``, ...).
    """
    archs = list(archs) if archs else list_recipes()
    shared = {"synthetic_size": size, "epochs": epochs, "train_images": train_images,
              "finetune_epochs": finetune_epochs, "early_stopping": early_stopping,
              "early_stopping_metric": early_stopping_metric if early_stopping else "f1",
              **train}  # fmt: skip
    if img_size:
        shared["img_size"] = img_size
    if batch_size:
        shared["batch_size"] = batch_size
    plan = []
    for seed in seeds_for(seeds):
        rows = [("arch", a, "recipe", {}) for a in archs]
        rows += [
            (g, claim_arch, v, c) for g in ("balance", "median") for v, c in VARIANTS[g].items()
        ]
        rows += [("blur", BLUR_ARCH, v, c) for v, c in VARIANTS["blur"].items()]
        for group, arch, variant, changes in rows:
            config = get_recipe(arch, seed=seed, **shared, **changes)
            name = run_name(group, arch, variant, seed, prefix) + regime_tag(config)
            if only and not _matches(name, only):
                continue
            plan.append(PlannedRun(name, config, role(group, arch, variant, prefix), SAME,
                                   dict(changes)))  # fmt: skip
    return plan


def arm_of(planned: PlannedRun) -> dict[str, Any]:
    """``group``, ``arch``, ``variant``, ``seed`` of a plan run, read from its role as the
    claims read a finished run's."""
    return run_role({ROLE: planned.role, "seed": planned.seed}, planned.name,
                    planned.role.split("/")[0])  # fmt: skip


def _matches(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        glob = any(c in pattern for c in "*?[")
        if fnmatch.fnmatch(name, pattern) if glob else pattern in name:
            return True
    return False


# Regimes: the image size, epochs and training images a number was measured at. A level
# the write-ups reported ("F1 0.91 after 25 epochs") is judged only by runs of its own
# regime (comparable: the same image size, at least its epochs, the full benchmark); a run
# of another regime is shown beside it, never as its verdict (docs/writeups.md#recipes for
# the reported regimes).
WRITEUP_IMAGES = 50_000  # labelled images of both write-ups (docs/writeups.md#task-and-data)
WRITEUP_DATA = "write-up data"
FULL = "full"  # the embedded benchmark preset at the write-ups' size


@dataclass(frozen=True)
class Regime:
    """Where a number comes from.

    Attributes:
        img_size: px of the square images the model saw.
        epochs: main-stage epochs.
        images: labelled images (train + validation).
        data: the benchmark preset (``full``, ``demo``, ...) or ``write-up data``.
        subsample: the runs' ``train_images`` setting (0: all), for their command.
        arch: the architecture, where the regime is a reported claim's.
        early_stopping: the runs' early stopping (0: off; ``epochs`` is then their cap).
        stop_metric: the validation score early stopping watched.
    """

    img_size: int
    epochs: int
    images: int
    data: str
    subsample: int = 0
    arch: str = ""
    early_stopping: int = 0
    stop_metric: str = "f1"

    @property
    def length(self) -> str:
        """``3 epochs``, or ``up to 30 epochs, early stopping 5 on val AUC``."""
        if not self.early_stopping:
            return f"{self.epochs} epochs"
        return (f"up to {self.epochs} epochs, early stopping {self.early_stopping} on val "
                f"{self.stop_metric.upper()}")  # fmt: skip

    @property
    def short(self) -> str:
        """``64 px / 3 epochs`` (a verdict names its regime so)."""
        return f"{self.img_size} px / {self.length}"

    @property
    def text(self) -> str:
        """``freqnet, 64 px, 3 epochs, 6,000 images (demo benchmark)``."""
        data = self.data if self.data == WRITEUP_DATA else f"{self.data} benchmark"
        arch = f"{self.arch}, " if self.arch else ""
        return f"{arch}{self.img_size} px, {self.length}, {self.images:,} images ({data})"

    @property
    def setting(self) -> dict:
        """The ``scripts/claims_runs.py`` size of runs in this regime (:func:`plan_command`)."""
        return {"data": self.data, "subsample": self.subsample, "img_size": self.img_size,
                "epochs": self.epochs, "early_stopping": self.early_stopping,
                "early_stopping_metric": self.stop_metric}  # fmt: skip

    @property
    def purpose(self) -> str:
        """What a ranking in this regime measures: with early stopping, the models at
        convergence (each trained until its validation score stopped improving, or to the
        cap); at a fixed short length, how fast they learn."""
        return "at convergence" if self.early_stopping else "learning speed"

    @property
    def column(self) -> str:
        """The regime in a table's column header: ``3 epochs``, ``converged (<= 30)``."""
        return f"converged (<= {self.epochs})" if self.early_stopping else self.length

    @property
    def weight(self) -> tuple[int, int, int]:
        """Ordering: the regime that trained most (epochs, then px, then images) is last."""
        return (self.epochs, self.img_size, self.images)


def reported_regime(arch: str) -> Regime:
    """The regime the write-up reported ``arch`` in: its recipe's image size and epochs,
    on the write-ups' 50,000 labelled images."""
    recipe = reference(arch).recipe
    return Regime(recipe.img_size, recipe.epochs, WRITEUP_IMAGES, WRITEUP_DATA, arch=arch)


def run_regime(row) -> Regime:
    """The regime of one leaderboard row (:func:`~dflib.study.leaderboard.leaderboard`)."""
    stop = int(row.get("early_stopping", 0) or 0)
    return Regime(int(row["img_size"]), int(row["epochs"]), int(row["train_images"]),
                  str(row["data"]), int(row["subsample"]), early_stopping=stop,
                  stop_metric=str(row.get("early_stopping_metric") or "f1") if stop else "f1")  # fmt: skip


def comparable(level: Regime, run: Regime) -> bool:
    """A run may judge a reported level: same image size, at least its epochs, the full
    benchmark (a shorter run, a smaller image or the demo benchmark measure another thing)."""
    return run.img_size == level.img_size and run.epochs >= level.epochs and run.data == FULL


def regimes_of(runs: pd.DataFrame) -> list[Regime]:
    """The regimes present in a table with a ``regime`` column, least trained first."""
    if runs.empty or "regime" not in runs:
        return []
    return sorted(set(runs["regime"]), key=lambda r: r.weight)


# The verdict rules. Every rule asks the same question of a few seeds: what range of values
# is the mean consistent with? It is the 95% interval of the mean from the t distribution
# with n - 1 degrees of freedom (t_interval), so a rule that decides when the interval
# excludes a value decides by luck in 5% of seed tables where the value is true (tested).
# - no run: not measured; one seed: inconclusive (one training run decides nothing);
# - a comparison (decide_comparison) pairs the runs of each seed: a direction is decided
#   when the interval of the per-seed differences excludes 0 and the mean is at least
#   MIN_EFFECT; a reported size is refuted when the interval excludes it;
# - a reported level (F1 0.87, "about 0.75") is reproduced when the interval lies within
#   LEVEL_TOL of it, refuted when it lies wholly outside that band (decide_level); a bound
#   ("> 97%") likewise (decide_at_least); a level is judged only by runs of its own regime;
# - a ranking (best first) is a comparison of each neighbouring pair (decide_ranking):
#   reproduced when every pair goes the reported way, refuted when one is decided the
#   other way; it is judged on F1 at 0.5 and on threshold-free measures, and decided only
#   when they agree;
# - a comparison or ranking that involves a model that has not learned in the regime
#   (not_learned) is "not decided".
LEVEL_TOL = 0.05  # "about 0.75" is met by 0.70-0.80
MIN_EFFECT = 0.01  # a difference of less than 0.01 (F1 or AUC) is not worth reporting
CONFIDENCE = 0.95
NOT_DECIDED = "not decided"


def seed_stats(values) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof 1; NaN under two values) and count of the
    finite ``values``: every measured cell."""
    v = _finite(values)
    sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    return (float(v.mean()) if len(v) else float("nan")), sd, len(v)


def _finite(values) -> np.ndarray:
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    return v[np.isfinite(v)]


@dataclass(frozen=True)
class Interval:
    """The 95% t-interval of a mean over seeds, and the two-sided p of "the mean is 0"."""

    mean: float
    low: float
    high: float
    p: float
    n: int

    def excludes(self, value: float) -> bool:
        return bool(value < self.low or value > self.high)

    def text(self, signed: bool = True) -> str:
        """``+0.133, 95% CI [-0.091, +0.357], p = 0.12, n = 3``."""
        f = "+.3f" if signed else ".3f"
        return (f"{self.mean:{f}}, 95% CI [{self.low:{f}}, {self.high:{f}}], "
                f"p = {self.p:.2g}, n = {self.n}")  # fmt: skip


def t_interval(values, confidence: float = CONFIDENCE) -> Interval | None:
    """The ``confidence`` interval of the mean of the finite ``values`` from the t
    distribution with n - 1 degrees of freedom, and the two-sided p that the mean is 0;
    ``None`` under two values (no spread to judge by)."""
    v = _finite(values)
    n = len(v)
    if n < 2:
        return None
    mean, se = float(v.mean()), float(v.std(ddof=1)) / np.sqrt(n)
    if se == 0:  # identical values: the interval is the value itself
        return Interval(mean, mean, mean, 1.0 if mean == 0 else 0.0, n)
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * se
    p = float(2 * student_t.sf(abs(mean) / se, n - 1))
    return Interval(mean, mean - half, mean + half, p, n)


def _too_few(n: int, none: str = "no runs") -> tuple[str, str] | None:
    """The verdict when the seeds cannot decide (no run, or one seed), else ``None``."""
    if n == 0:
        return "not measured", none
    if n == 1:
        return "inconclusive", "one seed"
    return None


def stats_text(mean: float, sd: float, n: int, signed: bool = False) -> str:
    """``0.912 ± 0.010 (n=3)`` (one value: no spread), as the claims table prints a number."""
    if n == 0:
        return "no runs"
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if n < 2 else f"{text} ± {sd:.3f} (n={n})"


def decide_comparison(
    a, b, expect: str | None = None, size: float | None = None, min_effect: float = MIN_EFFECT
) -> tuple[str, str]:
    """The one comparison rule: ``a`` against ``b``, the scores of the same seeds (pairs
    with a missing score are left out).

    The per-seed differences ``a - b`` give a 95% t-interval of their mean
    (:func:`t_interval`). A direction is decided only when the interval excludes 0 and the
    mean is at least ``min_effect``; a reported ``size`` is refuted only when the interval
    excludes it. With no true difference it decides in 5% of seed tables (fewer with
    ``min_effect``), whatever the number of seeds.

    Args:
        a, b: per-seed scores, paired by position.
        expect: the claimed direction of ``a - b``, ``"higher"`` or ``"lower"``; ``None``:
            no claim, the verdict is the direction itself.
        size: the claimed difference (``-0.57``), refuted when outside the interval.
        min_effect: the smallest difference worth reporting.

    Returns:
        The verdict (``"inconclusive"``, ``"reproduced"`` / ``"refuted"`` with ``expect``,
        ``"higher"`` / ``"lower"`` without; ``"not measured"`` without a pair) and its
        reason, which prints the interval and p.
    """
    if expect not in (None, "higher", "lower"):
        raise ValueError(
            f"decide_comparison(expect={expect!r}): expected 'higher', 'lower' or None"
        )
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"decide_comparison: {len(a)} scores against {len(b)}; pass the "
                         "scores of the same seeds, paired by position")  # fmt: skip
    diffs = a - b
    diffs = diffs[np.isfinite(diffs)]
    if (few := _too_few(len(diffs))) is not None:
        return few
    interval = t_interval(diffs)
    text = interval.text()
    if size is not None and interval.excludes(size):
        return "refuted", f"the reported {size:+.2f} lies outside {text}"
    if not interval.excludes(0):
        return "inconclusive", f"the interval holds 0: {text}"
    if abs(interval.mean) < min_effect:
        return "inconclusive", f"smaller than the minimum effect {min_effect}: {text}"
    went = "lower" if interval.mean < 0 else "higher"
    if expect is None:
        return went, text
    return ("reproduced" if went == expect else "refuted"), f"{went}: {text}"


def decide_level(values, reported: float, tol: float = LEVEL_TOL) -> tuple[str, str]:
    """Verdict on seed values against a reported level: reproduced when the 95% interval
    of their mean lies within ``tol`` of it, refuted when it lies wholly outside that band."""
    return _decide_band(values, reported - tol, reported + tol, f"{reported} ± {tol}")


def decide_at_least(values, bound: float) -> tuple[str, str]:
    """Verdict on seed values for a claim ``value >= bound``: reproduced when the 95%
    interval of their mean lies above it, refuted when below."""
    return _decide_band(values, bound, np.inf, f">= {bound:.3g}")


def _decide_band(values, low: float, high: float, said: str) -> tuple[str, str]:
    interval = t_interval(values)
    if interval is None:
        return _too_few(len(_finite(values)))
    text = interval.text(signed=False)
    if low <= interval.low and interval.high <= high:
        return "reproduced", f"the interval lies within {said}: {text}"
    if interval.high < low or interval.low > high:
        return "refuted", f"the interval lies outside {said}: {text}"
    return "inconclusive", f"the interval overlaps {said} without lying within it: {text}"


def decide_ranking(order: list[str], scores: pd.DataFrame) -> tuple[str, str]:
    """Verdict on a reported order (best first) from ``scores``, one row per seed and one
    column per model: each neighbouring pair through :func:`decide_comparison`. Reproduced
    when every pair goes the reported way, refuted when one pair is decided the other way,
    else inconclusive; the reason names each pair's interval."""
    scores = scores.reindex(columns=list(order)).dropna()
    if (few := _too_few(len(scores), "no seed with every model")) is not None:
        return few
    verdicts, parts = [], []
    for better, worse in zip(order, order[1:], strict=False):
        verdict, why = decide_comparison(scores[better], scores[worse], "higher")
        verdicts.append(verdict)
        parts.append(f"{better} > {worse} {verdict} ({why})")
    if "refuted" in verdicts:
        verdict = "refuted"
    elif all(v == "reproduced" for v in verdicts):
        verdict = "reproduced"
    else:
        verdict = "inconclusive"
    return verdict, "; ".join(parts)


def not_learned(runs: pd.DataFrame) -> dict[str, list[str]]:
    """The models that have not learned in ``runs`` (one regime): most of their seeds'
    runs have a validation AUC that does not clear the shuffled-label 99th percentile
    (``learned``, :func:`dflib.metrics.learning` through the leaderboard). Returns each
    such model's runs that did not learn."""
    out = {}
    for arch, of in runs.groupby("arch", sort=True):
        known = of[of["learned"].notna()] if "learned" in of else of.iloc[:0]
        lost = known[~known["learned"].astype(bool)]
        if len(known) and 2 * len(lost) > len(known):
            out[str(arch)] = [f"{r.run} (val AUC {r.val_auc:.3f} <= {r.val_auc_floor:.3f})"
                              for r in lost.itertuples()]  # fmt: skip
    return out


def undecided(lost: dict[str, list[str]], regime: Regime) -> tuple[str, str]:
    """The verdict of a ranking or comparison that involves models that have not learned."""
    names = ", ".join(lost)
    runs = "; ".join(r for rs in lost.values() for r in rs)
    return (f"{NOT_DECIDED}: {names} not learned",
            f"{names} not learned at {regime.short} (validation AUC within what shuffled "
            f"labels reach, 99th percentile): {runs}")  # fmt: skip


# The judges: judge takes one Claim and the claims runs (Context) and returns the row's
# measured, measured_at, verdict, why and command, by its kind's rule (JUDGES).
DEGENERATE_RECALL = 0.05  # "always real": at most 5% of the fakes found at 0.5
PSEUDO_CONFIDENCE = 0.9  # the probe's single cut-off max(p, 1 - p)
DECIDED = ("reproduced", "refuted", "inconclusive")
# every verdict a row may carry (base_verdict of it: "not decided: x not learned" counts
# as "not decided")
VERDICTS = (*DECIDED, NOT_DECIDED, "not comparable", "not measured")
EMPTY = ["run", "group", "arch", "variant", "seed", "test_recall", "val_recall", "val_f1",
         "val_f1_tuned", "val_auc", "test_f1", "test_f1_tuned", "test_auc", "img_size",
         "epochs", "train_images", "data", "subsample", "early_stopping",
         "early_stopping_metric", "loss", "class_weighting", "sampler", "learned",
         *BASELINES]  # fmt: skip


@dataclass
class Context:
    """The claims runs and how to speak of them."""

    table: pd.DataFrame
    metric: str
    label: str
    runs_dir: Any
    setting: dict
    command: Callable[..., str]
    claim_arch: str
    prefix: str

    def arm(self, arm) -> pd.DataFrame:
        arch = self.claim_arch if arm.arch == "claim_arch" else arm.arch
        t = self.table
        return t[(t["group"] == arm.group) & (t["arch"] == arch) & (t["variant"] == arm.variant)]

    def arch(self, arm) -> str:
        return self.claim_arch if arm.arch == "claim_arch" else arm.arch

    @property
    def split(self) -> str:
        """``test`` (hidden labels) or ``val``: the split every score is taken on."""
        return "test" if self.metric == "test_f1" else "val"

    @property
    def split_label(self) -> str:
        return "hidden test" if self.split == "test" else "validation"

    def measures(self) -> list[tuple[str, str]]:
        """A ranking's measures, ``(column, name)``: F1 at 0.5 first, then the
        threshold-free ones (AUC, and F1 at the threshold tuned on validation)."""
        return [(self.metric, "F1 @0.5"), (f"{self.split}_auc", "AUC"),
                (f"{self.split}_f1_tuned", "F1 @tuned")]  # fmt: skip

    def baselines(self, runs: pd.DataFrame) -> str:
        """``[same split: all-fake F1 0.291, shuffled-label AUC 99th pct 0.551]`` (means over
        ``runs``: the trivial scores a number must clear to mean anything)."""
        f1 = pd.to_numeric(runs.get(f"{self.split}_all_fake_f1"), errors="coerce").mean()
        auc = pd.to_numeric(runs.get(f"{self.split}_auc_floor"), errors="coerce").mean()
        if not (np.isfinite(f1) and np.isfinite(auc)):
            return ""
        return f"[{self.split_label} baselines: all-fake F1 {f1:.3f}, shuffled-label AUC 99th pct {auc:.3f}]"

    def learning(self, runs: pd.DataFrame, regime: Regime) -> str:
        """`` (not learned: run, ...)`` when the model has not learned in ``regime``."""
        lost = not_learned(runs)
        return f" (not learned at {regime.short})" if lost else ""

    def only(self, arm) -> str:
        middle = self.arch(arm) if arm.variant == "recipe" else f"{self.arch(arm)}-{arm.variant}"
        return f"{self.prefix}-{arm.group}-{middle}-*"


def named(verdict: str, regime: Regime | None) -> str:
    """A decided verdict names the regime it was decided in."""
    return f"{verdict} at {regime.short}" if regime and verdict in DECIDED else verdict


def _at(runs: pd.DataFrame, regime: Regime) -> pd.DataFrame:
    return runs[runs["regime"] == regime]


def _shared(*arms: pd.DataFrame) -> list[Regime]:
    """Regimes in which every arm has runs, least trained first."""
    sets = [set(regimes_of(a)) for a in arms]
    return sorted(set.intersection(*sets), key=lambda r: r.weight) if sets else []


# one seed decides nothing: a regime with fewer common seeds is passed over while a less
# trained one has them (a campaign's first runs of a longer regime do not take a verdict
# over from a complete shorter one)
MIN_DECIDING_SEEDS = 2


def _most_trained(regimes: list[Regime], *arms: pd.DataFrame) -> Regime:
    """The most trained of ``regimes`` (least trained first) in which the arms share at least
    :data:`MIN_DECIDING_SEEDS` seeds; the most trained of them all when none does."""
    for regime in reversed(regimes):
        seeds = set.intersection(*(set(_at(arm, regime)["seed"]) for arm in arms))
        if len(seeds) >= MIN_DECIDING_SEEDS:
            return regime
    return regimes[-1]


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``metric`` of ``a`` and of ``b`` for the seeds both have, in the same order."""
    both = a.merge(b, on="seed", suffixes=("_a", "_b"))
    values = [pd.to_numeric(both[f"{metric}_{s}"], errors="coerce") for s in ("a", "b")]
    return values[0].to_numpy(dtype=float), values[1].to_numpy(dtype=float)


def _target(claim) -> dict:
    """The claims_runs.py size of the claim's own regime (its recipe on the full benchmark)."""
    r = claim.regime
    return {"data": FULL, "subsample": 0, "img_size": r.img_size, "epochs": r.epochs}


def _none(ctx, claim, *only) -> dict:
    return {"measured": "no runs", "measured_at": "-", "verdict": "not measured",
            "why": "no runs", "command": ctx.command(ctx.setting, *only)}  # fmt: skip


def _judge_level(claim, ctx) -> dict:
    arm = claim.arms[0]
    runs = ctx.arm(arm)
    if runs.empty:
        return _none(ctx, claim, ctx.only(arm))
    own = [r for r in regimes_of(runs) if comparable(claim.regime, r)]
    if not own:
        levels = "; ".join(f"{r.short}: {stats_text(*seed_stats(_at(runs, r)[ctx.metric]))}"
                           f"{ctx.learning(_at(runs, r), r)}" for r in regimes_of(runs))  # fmt: skip
        return {"measured": f"(another regime, information only) {ctx.label} at {levels} "
                            f"{ctx.baselines(runs)}",
                "measured_at": "; ".join(r.text for r in regimes_of(runs)),
                "verdict": "not comparable",
                "why": f"reported at {claim.regime.short} on {WRITEUP_IMAGES:,} images; "
                       f"measured at {', '.join(r.short for r in regimes_of(runs))} "
                       f"({', '.join(sorted({r.data for r in regimes_of(runs)}))} benchmark)",
                "command": ctx.command(_target(claim), ctx.only(arm))}  # fmt: skip
    regime = own[0]  # the comparable regime closest to the claim's
    at = _at(runs, regime)
    verdict, why = decide_level(at[ctx.metric], claim.value)
    return {"measured": f"{ctx.label}: {stats_text(*seed_stats(at[ctx.metric]))}"
                        f"{ctx.learning(at, regime)} {ctx.baselines(at)}",
            "measured_at": regime.text, "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, ctx.only(arm))}  # fmt: skip


def _judge_comparison(claim, ctx) -> dict:
    a, b = (ctx.arm(x) for x in claim.arms)
    only = [ctx.only(x) for x in claim.arms]
    shared = _shared(a, b)
    if not shared:
        return _none(ctx, claim, *only)
    regime = _most_trained(shared, a, b)
    arch = ctx.arch(claim.arms[0])
    at_a, at_b = _at(a, regime), _at(b, regime)
    if claim.kind == "collapse":  # the unweighted arm's fake recall, at about 0
        rec = f"{ctx.split}_recall"
        recall = at_a[rec]
        verdict, why = decide_level(recall, claim.value, DEGENERATE_RECALL)
        measured = (f"{arch}, unweighted loss, no sampler: fake recall @0.5 "
                    f"{stats_text(*seed_stats(recall))}, {ctx.label} {stats_text(*seed_stats(at_a[ctx.metric]))}; "
                    f"weighted: {stats_text(*seed_stats(at_b[ctx.metric]))}")  # fmt: skip
    else:
        score_a, score_b = _paired(at_a, at_b, ctx.metric)
        verdict, why = decide_comparison(score_a, score_b, claim.expect, claim.value)
        auc = t_interval(np.subtract(*_paired(at_a, at_b, f"{ctx.split}_auc")))
        measured = (f"{arch}: {ctx.label} {claim.measure}: "
                    f"{stats_text(*seed_stats(score_a - score_b), True)}"
                    + (f"; AUC (threshold-free, information): {auc.text()}" if auc else ""))  # fmt: skip
        lost = not_learned(pd.concat([at_a, at_b]))
        if lost:
            verdict, why = undecided(lost, regime)
    measured += f" {ctx.baselines(pd.concat([at_a, at_b]))}"
    others = [r.short for r in shared if r != regime]
    if others:
        measured += f" (also measured at {', '.join(others)})"
    return {"measured": measured, "measured_at": regime.text, "verdict": named(verdict, regime),
            "why": why, "command": ctx.command(regime.setting, *only)}  # fmt: skip


def _judge_ranking(claim, ctx) -> list[dict]:
    """One row per regime any of the ranked models was trained in (least trained first):
    a fixed short length ranks learning speed, an early-stopped regime the models at
    convergence (:attr:`Regime.purpose`, in the row's finding), each judged only by its
    own runs (:func:`_ranking_at`)."""
    arms = [ctx.arm(x) for x in claim.arms]
    regimes = regimes_of(pd.concat(arms))
    if not regimes:
        only = [ctx.only(x) for x in claim.arms]
        return [{**_none(ctx, claim, *only), "why": "no runs of any of its models"}]
    return [{"finding": f"{claim.finding} ({regime.purpose}: {regime.short})",
             **_ranking_at(claim, ctx, [_at(a, regime) for a in arms], regime)}
            for regime in regimes]  # fmt: skip


def _ranking_at(claim, ctx, arms: list[pd.DataFrame], regime: Regime) -> dict:
    """Each measure (F1 at 0.5, AUC, F1 at the tuned threshold) through
    :func:`decide_ranking` on the runs of ``regime``; decided only when they agree and every
    model has learned. Until every model has runs there (a campaign under way) the row is
    not measured, shows the means so far, and names the runs still missing."""
    order = [ctx.arch(x) for x in claim.arms]
    missing = [x for x, a in zip(claim.arms, arms, strict=True) if a.empty]
    if missing:
        runs = pd.concat(arms)
        auc = f"{ctx.split}_auc"
        so_far = ", ".join(f"{arch} {of[auc].mean():.3f} ({len(of)} seed{'s' if len(of) > 1 else ''})"
                           for arch, of in runs.groupby("arch", sort=False))  # fmt: skip
        names = ", ".join(ctx.arch(x) for x in missing)
        return {"measured": f"so far, {ctx.split_label} AUC means: {so_far}",
                "measured_at": regime.text, "verdict": "not measured",
                "why": f"no runs of {names} at {regime.short} yet",
                "command": ctx.command(regime.setting, *(ctx.only(x) for x in missing))}  # fmt: skip
    runs = pd.concat(arms)
    parts, verdicts, whys = [], {}, []
    for column, name in ctx.measures():
        scores = runs.assign(score=pd.to_numeric(runs[column], errors="coerce")).pivot_table(
            index="seed", columns="arch", values="score")  # fmt: skip
        means = scores.mean()
        ranked = sorted(order, key=lambda a: -means.get(a, -np.inf))
        parts.append(f"{name}: " + " > ".join(f"{a} {means.get(a, np.nan):.3f}" for a in ranked))
        verdicts[name], why = decide_ranking(order, scores)
        whys.append(f"{name} {verdicts[name]}: {why}")
    lost = not_learned(runs)
    if lost:
        verdict, why = undecided(lost, regime)
    elif len(set(verdicts.values())) == 1:
        verdict, why = verdicts[ctx.measures()[0][1]], " | ".join(whys)
    else:
        verdict = "inconclusive"
        why = ("the measures disagree (" + ", ".join(f"{k} {v}" for k, v in verdicts.items())
               + "): " + " | ".join(whys))  # fmt: skip
    return {"measured": f"{ctx.split_label} means, {'; '.join(parts)} {ctx.baselines(runs)}",
            "measured_at": regime.text, "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, *(ctx.only(x) for x in claim.arms))}  # fmt: skip


def _main_history(runs_dir, name: str) -> pd.DataFrame:
    """The main-stage epochs of run ``name``'s ``history.csv`` (a fine-tuning stage trains
    on the validation images, so its scores are not validation scores)."""
    history = RunFolder(runs_root(runs_dir) / name).read_history()
    return history[history["stage"] == "main"] if "stage" in history else history


def _judge_curve(claim, ctx) -> dict:
    arm = claim.arms[0]
    runs = ctx.arm(arm)
    long = [r for r in regimes_of(runs) if r.epochs >= 25]
    if runs.empty:
        return _none(ctx, claim, ctx.only(arm))
    if not long:
        most = max(r.epochs for r in regimes_of(runs))
        return {"measured": f"runs have {most} epochs: the curve needs >= 25", "measured_at":
                "; ".join(r.text for r in regimes_of(runs)), "verdict": "not measured",
                "why": "too few epochs", "command": ctx.command(_target(claim), ctx.only(arm))}  # fmt: skip
    regime = long[-1]
    main = [_main_history(ctx.runs_dir, n) for n in _at(runs, regime)["run"]]
    at = lambda c, e: float(c["val_f1"].iloc[e - 1]) if len(c) >= e else np.nan  # noqa: E731
    gain = [at(c, 25) - at(c, 20) for c in main]
    late = [at(c, 40) - at(c, 25) for c in main if len(c) >= 40]
    verdict, why = decide_comparison([at(c, 25) for c in main], [at(c, 20) for c in main],
                                     "higher")  # fmt: skip
    if late and verdict == "reproduced" and abs(seed_stats(late)[0]) > LEVEL_TOL:
        verdict, why = "refuted", f"{why}; but @40 - @25 {seed_stats(late)[0]:+.3f} is not flat"
    return {"measured": f"val F1 @25 - @20: {stats_text(*seed_stats(gain), True)}; @40 - @25: "
                        f"{stats_text(*seed_stats(late), True) if late else 'not run'}",
            "measured_at": regime.text, "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, ctx.only(arm))}  # fmt: skip


def configurations(runs: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The runs of one regime by configuration (plan group, architecture, variant), each
    named ``freqnet``, ``freqnet global_median``: the unit a per-seed pairing stays in."""
    return [(arch if variant == "recipe" else f"{arch} {variant}", of)
            for (arch, variant), of in runs.groupby(["arch", "variant"], sort=True)]  # fmt: skip


def recipe_text(recipe: TrainConfig) -> str:
    """``bce_focal + balanced sampler``, ``ce unweighted``: a recipe's loss and balancing."""
    return (recipe.loss + ("" if recipe.class_weighting else " unweighted")
            + (" + balanced sampler" if recipe.balanced_sampler else ""))  # fmt: skip


def _judge_threshold(claim, ctx) -> dict:
    """The gain of the val-tuned threshold over 0.5, paired by seed within one recipe and
    architecture. The verdict is the write-up's recipe's (the runs of every model trained
    with it, averaged per seed); every other configuration is shown as information."""
    regimes = regimes_of(ctx.table)
    if not regimes:
        return _none(ctx, claim)
    regime = _most_trained(regimes, ctx.table)
    runs = _at(ctx.table, regime)
    tuned = f"{ctx.split}_f1_tuned"
    recipe = reference(claim.reported_on).recipe
    own = runs[(runs["group"] == "arch") & (runs["loss"] == recipe.loss)
               & (runs["class_weighting"] == recipe.class_weighting)
               & ((runs["sampler"] != "-") == recipe.balanced_sampler)]  # fmt: skip
    lost = not_learned(own)
    own = own[~own["arch"].isin(lost)]
    per_model, others = [], []
    for name, of in configurations(runs):
        interval = t_interval(of[tuned] - of[ctx.metric])
        shown = (interval.text() if interval
                 else stats_text(*seed_stats(of[tuned] - of[ctx.metric]), True))  # fmt: skip
        verdict = decide_comparison(of[tuned], of[ctx.metric])[0]
        if of.index.isin(own.index).all() and len(of):
            per_model.append(f"{name} {shown} ({verdict})")
        else:
            learned = "; not learned" if not_learned(of) else ""
            others.append(f"{name} {shown} ({verdict}{learned})")
    # per seed, the mean over the recipe's models: seeds are the independent repeats
    seeds = own.pivot_table(index="seed", columns="arch", values=[tuned, ctx.metric]).dropna()
    at_tuned, at_half = (seeds[c].mean(axis=1) if len(seeds) else pd.Series(dtype=float)
                         for c in (tuned, ctx.metric))  # fmt: skip
    verdict, why = decide_comparison(at_tuned, at_half, claim.expect)
    if own.empty:
        verdict, why = "not measured", f"no run of write-up 2's recipe ({recipe_text(recipe)})"
    excluded = f"; left out, not learned: {', '.join(lost)}" if lost else ""
    measured = (f"{ctx.label.split(' @')[0]} at the val-tuned threshold - at 0.5. Write-up 2's "
                f"recipe ({recipe_text(recipe)}; its {own['arch'].nunique()} models averaged "
                f"per seed){excluded}: {stats_text(*seed_stats(at_tuned - at_half), True)}; "
                f"per model: {'; '.join(per_model) or 'none'}. Other configurations (information): "
                f"{'; '.join(others) or 'none'}")  # fmt: skip
    return {"measured": measured, "measured_at": regime.text, "verdict": named(verdict, regime),
            "why": why, "command": ctx.command(regime.setting)}  # fmt: skip


def _judge_probe(claim, ctx) -> dict:
    """The share kept and the purity of what is kept, from the best architecture's runs
    (a level of write-up 1's final model: judged only in its regime)."""
    arch_runs = ctx.table[ctx.table["group"] == "arch"]
    if arch_runs.empty or ctx.metric != "test_f1":
        return {**_none(ctx, claim), "why": "no run with hidden test labels"}
    own = [r for r in regimes_of(arch_runs) if comparable(claim.regime, r)]
    regime = own[0] if own else regimes_of(arch_runs)[-1]
    runs = _at(arch_runs, regime)
    best = runs.groupby("arch")[ctx.metric].mean().idxmax()
    reports = []
    for name in runs[runs["arch"] == best]["run"]:
        pred = RunFolder(runs_root(ctx.runs_dir) / name).read_predictions("test")
        probe = select_pseudo(pred["id"], pred["prob"], None, PSEUDO_CONFIDENCE)
        reports.append(probe.report(hidden=pred[["id", "label"]]))
    r = pd.DataFrame(reports)
    source = f"{best} (best {ctx.metric}), cut-off {PSEUDO_CONFIDENCE}: "
    if claim.measure == "share_kept":
        measured = (f"{source}kept {stats_text(*seed_stats(r['share_kept']))}, confidence "
                    f"{stats_text(*seed_stats(r['mean_confidence']))}, fake share "
                    f"{stats_text(*seed_stats(r['pseudo_fake_share']))}")  # fmt: skip
        verdict, why = decide_at_least(r["share_kept"], WRITEUP["share_kept"] - LEVEL_TOL)
    else:
        measured = f"{source}purity {stats_text(*seed_stats(r['purity']))}"
        verdict, why = decide_at_least(r["purity"], WRITEUP["purity"])
        if r["n_kept"].eq(0).all():
            verdict, why = "inconclusive", f"no test image reaches confidence {PSEUDO_CONFIDENCE}"
    command = ctx.command(regime.setting, f"{ctx.prefix}-arch-{best}-*")
    if not own:
        return {"measured": f"(another regime, information only) {measured}",
                "measured_at": regime.text, "verdict": "not comparable",
                "why": f"reported at {claim.regime.short} on {WRITEUP_IMAGES:,} images; "
                       f"measured at {regime.short} ({regime.data} benchmark)",
                "command": ctx.command(_target(claim), f"{ctx.prefix}-arch-{claim.reported_on}-*")}  # fmt: skip
    return {"measured": measured, "measured_at": regime.text, "verdict": named(verdict, regime),
            "why": why, "command": command}  # fmt: skip


def _judge_computed(claim, ctx) -> dict:
    w = class_weights(np.r_[np.zeros(41_500, int), np.ones(8_500, int)])
    same = bool(np.allclose(np.round(w, 4), [0.6024, 2.9412]))
    return {"measured": f"[{w[0]:.4f}, {w[1]:.4f}] (computed)", "measured_at": "arithmetic",
            "verdict": "reproduced" if same else "refuted",
            "why": "exact arithmetic" if same else "different numbers",
            "command": 'python -c "import numpy as np; from dflib.data import class_weights; '
                       'print(class_weights(np.r_[np.zeros(41500, int), np.ones(8500, int)]))"'}  # fmt: skip


JUDGES = {"level": _judge_level, "comparison": _judge_comparison, "collapse": _judge_comparison,
          "ranking": _judge_ranking, "curve": _judge_curve, "threshold": _judge_threshold, "probe": _judge_probe,
          "computed": _judge_computed}  # fmt: skip


def judge(claim, ctx: Context) -> list[dict[str, str]]:
    """The measured columns of ``claim``'s rows (its kind's rule): one row, or a ranking's
    one per regime (its ``finding`` then names the regime's meaning)."""
    rows = JUDGES[claim.kind](claim, ctx)
    return rows if isinstance(rows, list) else [rows]


CLAIM = "claim_arch"  # an Arm's architecture: whichever the plan's balance/median runs used
KINDS = ("level", "comparison", "collapse", "ranking", "curve", "threshold", "probe", "computed")


@dataclass(frozen=True)
class Arm:
    """The runs of one plan entry: ``group``, ``arch`` (or :data:`CLAIM`), ``variant``."""

    group: str
    arch: str = CLAIM
    variant: str = "recipe"


@dataclass(frozen=True)
class Claim:
    """One finding of the write-ups.

    Attributes:
        finding: what the write-up says, in a line.
        kind: one of :data:`KINDS` (the rule that judges it).
        reported: the write-up's number or words.
        reported_on: the architecture whose recipe gives the reported regime.
        arms: the runs that measure it (a comparison: the arm then its baseline; a
            ranking: the architectures, reported best first).
        value: a reported level (F1 0.87), a bound, or a comparison's reported size
            (``-0.57``: refuted when the interval of the differences excludes it).
        expect: a comparison's direction, ``"lower"`` or ``"higher"``.
        measure: how the measured number is said (``global median - CoherentNoiseFilter``).
    """

    finding: str
    kind: str
    reported: str
    reported_on: str = "xception_resnet50"
    arms: tuple[Arm, ...] = ()
    value: float | None = None
    expect: str = "lower"
    measure: str = ""

    @property
    def regime(self):
        return reported_regime(self.reported_on)


def _level(arch: str) -> Claim:
    ref = reference(arch)
    return Claim(f"{arch}: {ref.note}", "level", f"F1 {ref.f1:.2f}", arch, (Arm("arch", arch),),
                 ref.f1)  # fmt: skip


def _ranking(order: tuple[str, ...], said: str, who: str) -> Claim:
    return Claim(f"{who}'s ranking: {said}", "ranking", " > ".join(order), order[0],
                 tuple(Arm("arch", a) for a in order))  # fmt: skip


CLAIMS: tuple[Claim, ...] = (
    Claim("without class balancing a model degenerates to 'always real'", "collapse", "—",
          arms=(Arm("balance", variant="unweighted"), Arm("arch")), value=0.0),
    Claim("class weights total / (2 * count) for 41,500 / 8,500", "computed", "[0.6024, 2.9412]"),
    Claim("a global 3x3 median lowers scores vs the CoherentNoiseFilter", "comparison",
          "about -0.2 F1", arms=(Arm("median", variant="global_median"), Arm("arch")),
          value=-0.2, measure="global median - the CoherentNoiseFilter"),
    Claim("a global 3x3 median lowers scores vs no filter (raw noisy images)", "comparison",
          "lower", arms=(Arm("median", variant="global_median"), Arm("median", variant="none")),
          measure="global median - no filter"),
    Claim("ResNet-50 with a selective masked blur vs none", "comparison",
          "F1 about 0.3 vs 0.87 (-0.57)", BLUR_ARCH,
          (Arm("blur", BLUR_ARCH, "selective_median"), Arm("arch", BLUR_ARCH)),
          value=-0.57, measure="selective median - none"),
    *(_level(a) for a in ("resnet50", "freqnet", "hybrid_xception_freq_transformer",
                          "xception_resnet50", "custom_resnet", "rgb_fft", "hrnet_artifact")),
    *(_ranking(order, said, who) for who, (order, said) in RANKINGS.items()),
    Claim("XceptionResNet50: 20 / 25 / 40+ epochs", "curve", "F1 0.87 / 0.91 / 0.91",
          arms=(Arm("arch", "xception_resnet50"),)),
    Claim("tuning the decision threshold on validation gives a significant gain", "threshold",
          "—", "deepfakenet", expect="higher"),
    Claim("pseudo-label probe on the test images (one confidence cut-off): share kept",
          "probe", "95.5% kept (9,553 of 10,000), mean confidence 0.987, classes 85:15",
          measure="share_kept"),
    Claim("pseudo-label probe on the test images (one confidence cut-off): purity", "probe",
          "expected purity > 97%", measure="purity"),
    Claim("minority oversampling / majority undersampling worse than a weighted loss",
          "comparison", "judged unacceptable",
          arms=(Arm("balance", variant="oversample"), Arm("arch")),
          measure="balanced sampler (unweighted) - weighted loss; undersampling not measured"),
)  # fmt: skip

COLUMNS = ["finding", "kind", "reported", "reported_at", "measured", "measured_at", "verdict",
           "why", "command"]  # fmt: skip


def claim_runs(runs_dir=None, prefix: str = PREFIX) -> tuple[pd.DataFrame, dict]:
    """Every finished run of the plan ``prefix`` (leaderboard rows plus ``group``,
    ``variant`` and ``regime``), and the most common regime's setting (for commands)."""
    table = leaderboard(runs_dir, flops=False)
    if table.empty:
        return table, {}
    roles = [run_role({ROLE: r.get("role"), "seed": r["seed"]}, r["run"], prefix)
             for _, r in table.iterrows()]  # fmt: skip
    keep = [r is not None for r in roles]
    table = table[keep].reset_index(drop=True)
    if table.empty:
        return table, {}
    found = pd.DataFrame([r for r in roles if r is not None])
    table[["group", "arch", "variant", "seed"]] = found[["group", "arch", "variant", "seed"]]
    table["regime"] = [run_regime(r) for _, r in table.iterrows()]
    common = table["regime"].value_counts().idxmax()
    return table, common.setting


def plan_command(setting: dict, runs_dir, *only: str) -> str:
    """The ``scripts/claims_runs.py`` command for runs of ``setting`` (a regime's); runs
    read from the ledger are trained into ``runs`` and exported to it."""
    args = ["python", "scripts/claims_runs.py"]
    if setting:
        args += ["--size", str(setting["data"]), "--img-size", str(setting["img_size"]),
                 "--epochs", str(setting["epochs"]), "--train-images", str(setting["subsample"])]  # fmt: skip
        if setting.get("early_stopping"):
            args += ["--early-stopping", str(setting["early_stopping"]),
                     "--early-stopping-metric", str(setting["early_stopping_metric"])]  # fmt: skip
    if runs_root(runs_dir) == ledger_root():
        args += ["--out-dir", "runs", "--export", str(runs_dir)]
    else:
        args += ["--out-dir", str(runs_dir or "runs")]
    return shlex.join([*args, *(["--only", *only] if only else [])])


def claims(runs_dir: str | os.PathLike | None = None, prefix: str = PREFIX) -> pd.DataFrame:
    """One row per :data:`CLAIMS` entry: :data:`COLUMNS`. Findings without runs read
    "not measured"; levels without runs of their regime "not comparable"."""
    table, setting = claim_runs(runs_dir, prefix)
    if table.empty:
        table = pd.DataFrame(columns=[*EMPTY, "regime"])
    scored = not table.empty and table["test_f1"].notna().all()
    metric = "test_f1" if scored else "val_f1"
    ctx = Context(
        table, metric, "hidden-test F1 @0.5" if scored else "val F1 @0.5", runs_dir, setting,
        lambda s, *only: plan_command(s, runs_dir, *only), _claim_arch(table), prefix,
    )  # fmt: skip
    rows = []
    for claim in CLAIMS:
        for judged in judge(claim, ctx):
            row = {"finding": claim.finding, "kind": claim.kind, "reported": claim.reported,
                   "reported_at": claim.regime.text, **judged}  # fmt: skip
            rows.append({k: row.get(k, "") for k in COLUMNS})
    return pd.DataFrame(rows, columns=COLUMNS)


def _claim_arch(table: pd.DataFrame) -> str:
    """The architecture the balance/median runs used (the plan's ``claim_arch``)."""
    found = table[table["group"].isin(["balance", "median"])]["arch"]
    return str(found.iloc[0]) if len(found) else CLAIM_ARCH


def recipe_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The architectures' recipe runs of :func:`claim_runs`' table (the ``arch`` group)."""
    if table.empty:
        return table
    return table[(table["group"] == "arch") & (table["variant"] == "recipe")]


def architectures_by_regime(table: pd.DataFrame) -> pd.DataFrame:
    """Every architecture's recipe runs (the ``arch`` group of :func:`claim_runs`) in each
    regime side by side, one row per architecture in the rankings' order: seeds, epochs run,
    and ``mean ± sd`` of val AUC, hidden-test AUC and F1 at 0.5, with the seeds that learned
    (:func:`dflib.metrics.learning`), so learning speed and convergence read in one row."""
    arch = recipe_runs(table)
    if arch.empty:
        return pd.DataFrame()
    ranked = [a for order, _ in RANKINGS.values() for a in order]
    archs = sorted(
        set(arch["arch"]), key=lambda a: (ranked.index(a) if a in ranked else len(ranked), a)
    )
    rows = []
    for name in archs:
        row = {"architecture": name}
        for regime in regimes_of(arch):
            runs = _at(arch[arch["arch"] == name], regime)
            tag = regime.column
            if runs.empty:
                row.update({f"{tag}: {k}": "-" for k in ("seeds", "epochs run", "val AUC",
                                                         "test AUC", "test F1", "learned")})  # fmt: skip
                continue
            stopped = runs["epochs_run"].astype(int)
            row.update({f"{tag}: seeds": len(runs),
                        f"{tag}: epochs run": f"{stopped.min()}" if stopped.nunique() == 1
                        else f"{stopped.min()}-{stopped.max()}",
                        **{f"{tag}: {title}": cell_text(*seed_stats(runs[column]))
                           for column, title in (("val_auc", "val AUC"), ("test_auc", "test AUC"),
                                                 ("test_f1", "test F1"))},
                        f"{tag}: learned": f"{int(runs['learned'].fillna(False).astype(bool).sum())}"
                                           f"/{len(runs)}"})  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def regimes_section(table: pd.DataFrame) -> str:
    """The markdown of :func:`architectures_by_regime`, its regimes named in full."""
    side = architectures_by_regime(table)
    if side.empty:
        return ""
    legend = "; ".join(f"*{r.column}* = {r.text}, {r.purpose}"
                       for r in regimes_of(recipe_runs(table)))  # fmt: skip
    return "\n".join([
        "## The architectures in each regime", "",
        f"Each architecture's recipe runs, side by side per regime: {legend}. `mean ± sd` "
        "over seeds; *learned*: the seeds whose validation AUC clears the shuffled-label 99th "
        "percentile. The claims judge the write-ups' rankings in each regime separately "
        f"(`claims.md`). Their validation AUC per epoch: [{CURVES_FILE}]({CURVES_FILE}).", "",
        side.to_markdown(index=False), ""])  # fmt: skip


CURVES_FILE = "learning_curves.png"  # beside leaderboard.md: architecture_histories drawn


def architecture_histories(
    table: pd.DataFrame, runs_dir=None
) -> tuple[pd.DataFrame, Regime | None]:
    """The epoch histories of every architecture's recipe runs in the most trained
    early-stopped regime (the converged one; else the most trained), one row per run and
    epoch: ``arch``, ``seed``, ``run``, ``epoch``, ``val_auc``, ``val_f1``; and that regime."""
    arch = recipe_runs(table)
    regimes = regimes_of(arch)
    if not regimes:
        return pd.DataFrame(columns=["arch", "seed", "run", "epoch", "val_auc", "val_f1"]), None
    stopped = [r for r in regimes if r.early_stopping] or regimes
    regime = stopped[-1]
    frames = [_main_history(runs_dir, r.run).assign(arch=r.arch, seed=r.seed, run=r.run)[
                  ["arch", "seed", "run", "epoch", "val_auc", "val_f1"]]
              for r in _at(arch, regime).itertuples()]  # fmt: skip
    return pd.concat(frames, ignore_index=True), regime


def base_verdict(verdict: str) -> str:
    """``refuted at 64 px / 3 epochs`` -> ``refuted``, ``not decided: x not learned`` ->
    ``not decided`` (for counting)."""
    return str(verdict).split(" at ")[0].split(":")[0]


def expected_verdicts(text: str) -> dict[str, str]:
    """``"class weights:reproduced;freqnet:not comparable"`` -> ``{finding start: verdict}``
    (a notebook's ``expect_verdicts``; a finding's name may hold a colon, a verdict never
    does). A pair without a colon or with a verdict not in :data:`VERDICTS` is refused by
    name rather than dropped, so a typo cannot turn a check off."""
    expected = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        finding, _, verdict = pair.rpartition(":")
        if not finding.strip() or verdict.strip() not in VERDICTS:
            raise ValueError(f"expected verdicts: {pair!r} is not 'finding:verdict' with a "
                             f"verdict among {', '.join(VERDICTS)}; pairs are separated by ';'")  # fmt: skip
        expected[finding.strip()] = verdict.strip()
    return expected


def verdicts_of(findings: pd.DataFrame, expected: dict[str, str]) -> dict[str, str]:
    """The verdict (its base word) of the first finding that starts with each of
    ``expected``'s keys, or ``"no such finding"``: what a check compares with ``expected``."""
    words = findings["verdict"].map(base_verdict)
    return {start: next(iter(words[findings["finding"].str.startswith(start)]), "no such finding")
            for start in expected}  # fmt: skip


def verdict_counts(frame: pd.DataFrame) -> dict[str, int]:
    return frame["verdict"].map(base_verdict).value_counts().to_dict()


def missing_runs(plan: list[PlannedRun], runs_dir=None) -> list[str]:
    """The names of ``plan``'s runs that are not finished in ``runs_dir``."""
    root = runs_root(runs_dir)
    return [run.name for run in plan if not is_finished(RunFolder(root / run.name))]


def make_command(plan: list[PlannedRun], runs_dir=None) -> str:
    """The ``scripts/claims_runs.py`` command that trains ``plan`` (its regime and seed count,
    read from its runs) into ``runs_dir``, as notebook 15 prints for missing runs."""
    first = plan[0].config
    setting = {"data": first.synthetic_size, "img_size": first.img_size, "epochs": first.epochs,
               "subsample": first.train_images, "early_stopping": first.early_stopping,
               "early_stopping_metric": first.early_stopping_metric}  # fmt: skip
    seeds = len({run.config.seed for run in plan})
    return plan_command(setting, runs_dir) + f" --seeds {seeds}"


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
        "Rule: for a comparison, each seed's two runs give one difference, and from these "
        "few differences we compute the range in which the true average difference lies with "
        "95% confidence (*95% CI*); a direction is claimed only when that range excludes "
        f"zero (and the difference is at least {MIN_EFFECT}), and a reported size is refuted "
        "only when the range excludes it. So, when two settings truly do not differ, the "
        "table still claims a difference in about 5 of 100 such comparisons (5% by "
        "construction; 4.6% with 3 seeds and 4.1% with 5 in 1,000 simulated seed tables "
        "each, `tests/test_claims_rule.py`), and it finds a difference three times the "
        "sd of the per-seed differences in 79% of tables with 3 seeds, 99.9% with 5.", "",
        "Details: one seed decides nothing (*inconclusive*). The interval is the t-interval "
        "with n - 1 degrees of freedom (`dflib.study.claims.decide_comparison`; p = the "
        f"two-sided p of no difference). A reported level is reproduced when the interval of "
        f"the mean lies within {LEVEL_TOL} of it and refuted when it lies wholly outside. A "
        "ranking compares each neighbouring pair of the reported order the same way, on F1 at "
        "0.5 and on two threshold-free measures (AUC, F1 at the threshold tuned on "
        "validation); it is decided only when the three agree, and the row names where they "
        "disagree. A model whose validation AUC does not clear the 99th percentile of "
        "shuffled-label AUC in most of its seeds has *not learned* "
        "(`dflib.metrics.learning`, the notebooks' rule): a comparison or ranking involving "
        "it is *not decided*, never reproduced or refuted. Scores are F1 of the fake class at "
        "0.5, beside the baselines of the same split: the F1 of calling every image fake and "
        "the shuffled-label AUC's 99th percentile.", "",
        "Regimes: each row names the regime the write-up reported in (*reported_at*: its "
        "recipe's image size and epochs on its 50,000 images) and the regime of the runs "
        "measured (*measured_at*). A level is judged only by runs at its image size, with at "
        "least its epochs, on the full benchmark; otherwise it is *not comparable* and the "
        "level measured in the other regime is shown as information. A comparison or the "
        "threshold gain is decided in the most trained regime measured with at least two "
        "seeds, and its verdict names it (*refuted at 64 px / 3 epochs*). A ranking has one "
        "row per regime its models were trained in, each decided by that regime's runs "
        "alone: at a fixed short length (3 epochs) it ranks how fast the models learn, in "
        "an early-stopped regime (up to a cap of epochs, stopped when validation AUC no "
        "longer improved) the models at convergence.", "",
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
    regimes = regimes_section(claim_runs(runs_dir, prefix)[0])
    return [write_leaderboard(root / "leaderboard.md", table, runs_dir, command,
                              (regimes,) if regimes else ()),
            write_claims(root / "claims.md", frame, runs_dir, command, prefix)]  # fmt: skip
