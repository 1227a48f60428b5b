"""The write-ups' findings (``docs/writeups.md#findings``), one row each: reported, measured, verdict, command.

The runs are those of :mod:`dflib.study.claims_plan` (``scripts/claims_runs.py``), read
from a runs folder by name (``claims-<group>-<arch>[-<variant>]-s<seed>``); only their
json/csv files are needed. Where several sizes were trained, the most common one is used.

The verdict rule (:func:`decide_difference`, :func:`decide_level`, :func:`decide_at_least`):

- no run: **not measured**; one seed: **inconclusive** (one training run decides nothing);
- a comparison pairs the runs of each seed; the difference of the means must be larger
  than the seed spread (sample standard deviation of the per-seed differences), else
  **inconclusive**; then **reproduced** if it goes the reported way, **refuted** if not;
- a reported level (F1 0.87, "about 0.75") is **reproduced** within ``LEVEL_TOL`` of it,
  **inconclusive** when the gap is within the seed spread, **refuted** otherwise.

The score is F1 of the fake class at 0.5 on the hidden test labels when every run has
them (the embedded benchmark), else on the validation split.
"""

from __future__ import annotations

import os
import re
import shlex

import numpy as np
import pandas as pd

from dflib.data import class_weights
from dflib.decide.pseudo import WRITEUP, select_pseudo
from dflib.study.claims_plan import CLAIM_ARCH, PREFIX
from dflib.study.leaderboard import leaderboard, runs_root
from dflib.train.recipes import reference
from dflib.train.runs import RunFolder

LEVEL_TOL = 0.05  # "about 0.75" is met by 0.70-0.80
DEGENERATE_RECALL = 0.05  # "always real": at most 5% of the fakes found at 0.5
PSEUDO_CONFIDENCE = 0.9  # the probe's single cut-off max(p, 1 - p)
NAME = re.compile(r"^(?P<prefix>.+)-(?P<group>arch|balance|median|blur)-(?P<arch>[a-z0-9_]+)"
                  r"(?:-(?P<variant>[a-z0-9_]+))?-s(?P<seed>\d+)$")  # fmt: skip
SETTING = ["data", "subsample", "img_size", "epochs"]


def _stats(values) -> tuple[float, float, int]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    return (float(v.mean()) if len(v) else float("nan")), sd, len(v)


def _fmt(mean: float, sd: float, n: int, signed: bool = False) -> str:
    if n == 0:
        return "no runs"
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if n < 2 else f"{text} ± {sd:.3f} (n={n})"


def decide_difference(diffs, expect: str) -> tuple[str, str]:
    """Verdict on per-seed differences ``a - b`` for a claim that ``a`` is ``"lower"`` or
    ``"higher"`` than ``b``. Returns the verdict and its reason."""
    mean, sd, n = _stats(diffs)
    if n == 0:
        return "not measured", "no runs"
    if n == 1:
        return "inconclusive", "one seed"
    if abs(mean) <= sd:
        return "inconclusive", f"difference {mean:+.3f} within the seed spread {sd:.3f}"
    went = "lower" if mean < 0 else "higher"
    return (
        "reproduced" if went == expect else "refuted"
    ), f"{went} by {abs(mean):.3f} > sd {sd:.3f}"


def decide_level(values, reported: float, tol: float = LEVEL_TOL) -> tuple[str, str]:
    """Verdict on seed values against a reported level (within ``tol`` = reproduced)."""
    mean, sd, n = _stats(values)
    if n == 0:
        return "not measured", "no runs"
    if n == 1:
        return "inconclusive", "one seed"
    gap = mean - reported
    if abs(gap) <= tol:
        return "reproduced", f"within {tol} of {reported}"
    if abs(gap) <= sd:
        return "inconclusive", f"gap {gap:+.3f} within the seed spread {sd:.3f}"
    return "refuted", f"{gap:+.3f} from {reported} (sd {sd:.3f})"


