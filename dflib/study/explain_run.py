"""A finished run's validation images, ready to be explained (:mod:`dflib.study.explain`).

The run's data are rebuilt from its ``params.json`` (same data, subsample, seed and so
the same validation split; the cache is reused), its final weights (``best.pt``) are
loaded, and every image keeps its metadata row (for the benchmark: the fake region and
the generator family), its fake-region mask at the model's resolution and the
probability the loaded model gives it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from dflib.data import stratified_split
from dflib.study.explain import LayerInfo, Scorer, cam_layer, grad_cam, region_masks, run_scorer
from dflib.train import load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import prepare
from dflib.train.runs import RunFolder, run_folder


@dataclass
class Explained:
    """Validation images of a run with everything needed to explain its decisions.

    Attributes:
        frame: one row per image: ``id``, ``path``, ``label``, the source's metadata
            columns and ``prob`` (of fake, from the loaded weights).
        images: the images as the model sees them (cached, filtered), uint8 NxHxWx3.
        masks: fake-region masks (N x H x W in [0, 1]; zero for reals or no metadata).
        layer: the Grad-CAM target layer.
        threshold: the run's decision threshold.
    """

    run: RunFolder
    config: TrainConfig
    model: nn.Module
    device: torch.device
    mean: tuple[float, ...]
    std: tuple[float, ...]
    layer: LayerInfo
    frame: pd.DataFrame
    images: np.ndarray
    masks: np.ndarray
    threshold: float

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)

    def floats(self, index=None) -> torch.Tensor:
        """Images ``index`` (all by default) as float NCHW in [0, 1], on the CPU."""
        images = self.images if index is None else self.images[np.asarray(index)]
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0

    def scorer(self, batch_size: int = 64) -> Scorer:
        """Float images in [0, 1] -> probability of fake, with this run's model."""
        return run_scorer(self.model, self.mean, self.std, self.device, batch_size)

    def cams(self, index=None, batch_size: int = 32) -> np.ndarray:
        """Grad-CAM maps (N x H x W, non-negative) of images ``index`` (all by default)."""
        x = self.floats(index)
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        maps = [grad_cam(self.model, ((b - mean) / std).to(self.device), self.layer.module)
                for b in x.split(batch_size)]  # fmt: skip
        return np.concatenate(maps) if maps else np.zeros((0, *x.shape[-2:]), np.float32)

    def worst(self, n: int) -> np.ndarray:
        """The ``n`` most confident misses (fakes scored lowest), then the ``n`` most
        confident false alarms (reals scored highest): the order of
        :func:`dflib.viz.training.worst_errors`."""
        prob, labels = self.frame["prob"].to_numpy(), self.labels
        fakes, reals = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
        return np.concatenate(
            [fakes[np.argsort(prob[fakes])][:n], reals[np.argsort(-prob[reals])][:n]]
        )

    def pick(self, n: int, seed: int = 42) -> dict[str, np.ndarray]:
        """``n`` random positions per class (``"real"``, ``"fake"``), seeded."""
        rng = np.random.default_rng(seed)
        return {name: np.sort(rng.permutation(np.flatnonzero(self.labels == k))[:n])
                for k, name in enumerate(("real", "fake"))}  # fmt: skip


def load_explained(
    run: RunFolder | str | os.PathLike,
    *,
    max_images: int = 0,
    seed: int = 42,
    layer: str = "",
    min_side: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> Explained:
    """The run's model and validation images (a stratified ``max_images`` subset; 0: all).

    ``layer`` and ``min_side`` choose the Grad-CAM layer (:func:`dflib.study.explain.cam_layer`).
    """
    run = run if isinstance(run, RunFolder) else run_folder(run)
    if not run.best.is_file():
        raise FileNotFoundError(f"{run.root} has no best.pt: explaining needs the run's weights")
    model, config, pipeline, dev = load_run_model(run, device)
    data = prepare(config, progress=progress)
    positions = np.sort(data.val)
    labels = data.labels[positions]
    if 0 < max_images < len(positions) and np.bincount(labels, minlength=2).min() >= 2:
        _, keep = stratified_split(labels, val_fraction=max(max_images, 2), seed=seed)
        positions = positions[keep]
    frame = data.cache.frame.iloc[positions].reset_index(drop=True)
    images = np.asarray(data.cache[positions])
    target = cam_layer(model, config.img_size, layer, min_side)
    mean = tuple(pipeline.mean.flatten().tolist())
    std = tuple(pipeline.std.flatten().tolist())
    explained = Explained(run, config, model, dev.device, mean, std, target, frame, images,
                          region_masks(frame, config.img_size), run.decision_threshold())  # fmt: skip
    explained.frame["prob"] = explained.scorer()(explained.floats())
    return explained


def mass_share_summary(shares: pd.DataFrame, frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The CAM-mass ratio (:func:`dflib.study.explain.cam_mass_share`) of fakes: all of
    them, detected and missed at ``threshold``, and per generator family where known.
    ``share_above_1``: the share of fakes whose map favours the region."""
    fakes = frame["label"].to_numpy() == 1
    valid = shares["ratio"].notna().to_numpy()
    groups = {"all fakes": fakes, "detected": fakes & (frame["prob"].to_numpy() >= threshold),
              "missed": fakes & (frame["prob"].to_numpy() < threshold)}  # fmt: skip
    if "family" in frame:
        groups.update({f"family {f}": fakes & (frame["family"] == f).to_numpy()
                       for f in sorted(frame.loc[fakes, "family"].dropna().astype(str).unique())})  # fmt: skip
    rows = {}
    for name, member in groups.items():
        part = shares[member & valid]
        rows[name] = {"n": len(part), "inside": part["inside"].mean(), "area": part["area"].mean(),
                      "ratio": part["ratio"].mean(), "ratio_median": part["ratio"].median(),
                      "share_above_1": (part["ratio"] > 1).mean() if len(part) else np.nan}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")
