"""Figures of the leaderboard (:mod:`dflib.study.leaderboard`): score against cost, and the
architectures' learning curves side by side."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import ConnectionPatch
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from dflib.study.claims import SHORT_EPOCHS, architecture_histories
from dflib.train.config import list_recipes, reference

COST = {  # column -> axis label, log scale
    "params": ("parameters", True),
    "train_minutes": ("training time per run (minutes)", True),
    "gflops": ("GFLOPs per image", True),
}
# the mantissas tried in turn for a log axis's labelled ticks, coarsest first: the first
# that puts MIN_TICKS inside the data's range is used (a range within one decade, the
# usual board, gets no decade tick at all)
TICK_MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0, 7.0), tuple(range(1, 10)))
MIN_TICKS = 3
LABEL_SIZE = 8  # points; the point labels' column is spaced by their measured height
LABEL_X = 1.03  # where the labels' column starts, in axes widths


def score_vs_cost(
    agg: pd.DataFrame, cost: str = "params", score: str = "test_f1", reported: bool = True
) -> plt.Figure:
    """One point per configuration (mean over seeds, bars: one sd), a colour per
    architecture; with ``reported`` a hollow diamond at the write-up's F1 of the same model.

    Configurations often share a cost (the variants of one architecture have the same
    parameters) and a score within a few hundredths, so labels beside their points would
    cover each other: each point's label (:func:`_tag`) is written once, in a column right
    of the plot, in the points' vertical order, with a line to its point.

    Args:
        agg: :func:`dflib.study.leaderboard.by_config`'s table.
        cost: ``params``, ``train_minutes`` or ``gflops``.
        score: a score column (``test_f1``, ``val_f1``, ...); falls back to ``val_f1`` when
            it is empty (no hidden labels).
        reported: draw the write-ups' numbers.
    """
    if score not in agg or agg[score].isna().all():
        score = "val_f1"
    label, log = COST[cost]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    if agg.empty:
        ax.text(0.5, 0.5, "no finished runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    fig.subplots_adjust(left=0.08, right=0.6, bottom=0.12, top=0.92)  # the right: labels
    x, y = agg[cost].to_numpy(dtype=float), agg[score].to_numpy(dtype=float)
    err = agg.get(f"{score}_std", pd.Series(np.nan, index=agg.index)).fillna(0).to_numpy()
    colours = [arch_colour(a) for a in agg["arch"]]
    for xi, yi, ei, c in zip(x, y, err, colours, strict=True):
        ax.errorbar(xi, yi, yerr=ei, fmt="o", color=c, ecolor="grey", capsize=3, zorder=3)
    handles = [Line2D([], [], marker="o", color="grey", ls="none",
                      label=f"measured ({score.replace('_', ' ')} @0.5, mean ± sd)")]  # fmt: skip
    if reported and "reported_f1" in agg:
        ref = agg.drop_duplicates("arch")
        ax.scatter(ref[cost], ref["reported_f1"], marker="D", facecolors="none",
                   edgecolors=[arch_colour(a) for a in ref["arch"]], zorder=3)  # fmt: skip
        handles.append(Line2D([], [], marker="D", mfc="none", color="grey", ls="none",
                              label="write-up F1 (its own data)"))  # fmt: skip
    if log and np.nanmin(x) > 0:
        _log_axis(ax, x)
    ax.set(xlabel=label, ylabel="F1 of the fake class", ylim=(0, 1.02),
           title=f"F1 against {label.split(' (')[0]}")  # fmt: skip
    ax.legend(handles=handles, loc="best", fontsize=8)
    _label_column(fig, ax, x, y, [_tag(row) for row in agg.itertuples()], colours)
    return fig


def _label_column(fig, ax, x, y, texts, colours) -> None:
    """Each drawn point's label once, right of the axes at its point's height where it
    can be, moved apart just enough that no label touches another, joined to its point."""
    shown = [i for i in range(len(texts)) if np.isfinite(x[i]) and np.isfinite(y[i])]
    order = sorted(shown, key=lambda i: (y[i], x[i]))
    if not order:
        return
    low, high = ax.get_ylim()
    wanted = [(y[i] - low) / (high - low) for i in order]
    notes = [ax.text(LABEL_X, h, texts[i], transform=ax.transAxes, va="center",
                     fontsize=LABEL_SIZE, color=colours[i], clip_on=False)
             for i, h in zip(order, wanted, strict=True)]  # fmt: skip
    renderer = fig.canvas.get_renderer()
    tallest = max(n.get_window_extent(renderer).height for n in notes)
    gap = 1.15 * tallest / ax.get_window_extent(renderer).height  # in axes fractions
    for i, note, height in zip(order, notes, _spread(wanted, gap), strict=True):
        note.set_y(height)
        ax.add_artist(ConnectionPatch(
            (x[i], y[i]), (LABEL_X, height), coordsA=ax.transData, coordsB=ax.transAxes,
            color=colours[i], lw=0.6, alpha=0.7, shrinkA=3, shrinkB=1, clip_on=False,
        ))  # fmt: skip


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Heights (ascending ``wanted``, axes fractions) at least ``gap`` apart, each as near
    its wanted height as the others allow, kept within [0, 1] when they fit there."""
    heights = list(wanted)
    for k in range(1, len(heights)):  # up from the lowest
        heights[k] = max(heights[k], heights[k - 1] + gap)
    top = max(1.0, (len(heights) - 1) * gap)
    heights[-1] = min(heights[-1], top)
    for k in range(len(heights) - 2, -1, -1):  # then down from the top
        heights[k] = min(heights[k], heights[k + 1] - gap)
    return heights