def decide_at_least(values, bound: float) -> tuple[str, str]:
    """Verdict on seed values for a claim ``value >= bound``."""
    mean, sd, n = _stats(values)
    if n == 0:
        return "not measured", "no runs"
    if n == 1:
        return "inconclusive", "one seed"
    if mean >= bound:
        return "reproduced", f"mean {mean:.3f} >= {bound:.3g}"
    if bound - mean <= sd:
        return "inconclusive", f"{mean:.3f} below {bound:.3g} by less than the seed spread {sd:.3f}"
    return "refuted", f"{mean:.3f} < {bound:.3g} (sd {sd:.3f})"


def claim_runs(runs_dir=None, prefix: str = PREFIX) -> tuple[pd.DataFrame, dict]:
    """The finished plan runs (name parsed into group, arch, variant, seed) of the most
    common setting, and that setting."""
    table = leaderboard(runs_dir, prefix=f"{prefix}-", flops=False)
    if table.empty:
        return table, {}
    parts = table["run"].str.extract(NAME)
    table = pd.concat([table, parts[["group", "variant"]]], axis=1).dropna(subset=["group"])
    table["variant"] = table["variant"].fillna("recipe")
    if table.empty:
        return table, {}
    setting = table.groupby(SETTING).size().idxmax()
    keep = (table[SETTING] == pd.Series(setting, index=SETTING)).all(axis=1)
    return table[keep].reset_index(drop=True), dict(zip(SETTING, setting, strict=True))


def _arm(table, group, arch, variant="recipe") -> pd.DataFrame:
    return table[
        (table["group"] == group) & (table["arch"] == arch) & (table["variant"] == variant)
    ]


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> np.ndarray:
    both = a.merge(b, on="seed", suffixes=("_a", "_b"))
    return (both[f"{metric}_a"] - both[f"{metric}_b"]).to_numpy(dtype=float)


def plan_command(setting: dict, runs_dir, *only: str) -> str:
    """The ``scripts/claims_runs.py`` command for ``setting`` (from :func:`claim_runs`)."""
    args = ["python", "scripts/claims_runs.py"]
    if setting:
        args += ["--size", str(setting["data"]), "--img-size", str(setting["img_size"]),
                 "--epochs", str(setting["epochs"]), "--train-images", str(setting["subsample"])]  # fmt: skip
    args += ["--out-dir", str(runs_dir or "runs")]
    return shlex.join([*args, *(["--only", *only] if only else [])])


