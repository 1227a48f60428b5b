"""Regimes: the image size, epochs and training images a number was measured at.

A level the write-ups reported ("F1 0.91 after 25 epochs") is judged only by runs of its
own regime (:func:`comparable`: the same image size, at least its epochs, the full
benchmark); a run of another regime is shown beside it, never as its verdict
(``docs/writeups.md#recipes`` for the reported regimes).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dflib.train.config import reference

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
    """

    img_size: int
    epochs: int
    images: int
    data: str
    subsample: int = 0
    arch: str = ""

    @property
    def short(self) -> str:
        """``64 px / 3 epochs`` (a verdict names its regime so)."""
        return f"{self.img_size} px / {self.epochs} epochs"

    @property
    def text(self) -> str:
        """``freqnet, 64 px, 3 epochs, 6,000 images (demo benchmark)``."""
        data = self.data if self.data == WRITEUP_DATA else f"{self.data} benchmark"
        arch = f"{self.arch}, " if self.arch else ""
        return f"{arch}{self.img_size} px, {self.epochs} epochs, {self.images:,} images ({data})"

    @property
    def setting(self) -> dict:
        """The ``scripts/claims_runs.py`` size of runs in this regime (:func:`plan_command`)."""
        return {"data": self.data, "subsample": self.subsample, "img_size": self.img_size,
                "epochs": self.epochs}  # fmt: skip

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
    """The regime of one leaderboard row (:func:`dflib.study.leaderboard.leaderboard`)."""
    return Regime(int(row["img_size"]), int(row["epochs"]), int(row["train_images"]),
                  str(row["data"]), int(row["subsample"]))  # fmt: skip


def comparable(level: Regime, run: Regime) -> bool:
    """A run may judge a reported level: same image size, at least its epochs, the full
    benchmark (a shorter run, a smaller image or the demo benchmark measure another thing)."""
    return run.img_size == level.img_size and run.epochs >= level.epochs and run.data == FULL


def regimes_of(runs: pd.DataFrame) -> list[Regime]:
    """The regimes present in a table with a ``regime`` column, least trained first."""
    if runs.empty or "regime" not in runs:
        return []
    return sorted(set(runs["regime"]), key=lambda r: r.weight)
