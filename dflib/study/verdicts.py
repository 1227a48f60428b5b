"""The verdict rules of the claims table (:mod:`dflib.study.claims`).

- no run: **not measured**; one seed: **inconclusive** (one training run decides nothing);
- a comparison pairs the runs of each seed; the difference of the means must be larger
  than the seed spread (sample standard deviation of the per-seed differences), else
  **inconclusive**; then **reproduced** if it goes the reported way, **refuted** if not
  (:func:`decide_difference`);
- a reported level (F1 0.87, "about 0.75") is **reproduced** within ``LEVEL_TOL`` of it,
  **inconclusive** when the gap is within the seed spread, **refuted** otherwise
  (:func:`decide_level`, :func:`decide_at_least`); it is judged only by runs of its own
  regime (:mod:`dflib.study.regimes`), else it is **not comparable**;
- a reported ranking (best first) is scored by Kendall's tau between the reported order
  and the measured one, per seed (:func:`decide_ranking`): **reproduced** when the mean
  scores keep the whole order and the per-seed tau's mean exceeds its spread; **refuted**
  when the order of the means differs and the per-seed taus agree it does (mean + sd < 1);
  else **inconclusive**.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau

LEVEL_TOL = 0.05  # "about 0.75" is met by 0.70-0.80


def seed_stats(values) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof 1; NaN under two values) and count of the
    finite ``values``: the seed spread every rule compares against, and every measured cell."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    return (float(v.mean()) if len(v) else float("nan")), sd, len(v)


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


def decide_difference(diffs, expect: str) -> tuple[str, str]:
    """Verdict on per-seed differences ``a - b`` for a claim that ``a`` is ``"lower"`` or
    ``"higher"`` than ``b``. Returns the verdict and its reason."""
    mean, sd, n = seed_stats(diffs)
    if (few := _too_few(n)) is not None:
        return few
    if abs(mean) <= sd:
        return "inconclusive", f"difference {mean:+.3f} within the seed spread {sd:.3f}"
    went = "lower" if mean < 0 else "higher"
    return (
        "reproduced" if went == expect else "refuted"
    ), f"{went} by {abs(mean):.3f} > sd {sd:.3f}"


def decide_level(values, reported: float, tol: float = LEVEL_TOL) -> tuple[str, str]:
    """Verdict on seed values against a reported level (within ``tol`` = reproduced)."""
    mean, sd, n = seed_stats(values)
    if (few := _too_few(n)) is not None:
        return few
    gap = mean - reported
    if abs(gap) <= tol:
        return "reproduced", f"within {tol} of {reported}"
    if abs(gap) <= sd:
        return "inconclusive", f"gap {gap:+.3f} within the seed spread {sd:.3f}"
    return "refuted", f"{gap:+.3f} from {reported} (sd {sd:.3f})"


def decide_at_least(values, bound: float) -> tuple[str, str]:
    """Verdict on seed values for a claim ``value >= bound``."""
    mean, sd, n = seed_stats(values)
    if (few := _too_few(n)) is not None:
        return few
    if mean >= bound:
        return "reproduced", f"mean {mean:.3f} >= {bound:.3g}"
    if bound - mean <= sd:
        return "inconclusive", f"{mean:.3f} below {bound:.3g} by less than the seed spread {sd:.3f}"
    return "refuted", f"{mean:.3f} < {bound:.3g} (sd {sd:.3f})"


def rank_agreement(order: list[str], scores: dict[str, float]) -> float:
    """Kendall's tau between a reported order (best first) and measured scores (1: the
    same order, -1: reversed); NaN when a score is missing."""
    values = [scores.get(name, np.nan) for name in order]
    if len(values) < 2 or not np.all(np.isfinite(values)):
        return float("nan")
    return float(kendalltau(np.arange(len(order), 0, -1), values).statistic)


def decide_ranking(taus, tau_of_means: float) -> tuple[str, str]:
    """Verdict on per-seed Kendall's taus and the tau of the seed-mean scores."""
    mean, sd, n = seed_stats(taus)
    if (few := _too_few(n, "no seed with every model")) is not None:
        return few
    spread = f"tau per seed {mean:+.2f} ± {sd:.2f}"
    if tau_of_means >= 1 and mean > sd:
        return "reproduced", f"the mean scores keep the order; {spread}"
    if tau_of_means < 1 and mean + sd < 1:
        return "refuted", f"another order (tau of the means {tau_of_means:+.2f}); {spread}"
    return "inconclusive", f"tau of the means {tau_of_means:+.2f}; {spread}"
