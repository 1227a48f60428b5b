"""The training runs that decide the write-ups' findings (``docs/writeups.md#findings``): the smallest set, as data.

``scripts/claims_runs.py`` and notebook 15 train this plan (through
:func:`dflib.train.plan.ensure_planned`) and :mod:`dflib.study.claims` reads it back, so
both agree on what each run is for. Every run is its architecture's recipe
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
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from dflib.train.config import TrainConfig, get_recipe, list_recipes
from dflib.train.plan import ROLE, PlannedRun

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


# what makes a regime: runs of two regimes never share a name or a ledger entry
REGIME_KEYS = ("synthetic_size", "img_size", "epochs", "train_images", "finetune_epochs")
# the short CPU regime of the committed claims runs keeps the plain names
SHORT_REGIME = ("demo", 64, 3, 0, 0)
# what a finished run (in the runs folder or the ledger) must share to be taken for a plan
# run of its name, besides its role: its seed and its regime
SAME = ("seed", *REGIME_KEYS)


def regime_tag(config: TrainConfig) -> str:
    """``""`` for the short regime, else ``-<size>-<px>px-<epochs>e[-<images>][-ft<n>]``."""
    values = tuple(getattr(config, k) for k in REGIME_KEYS)
    if values == SHORT_REGIME:
        return ""
    size, px, epochs, images, finetune = values
    return (f"-{size}-{px}px-{epochs}e" + (f"-{images}" if images else "")
            + (f"-ft{finetune}" if finetune else ""))  # fmt: skip


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
              "finetune_epochs": finetune_epochs, **train}  # fmt: skip
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