def _log_axis(ax, values: np.ndarray) -> None:
    """A log x axis with at least :data:`MIN_TICKS` labelled ticks: decades where the data
    spans several, else 1-2-5 or finer steps, widening a range too narrow for three."""
    ax.set_xscale("log")
    low, high = np.nanmin(values) / 1.25, np.nanmax(values) * 1.25  # room for the markers
    ticks = _ticks_of(low, high)
    while not ticks:
        low, high = low / 1.25, high * 1.25
        ticks = _ticks_of(low, high)
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(_short))
    ax.xaxis.set_minor_locator(LogLocator(subs="all"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _ticks_of(low: float, high: float) -> list[float]:
    """The coarsest ticks of :data:`TICK_MANTISSAS` that put :data:`MIN_TICKS` in the range
    (``[]``: none does)."""
    for mantissas in TICK_MANTISSAS:
        ticks = _ticks(low, high, mantissas)
        if len(ticks) >= MIN_TICKS:
            return ticks
    return []


def _ticks(low: float, high: float, mantissas) -> list[float]:
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    return [m * 10.0**d for d in decades for m in mantissas if low <= m * 10.0**d <= high]


def _tag(row) -> str:
    """The architecture, plus what differs from its recipe (filter, loss weighting,
    sampler): the variants of one architecture are told apart."""
    recipe = reference(row.arch).recipe if row.arch in list_recipes() else None
    extra = []
    if recipe is not None and row.filter != recipe.filter:
        extra.append("no filter" if row.filter == "none" else row.filter)
    if not getattr(row, "class_weighting", True):
        extra.append("unweighted")
    balanced = getattr(row, "sampler", "-") != "-"
    if balanced != (recipe is not None and recipe.balanced_sampler):
        extra.append("oversampled" if balanced else "unbalanced batches")
    return row.arch + (f" ({', '.join(extra)})" if extra else "")


def _short(value: float, _pos=None) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"


def architecture_curves(
    histories: pd.DataFrame, title: str = "", short_epochs: int | None = None
) -> plt.Figure:
    """Validation AUC against epoch for every architecture: one colour each, each seed a
    thin line ending in a dot where its run stopped (early stopping or the cap).

    Args:
        histories: :func:`dflib.study.claims.architecture_histories`' table (``arch``,
            ``run``, ``epoch``, ``val_auc``).
        title: the regime, said above the plot.
        short_epochs: draw a dotted line at this epoch, where a fixed-length regime stops
            (its ranking measures learning speed: the curves show what that cuts off).
    """
    fig, ax = plt.subplots(figsize=(9, 4.8))
    if histories.empty:
        ax.text(0.5, 0.5, "no runs of this regime yet", ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        return fig
    archs = list(dict.fromkeys(histories["arch"]))
    for arch in archs:
        colour = arch_colour(arch)
        for _, run in histories[histories["arch"] == arch].groupby("run", sort=True):
            ax.plot(run["epoch"], run["val_auc"], color=colour, linewidth=1, alpha=0.8)
            ax.plot(run["epoch"].iloc[-1], run["val_auc"].iloc[-1], "o", color=colour, markersize=4)
    if short_epochs:
        ax.axvline(short_epochs, color="grey", linestyle=":", linewidth=1)
        ax.text(short_epochs, 0.505, f" {short_epochs} epochs", color="grey", fontsize=8)
    ax.axhline(0.5, color="lightgrey", linewidth=0.8)
    seeds = histories.groupby("arch")["run"].nunique()
    handles = [Line2D([], [], color=arch_colour(a),
                      label=f"{a} ({seeds[a]} seed{'s' if seeds[a] > 1 else ''})")
               for a in archs]  # fmt: skip
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation AUC")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def converged_curves(table: pd.DataFrame, runs_dir=None) -> plt.Figure:
    """:func:`architecture_curves` of the converged regime's recipe runs
    (:func:`dflib.study.claims.architecture_histories` of :func:`~dflib.study.claims.claim_runs`'
    ``table``), titled with that regime, a dotted line where the 3-epoch runs stop: what
    ``make results`` writes as ``learning_curves.png`` and notebook 15 shows."""
    histories, regime = architecture_histories(table, runs_dir)
    title = f"{regime.text}: validation AUC per epoch" if regime else ""
    return architecture_curves(histories, title, short_epochs=SHORT_EPOCHS)


def arch_colour(arch: str):
    """One colour per registered architecture, the same in every figure whatever the runs
    drawn (tab10 by the recipes' order; grey for an unknown name)."""
    recipes = list_recipes()
    return plt.get_cmap("tab10").colors[recipes.index(arch) % 10] if arch in recipes else "grey"
