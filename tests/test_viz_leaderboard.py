"""The leaderboard's figures can be read: each point labelled once, no label over another,
log axes with enough labelled ticks."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from dflib.study.leaderboard import CONFIG_KEYS, SCORES
from dflib.viz.leaderboard import arch_colour, architecture_curves, score_vs_cost

# (arch, filter, class_weighting, sampler, params, train_minutes, test_f1, reported_f1):
# the claims runs' board at 64 px / 3 epochs - five FreqNet variants at the same size
# and F1 within a few hundredths of each other, three other models
ROWS = [
    ("freqnet", "coherent_noise_filter", False, "-", 1_998_754, 3.38, 0.772, 0.48),
    ("freqnet", "coherent_noise_filter", True, "-", 1_998_754, 3.25, 0.747, 0.48),
    ("freqnet", "coherent_noise_filter", False, "balanced", 1_998_754, 3.47, 0.742, 0.48),
    ("freqnet", "global_median", True, "-", 1_998_754, 3.69, 0.736, 0.48),
    ("freqnet", "none", True, "-", 1_998_754, 3.59, 0.671, 0.48),
    ("hybrid_xception_freq_transformer", "coherent_noise_filter", True, "-", 4_855_042, 6.93,
     0.502, 0.75),
    ("resnet50", "selective_median", True, "-", 23_512_130, 7.44, 0.479, 0.87),
    ("hrnet_artifact", "none", True, "balanced", 2_243_905, 5.98, 0.376, 0.80),
]  # fmt: skip


def board() -> pd.DataFrame:
    """A table in the shape :func:`dflib.study.leaderboard.by_config` returns."""
    names = ["arch", "filter", "class_weighting", "sampler", "params", "train_minutes",
             "test_f1", "reported_f1"]  # fmt: skip
    frame = pd.DataFrame(ROWS, columns=names)
    frame = frame.assign(data="synthetic/demo", train_images=0, img_size=64, epochs=3, stopping="-",
                         loss="ce", device="AMD EPYC", precision="float32", n=3, runs="",
                         gflops=0.3,
                         images_per_s=80.0)  # fmt: skip
    for score in SCORES:
        frame[score] = frame["test_f1"] if score not in frame else frame[score]
        frame[f"{score}_std"] = 0.02
    return frame[CONFIG_KEYS + [c for c in frame.columns if c not in CONFIG_KEYS]]


@pytest.mark.parametrize("cost", ["params", "train_minutes"])
def test_every_point_labelled_once_without_overlap_and_readable_log_ticks(cost):
    fig = score_vs_cost(board(), cost, "test_f1")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_visible() and t.get_text()]
    assert len(labels) == len(ROWS)
    texts = [t.get_text() for t in labels]
    assert len(set(texts)) == len(texts), f"two points carry one label: {texts}"
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), f"{texts[i]!r} is drawn over {texts[j]!r}"
    assert ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    ticks = [label.get_text() for loc, label in zip(ax.get_xticks(), ax.get_xticklabels(),
                                                   strict=True)
             if low <= loc <= high and label.get_text().strip()]  # fmt: skip
    assert len(ticks) >= 3, f"{cost}: labelled ticks {ticks}"
    plt.close(fig)


def test_a_single_configuration_still_gets_three_ticks():
    fig = score_vs_cost(board().iloc[:1], "params", "test_f1")
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = [label.get_text() for loc, label in zip(ax.get_xticks(), ax.get_xticklabels(),
                                                   strict=True)
             if low <= loc <= high and label.get_text().strip()]  # fmt: skip
    assert len(ticks) >= 3, ticks
    plt.close(fig)


def test_architecture_curves_one_colour_per_architecture_a_line_per_seed():
    rows = [{"arch": arch, "run": f"{arch}-s{seed}", "seed": seed, "epoch": e, "val_auc": 0.6 + e / 100}
            for arch in ("freqnet", "rgb_fft") for seed in (42, 43) for e in range(1, 4 + seed - 42)]  # fmt: skip
    fig = architecture_curves(pd.DataFrame(rows), "a regime", short_epochs=3)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if len(line.get_xdata()) >= 3]  # not the 2-point rules
    assert len(curves) == 4  # two seeds of two architectures
    assert {tuple(c.get_color()) for c in curves} == {
        arch_colour("freqnet"),
        arch_colour("rgb_fft"),
    }
    assert arch_colour("freqnet") != arch_colour("rgb_fft")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "freqnet (2 seeds)",
        "rgb_fft (2 seeds)",
    ]
    ends = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_marker() == "o")
    assert ends == [3, 3, 4, 4]  # a dot where each run stopped
    empty = architecture_curves(pd.DataFrame(columns=["arch", "run", "epoch", "val_auc"]))
    assert "no runs" in empty.axes[0].texts[0].get_text()
    plt.close("all")
