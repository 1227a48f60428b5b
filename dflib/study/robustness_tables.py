"""The robustness study's tables: drops from the clean score, who degrades least, whether
the ranking survives, what the filter's tolerance and a re-tuned threshold change.

All take :func:`dflib.study.robustness.score_runs`'s table (one row per run, condition and
test-time filter setting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["run", "arch", "filter"]
MIN_DROP = 0.02  # an F1 drop smaller than this is not "recovered" (it is noise)


def drops(scores: pd.DataFrame) -> pd.DataFrame:
    """Every perturbed row with its change from the same run and filter setting on the
    clean images: ``d_auc``, ``d_f1`` (at the run's threshold), ``d_f1_retuned`` and
    ``recovered`` (the share of the F1 drop a re-tuned threshold wins back, where the drop
    is at least ``MIN_DROP``)."""
    clean = scores[scores["kind"] == "clean"].set_index(KEYS)[["auc", "f1"]]
    clean = clean.add_suffix("_clean")
    out = scores[scores["kind"] != "clean"].join(clean, on=KEYS)
    out["d_auc"] = out["auc"] - out["auc_clean"]
    out["d_f1"] = out["f1"] - out["f1_clean"]
    out["d_f1_retuned"] = out["f1_retuned"] - out["f1_clean"]
    lost = -out["d_f1"]
    out["recovered"] = np.where(lost >= MIN_DROP, (out["f1_retuned"] - out["f1"]) / lost, np.nan)
    return out.reset_index(drop=True)


def own_pipeline(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each run's own test-time pipeline (its training filter, or none)."""
    return table[table["own"]]


def drop_table(table: pd.DataFrame, metric: str = "d_f1") -> pd.DataFrame:
    """``metric`` per (perturbation, strength), one column per architecture and filter
    setting (``arch / filter``): the table of the drop at each strength."""
    frame = table.assign(column=table["arch"] + " / " + table["filter"])
    return frame.pivot_table(index=["kind", "strength"], columns="column", values=metric,
                             sort=False)  # fmt: skip


def degradation(table: pd.DataFrame) -> pd.DataFrame:
    """Per architecture (own pipeline): clean AUC / F1, mean and worst drop over every
    perturbed condition, the share of the F1 drop re-tuning recovers; least degraded first."""
    own = own_pipeline(table)
    out = own.groupby("arch").agg(
        auc_clean=("auc_clean", "first"), f1_clean=("f1_clean", "first"),
        mean_d_auc=("d_auc", "mean"), worst_d_auc=("d_auc", "min"),
        mean_d_f1=("d_f1", "mean"), worst_d_f1=("d_f1", "min"),
        mean_d_f1_retuned=("d_f1_retuned", "mean"), recovered=("recovered", "median"),
    )  # fmt: skip
    return out.sort_values("mean_d_auc", ascending=False)


def ranking(scores: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """Per condition (own pipelines): the architectures ordered by ``metric`` and whether
    that order is the clean images' order (``kept``)."""
    own = own_pipeline(scores)
    orders = (own.sort_values(metric, ascending=False).groupby("condition", sort=False)["arch"]
              .agg(" > ".join))  # fmt: skip
    clean = orders.get("clean", "")
    meta = own.drop_duplicates("condition").set_index("condition")[["kind", "strength"]]
    out = meta.join(orders.rename("order"))
    out["kept"] = out["order"] == clean
    return out.reset_index()


def tolerance(scores: pd.DataFrame, metric: str = "auc") -> pd.DataFrame:
    """``metric`` on the clean and noisy conditions for every filter setting, per
    architecture: does a wider tolerance help when the noise is farther from 0 / 255?"""
    noisy = scores[scores["kind"].isin(["clean", "salt_pepper", "salt_pepper_far"])]
    return noisy.pivot_table(index=["arch", "kind", "strength"], columns="filter",
                             values=metric, sort=False)  # fmt: skip


def recovery(table: pd.DataFrame) -> pd.DataFrame:
    """Per perturbation (own pipelines): mean F1 drop at the run's threshold, after
    re-tuning, and the median share recovered."""
    own = own_pipeline(table)
    return own.groupby("kind", sort=False).agg(
        d_f1=("d_f1", "mean"), d_f1_retuned=("d_f1_retuned", "mean"),
        recovered=("recovered", "median"), d_auc=("d_auc", "mean"),
    )  # fmt: skip


def conclusions(scores: pd.DataFrame) -> str:
    """The measured answers in words (markdown bullets), from the tables above."""
    table = drops(scores)
    deg = degradation(table)
    ranks = ranking(scores)
    perturbed = ranks[ranks["kind"] != "clean"]
    rec = recovery(table)
    best = deg.index[0]
    lines = [
        f"- least degraded (mean AUC change over {len(perturbed)} conditions): **{best}** "
        f"({deg['mean_d_auc'].iloc[0]:+.3f}; worst {deg['worst_d_auc'].iloc[0]:+.3f}); "
        + "; ".join(f"{a} {r.mean_d_auc:+.3f}" for a, r in deg.iloc[1:].iterrows()),
        f"- the clean AUC order ({ranks.loc[ranks['kind'] == 'clean', 'order'].iat[0]}) holds in "
        f"{int(perturbed['kept'].sum())} of {len(perturbed)} conditions",
        "- mean F1 change at the run's threshold -> after re-tuning, per perturbation: "
        + "; ".join(f"{k} {r.d_f1:+.3f} -> {r.d_f1_retuned:+.3f}" for k, r in rec.iterrows()),
    ]
    tol = tolerance(scores).groupby(level="kind", sort=False).mean()
    if len(tol.columns) > 1:
        lines.append("- mean AUC per filter setting: " + "; ".join(
            f"{k}: " + ", ".join(f"{c} {v:.3f}" for c, v in row.items()) for k, row in tol.iterrows()
        ))  # fmt: skip
    return "\n".join(lines)