def claims(runs_dir: str | os.PathLike | None = None, prefix: str = PREFIX) -> pd.DataFrame:
    """One row per finding: ``finding``, ``reported``, ``measured``, ``verdict``, ``why``,
    ``command``. Findings without runs read "not measured"."""
    table, setting = claim_runs(runs_dir, prefix)
    metric = "test_f1" if not table.empty and table["test_f1"].notna().all() else "val_f1"
    label = "hidden-test F1 @0.5" if metric == "test_f1" else "val F1 @0.5"
    rows: list[dict] = []
    empty = pd.DataFrame(columns=["run", "group", "arch", "variant", "seed", "test_recall",
                                  "val_recall", "val_f1", "val_f1_tuned", "test_f1", "test_f1_tuned"])  # fmt: skip
    t = table if not table.empty else empty

    def add(finding, reported, measured, decided, command):
        rows.append({"finding": finding, "reported": reported, "measured": measured,
                     "verdict": decided[0], "why": decided[1], "command": command})  # fmt: skip

    cmd = lambda *only: plan_command(setting, runs_dir, *only)  # noqa: E731
    arch_of = {g: t[t["group"] == g]["arch"] for g in ("balance", "median")}
    arch_of = {g: (a.iloc[0] if len(a) else CLAIM_ARCH) for g, a in arch_of.items()}
    ca = arch_of["balance"]

    unweighted, weighted = _arm(t, "balance", ca, "unweighted"), _arm(t, "arch", ca)
    rec = "test_recall" if metric == "test_f1" else "val_recall"
    r = _stats(unweighted.get(rec, []))
    add("without class balancing a model degenerates to 'always real'", "—",
        f"{ca}, unweighted loss, no sampler: fake recall @0.5 {_fmt(*r)}, {label} "
        f"{_fmt(*_stats(unweighted[metric]))}; weighted: {_fmt(*_stats(weighted[metric]))}",
        decide_level(unweighted.get(rec, []), 0.0, DEGENERATE_RECALL),
        cmd(f"claims-balance-{ca}-unweighted-*", f"claims-arch-{ca}-*"))  # fmt: skip

    w = class_weights(np.r_[np.zeros(41_500, int), np.ones(8_500, int)])
    same = bool(np.allclose(np.round(w, 4), [0.6024, 2.9412]))
    add("class weights total / (2 * count) for 41,500 / 8,500", "[0.6024, 2.9412]",
        f"[{w[0]:.4f}, {w[1]:.4f}] (computed)",
        ("reproduced", "exact arithmetic") if same else ("refuted", "different numbers"),
        'python -c "import numpy as np; from dflib.data import class_weights; '
        'print(class_weights(np.r_[np.zeros(41500, int), np.ones(8500, int)]))"')  # fmt: skip

    ma = arch_of["median"]
    gm = _arm(t, "median", ma, "global_median")
    for other, name, reported in ((_arm(t, "arch", ma), "the CoherentNoiseFilter", "about -0.2 F1"),
                                  (_arm(t, "median", ma, "none"), "no filter (raw noisy images)", "lower")):  # fmt: skip
        d = _paired(gm, other, metric)
        add(f"a global 3x3 median lowers scores vs {name}", reported,
            f"{ma}: {label} global median - {name.split(' (')[0]}: {_fmt(*_stats(d), True)}",
            decide_difference(d, "lower"), cmd(f"claims-median-{ma}-*", f"claims-arch-{ma}-*"))  # fmt: skip

    base, blur = _arm(t, "arch", "resnet50"), _arm(t, "blur", "resnet50", "selective_median")
    d = _paired(blur, base, metric)
    add("ResNet-50 with a selective masked blur vs none", "F1 about 0.3 vs 0.87 (-0.57)",
        f"{label} selective median - none: {_fmt(*_stats(d), True)} (blur {_fmt(*_stats(blur[metric]))})",
        decide_difference(d, "lower"), cmd("claims-blur-resnet50-*", "claims-arch-resnet50-*"))  # fmt: skip

    for arch in ("resnet50", "freqnet", "hybrid_xception_freq_transformer", "xception_resnet50",
                 "custom_resnet", "rgb_fft", "hrnet_artifact"):  # fmt: skip
        ref = reference(arch)
        values = _arm(t, "arch", arch)[metric]
        epochs = f" after {setting['epochs']} epochs" if setting else ""
        add(f"{arch}: {ref.note}", f"F1 {ref.f1:.2f}", f"{label}{epochs}: {_fmt(*_stats(values))}",
            decide_level(values, ref.f1), cmd(f"claims-arch-{arch}-*"))  # fmt: skip

    add(
        *_epochs_claim(
            _arm(t, "arch", "xception_resnet50"), runs_dir, cmd("claims-arch-xception_resnet50-*")
        )
    )
    gain = (
        (t["test_f1_tuned"] - t["test_f1"])
        if metric == "test_f1"
        else t["val_f1_tuned"] - t["val_f1"]
    )
    add("tuning the decision threshold on validation gives a significant gain", "—",
        f"every run, {label.split(' @')[0]} at the val-tuned threshold - at 0.5: "
        f"{_fmt(*_stats(gain), True)} over runs", decide_difference(gain, "higher"), cmd())  # fmt: skip
    for row in _pseudo_claims(t, metric, runs_dir, cmd):
        add(*row)

    over = _arm(t, "balance", ca, "oversample")
    d = _paired(over, weighted, metric)
    add("minority oversampling / majority undersampling worse than a weighted loss",
        "judged unacceptable", f"{ca}: {label} balanced sampler (unweighted) - weighted loss: "
        f"{_fmt(*_stats(d), True)}; undersampling not measured", decide_difference(d, "lower"),
        cmd(f"claims-balance-{ca}-oversample-*", f"claims-arch-{ca}-*"))  # fmt: skip
    return pd.DataFrame(rows)


