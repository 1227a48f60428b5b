"""The write-ups' findings (``docs/writeups.md#findings``), one row each: reported, measured, verdict, command.

The findings are data (:data:`CLAIMS`, one :class:`Claim` each) and the table is a loop
over them: adding a claim, or an architecture to a level or a ranking, is one edit here;
a variant of the runs is one edit of :data:`dflib.study.claims_plan.VARIANTS`. The runs
are those of :mod:`dflib.study.claims_plan` (``scripts/claims_runs.py``), found by the
role each carries in its ``params.json`` (:func:`dflib.study.claims_plan.run_role`; older
runs by their name), from a runs folder or the ledger ``reports/runs`` (only their small
files are read).

Every row names the regime a finding was reported in and the regime of the runs that
measured it (:mod:`dflib.study.regimes`). Each kind is judged by its own rule
(:mod:`dflib.study.verdicts`):

- **level** (``F1 0.91 after 25 epochs``): only by runs at its image size, with at least
  its epochs, on the full benchmark; else **not comparable**, both regimes named, the
  other regime's level shown as information;
- **comparison** (global median vs CoherentNoiseFilter, weighted vs unweighted, blur vs
  none, tuned threshold vs 0.5): in any regime, the most trained one measured; the verdict
  names it (``refuted at 64 px / 3 epochs``);
- **ranking** (an order of architectures): Kendall's tau per seed, in any regime;
- **curve** (XceptionResNet50's gain from 20 to 25 epochs, flat to 40): from the epoch
  histories of runs long enough to have those epochs.

The score is F1 of the fake class at 0.5 on the hidden test labels when every run has
them (the embedded benchmark), else on the validation split.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

import pandas as pd

from dflib.study import judges
from dflib.study.claims_plan import BLUR_ARCH, CLAIM_ARCH, PREFIX, run_role
from dflib.study.leaderboard import leaderboard
from dflib.study.regimes import reported_regime, run_regime
from dflib.study.verdicts import (
    LEVEL_TOL,
    decide_at_least,
    decide_difference,
    decide_level,
    decide_ranking,
)
from dflib.train.config import reference
from dflib.train.plan import ROLE
from dflib.train.runs import ledger_root, runs_root

__all__ = ["CLAIMS", "LEVEL_TOL", "RANKINGS", "Arm", "Claim", "claim_runs", "claims", "decide_at_least",
           "decide_difference", "decide_level", "decide_ranking", "plan_command"]  # fmt: skip

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
        value: a reported level (F1 0.87) or a bound.
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


# the write-ups' rankings (docs/writeups.md#findings): who, the order best first, in its words
# (the claims judge them; the training table, reports/training.md, prints them beside its own)
RANKINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "write-up 1": (("xception_resnet50", "resnet50", "hybrid_xception_freq_transformer", "freqnet"),
                   "XceptionResNet50 > ResNet-50 > hybrid > FreqNet"),
    "write-up 2": (("hrnet_artifact", "custom_resnet", "rgb_fft"), "HRNet > custom ResNet > RGB+FFT"),
}  # fmt: skip


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
          measure="global median - the CoherentNoiseFilter"),
    Claim("a global 3x3 median lowers scores vs no filter (raw noisy images)", "comparison",
          "lower", arms=(Arm("median", variant="global_median"), Arm("median", variant="none")),
          measure="global median - no filter"),
    Claim("ResNet-50 with a selective masked blur vs none", "comparison",
          "F1 about 0.3 vs 0.87 (-0.57)", BLUR_ARCH,
          (Arm("blur", BLUR_ARCH, "selective_median"), Arm("arch", BLUR_ARCH)),
          measure="selective median - none"),
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
        table = pd.DataFrame(columns=[*judges.EMPTY, "regime"])
    scored = not table.empty and table["test_f1"].notna().all()
    metric = "test_f1" if scored else "val_f1"
    ctx = judges.Context(
        table, metric, "hidden-test F1 @0.5" if scored else "val F1 @0.5", runs_dir, setting,
        lambda s, *only: plan_command(s, runs_dir, *only), _claim_arch(table), prefix,
    )  # fmt: skip
    rows = []
    for claim in CLAIMS:
        row = {"finding": claim.finding, "kind": claim.kind, "reported": claim.reported,
               "reported_at": claim.regime.text, **judges.judge(claim, ctx)}  # fmt: skip
        rows.append({k: row.get(k, "") for k in COLUMNS})
    return pd.DataFrame(rows, columns=COLUMNS)


def _claim_arch(table: pd.DataFrame) -> str:
    """The architecture the balance/median runs used (the plan's ``claim_arch``)."""
    found = table[table["group"].isin(["balance", "median"])]["arch"]
    return str(found.iloc[0]) if len(found) else CLAIM_ARCH


def base_verdict(verdict: str) -> str:
    """``refuted at 64 px / 3 epochs`` -> ``refuted`` (for counting)."""
    return str(verdict).split(" at ")[0]


def verdict_counts(frame: pd.DataFrame) -> dict[str, int]:
    return frame["verdict"].map(base_verdict).value_counts().to_dict()
