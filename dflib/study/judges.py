"""How each kind of claim (:data:`dflib.study.claims.KINDS`) is measured and judged.

:func:`judge` takes one :class:`~dflib.study.claims.Claim` and the claims runs
(:class:`Context`) and returns the row's ``measured``, ``measured_at``, ``verdict``, ``why``
and ``command``. The rules are :mod:`dflib.study.verdicts`'; the regimes
:mod:`dflib.study.regimes`'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dflib.data import class_weights
from dflib.decide.pseudo import WRITEUP, select_pseudo
from dflib.study.regimes import FULL, WRITEUP_IMAGES, Regime, comparable, regimes_of
from dflib.study.verdicts import (
    LEVEL_TOL,
    decide_at_least,
    decide_difference,
    decide_level,
    decide_ranking,
    rank_agreement,
    seed_stats,
    stats_text,
)
from dflib.train.runs import RunFolder, runs_root

DEGENERATE_RECALL = 0.05  # "always real": at most 5% of the fakes found at 0.5
PSEUDO_CONFIDENCE = 0.9  # the probe's single cut-off max(p, 1 - p)
DECIDED = ("reproduced", "refuted", "inconclusive")
EMPTY = ["run", "group", "arch", "variant", "seed", "test_recall", "val_recall", "val_f1",
         "val_f1_tuned", "test_f1", "test_f1_tuned", "img_size", "epochs", "train_images",
         "data", "subsample"]  # fmt: skip


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


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> np.ndarray:
    both = a.merge(b, on="seed", suffixes=("_a", "_b"))
    return (both[f"{metric}_a"] - both[f"{metric}_b"]).to_numpy(dtype=float)


def _target(claim) -> dict:
    """The claims_runs.py size of the claim's own regime (its recipe on the full benchmark)."""
    r = claim.regime
    return {"data": FULL, "subsample": 0, "img_size": r.img_size, "epochs": r.epochs}


def _none(ctx, claim, *only) -> dict:
    return {"measured": "no runs", "measured_at": "-", "verdict": "not measured",
            "why": "no runs", "command": ctx.command(ctx.setting, *only)}  # fmt: skip