def _epochs_claim(runs: pd.DataFrame, runs_dir, command: str):
    finding, reported = "XceptionResNet50: 20 / 25 / 40+ epochs", "F1 0.87 / 0.91 / 0.91"
    curves = [RunFolder(runs_root(runs_dir) / n).read_history() for n in runs["run"]]
    longest = max((len(c) for c in curves), default=0)
    if not curves:
        return finding, reported, "no runs", ("not measured", "no runs"), command
    if longest < 25:
        return (finding, reported, f"runs have {longest} epochs: the curve needs >= 25",
                ("not measured", "too few epochs"), command)  # fmt: skip
    at = lambda c, e: float(c["val_f1"].iloc[e - 1]) if len(c) >= e else np.nan  # noqa: E731
    d = [at(c, 25) - at(c, 20) for c in curves]
    late = [at(c, 40) - at(c, 25) for c in curves if len(c) >= 40]
    return (finding, reported, f"val F1 @25 - @20: {_fmt(*_stats(d), True)}; @40 - @25: "
            f"{_fmt(*_stats(late), True) if late else 'not run'}", decide_difference(d, "higher"), command)  # fmt: skip


def _pseudo_claims(t: pd.DataFrame, metric: str, runs_dir, cmd) -> list[tuple]:
    """Two rows: the share kept at the confidence cut-off, and the purity of what is kept
    (the write-up reports both; one can hold while the other does not)."""
    finding = "pseudo-label probe on the test images (one confidence cut-off): "
    share = (f"{WRITEUP['share_kept']:.1%} kept (9,553 of 10,000), mean confidence "
             f"{WRITEUP['mean_confidence']}, classes 85:15")  # fmt: skip
    purity = f"expected purity > {WRITEUP['purity']:.0%}"
    arch_runs = t[t["group"] == "arch"]
    if arch_runs.empty or metric != "test_f1":
        missing = ("not measured", "no run with hidden test labels")
        return [(finding + "share kept", share, "no runs", missing, cmd()),
                (finding + "purity", purity, "no runs", missing, cmd())]  # fmt: skip
    best = arch_runs.groupby("arch")[metric].mean().idxmax()
    reports = []
    for name in arch_runs[arch_runs["arch"] == best]["run"]:
        pred = RunFolder(runs_root(runs_dir) / name).read_predictions("test")
        probe = select_pseudo(pred["id"], pred["prob"], None, PSEUDO_CONFIDENCE)
        reports.append(probe.report(hidden=pred[["id", "label"]]))
    r = pd.DataFrame(reports)
    pure = decide_at_least(r["purity"], WRITEUP["purity"])
    if r["n_kept"].eq(0).all():
        pure = ("inconclusive", f"no test image reaches confidence {PSEUDO_CONFIDENCE}")
    source = f"{best} (best {metric}), cut-off {PSEUDO_CONFIDENCE}: "
    kept = (f"{source}kept {_fmt(*_stats(r['share_kept']))}, confidence "
            f"{_fmt(*_stats(r['mean_confidence']))}, fake share {_fmt(*_stats(r['pseudo_fake_share']))}")  # fmt: skip
    command = cmd(f"claims-arch-{best}-*")
    return [
        (finding + "share kept", share, kept,
         decide_at_least(r["share_kept"], WRITEUP["share_kept"] - LEVEL_TOL), command),
        (finding + "purity", purity, f"{source}purity {_fmt(*_stats(r['purity']))}", pure, command),
    ]  # fmt: skip