def _level(claim, ctx) -> dict:
    arm = claim.arms[0]
    runs = ctx.arm(arm)
    if runs.empty:
        return _none(ctx, claim, ctx.only(arm))
    own = [r for r in regimes_of(runs) if comparable(claim.regime, r)]
    if not own:
        levels = "; ".join(f"{r.short}: {stats_text(*seed_stats(_at(runs, r)[ctx.metric]))}"
                           for r in regimes_of(runs))  # fmt: skip
        return {"measured": f"(another regime, information only) {ctx.label} at {levels}",
                "measured_at": "; ".join(r.text for r in regimes_of(runs)),
                "verdict": "not comparable",
                "why": f"reported at {claim.regime.short} on {WRITEUP_IMAGES:,} images; "
                       f"measured at {', '.join(r.short for r in regimes_of(runs))} "
                       f"({', '.join(sorted({r.data for r in regimes_of(runs)}))} benchmark)",
                "command": ctx.command(_target(claim), ctx.only(arm))}  # fmt: skip
    regime = own[0]  # the comparable regime closest to the claim's
    values = _at(runs, regime)[ctx.metric]
    verdict, why = decide_level(values, claim.value)
    return {"measured": f"{ctx.label}: {stats_text(*seed_stats(values))}", "measured_at": regime.text,
            "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, ctx.only(arm))}  # fmt: skip


def _comparison(claim, ctx) -> dict:
    a, b = (ctx.arm(x) for x in claim.arms)
    only = [ctx.only(x) for x in claim.arms]
    shared = _shared(a, b)
    if not shared:
        return _none(ctx, claim, *only)
    regime = shared[-1]  # the most trained regime measured
    arch = ctx.arch(claim.arms[0])
    if claim.kind == "collapse":  # the unweighted arm's fake recall, at about 0
        rec = "test_recall" if ctx.metric == "test_f1" else "val_recall"
        recall = _at(a, regime)[rec]
        verdict, why = decide_level(recall, claim.value, DEGENERATE_RECALL)
        measured = (f"{arch}, unweighted loss, no sampler: fake recall @0.5 "
                    f"{stats_text(*seed_stats(recall))}, {ctx.label} {stats_text(*seed_stats(_at(a, regime)[ctx.metric]))}; "
                    f"weighted: {stats_text(*seed_stats(_at(b, regime)[ctx.metric]))}")  # fmt: skip
    else:
        d = _paired(_at(a, regime), _at(b, regime), ctx.metric)
        verdict, why = decide_difference(d, claim.expect)
        measured = f"{arch}: {ctx.label} {claim.measure}: {stats_text(*seed_stats(d), True)}"
    others = [r.short for r in shared[:-1]]
    if others:
        measured += f" (also measured at {', '.join(others)})"
    return {"measured": measured, "measured_at": regime.text, "verdict": named(verdict, regime),
            "why": why, "command": ctx.command(regime.setting, *only)}  # fmt: skip


def _ranking(claim, ctx) -> dict:
    arms = [ctx.arm(x) for x in claim.arms]
    order = [ctx.arch(x) for x in claim.arms]
    only = [ctx.only(x) for x in claim.arms]
    shared = _shared(*arms)
    if not shared:
        missing = [o for o, a in zip(order, arms, strict=True) if a.empty]
        out = _none(ctx, claim, *only)
        return {**out, "why": f"no regime with runs of every model (none: {', '.join(missing)})"
                if missing else "no regime with runs of every model"}  # fmt: skip
    parts, decided = [], None
    for regime in shared:
        runs = pd.concat([_at(a, regime) for a in arms])
        means = runs.groupby("arch")[ctx.metric].mean().to_dict()
        taus = [rank_agreement(order, s.set_index("arch")[ctx.metric].to_dict())
                for _, s in runs.groupby("seed") if set(order) <= set(s["arch"])]  # fmt: skip
        tau = rank_agreement(order, means)
        measured = " > ".join(sorted(order, key=lambda a: -means[a]))
        parts.append(f"{regime.short}: {measured} (tau of the means {tau:+.2f}, per seed "
                     f"{stats_text(*seed_stats(taus), True)})")  # fmt: skip
        decided = (regime, decide_ranking(taus, tau))
    regime, (verdict, why) = decided
    return {"measured": f"{ctx.label} by mean: " + "; ".join(parts), "measured_at": regime.text,
            "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, *only)}  # fmt: skip


def _curve(claim, ctx) -> dict:
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
    curves = [RunFolder(runs_root(ctx.runs_dir) / n).read_history()
              for n in _at(runs, regime)["run"]]  # fmt: skip
    main = [c[c["stage"] == "main"] if "stage" in c else c for c in curves]
    at = lambda c, e: float(c["val_f1"].iloc[e - 1]) if len(c) >= e else np.nan  # noqa: E731
    gain = [at(c, 25) - at(c, 20) for c in main]
    late = [at(c, 40) - at(c, 25) for c in main if len(c) >= 40]
    verdict, why = decide_difference(gain, "higher")
    if late and verdict == "reproduced" and abs(seed_stats(late)[0]) > LEVEL_TOL:
        verdict, why = "refuted", f"{why}; but @40 - @25 {seed_stats(late)[0]:+.3f} is not flat"
    return {"measured": f"val F1 @25 - @20: {stats_text(*seed_stats(gain), True)}; @40 - @25: "
                        f"{stats_text(*seed_stats(late), True) if late else 'not run'}",
            "measured_at": regime.text, "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting, ctx.only(arm))}  # fmt: skip


def _threshold(claim, ctx) -> dict:
    t = ctx.table
    regimes = regimes_of(t)
    if not regimes:
        return _none(ctx, claim)
    regime = regimes[-1]
    runs = _at(t, regime)
    tuned = "test_f1_tuned" if ctx.metric == "test_f1" else "val_f1_tuned"
    gain = runs[tuned] - runs[ctx.metric]
    verdict, why = decide_difference(gain, "higher")
    return {"measured": f"every run, {ctx.label.split(' @')[0]} at the val-tuned threshold - at "
                        f"0.5: {stats_text(*seed_stats(gain), True)} over runs",
            "measured_at": regime.text, "verdict": named(verdict, regime), "why": why,
            "command": ctx.command(regime.setting)}  # fmt: skip


def _probe(claim, ctx) -> dict:
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


def _computed(claim, ctx) -> dict:
    w = class_weights(np.r_[np.zeros(41_500, int), np.ones(8_500, int)])
    same = bool(np.allclose(np.round(w, 4), [0.6024, 2.9412]))
    return {"measured": f"[{w[0]:.4f}, {w[1]:.4f}] (computed)", "measured_at": "arithmetic",
            "verdict": "reproduced" if same else "refuted",
            "why": "exact arithmetic" if same else "different numbers",
            "command": 'python -c "import numpy as np; from dflib.data import class_weights; '
                       'print(class_weights(np.r_[np.zeros(41500, int), np.ones(8500, int)]))"'}  # fmt: skip


JUDGES = {"level": _level, "comparison": _comparison, "collapse": _comparison,
          "ranking": _ranking, "curve": _curve, "threshold": _threshold, "probe": _probe,
          "computed": _computed}  # fmt: skip


def judge(claim, ctx: Context) -> dict[str, str]:
    """The measured columns of ``claim``'s row (its kind's rule)."""
    return JUDGES[claim.kind](claim, ctx)
