"""Where a detector looks: class-activation maps against the fake region, which spatial
frequencies its decision depends on, and a finished run's validation images ready to be
explained.

- Grad-CAM through captum (``LayerGradCam`` on a convolutional layer, upsampled to the
  image with ``LayerAttribution.interpolate``) for the log-odds of "fake", whatever the
  head (1 or 2 logits). The layer is found generically (:func:`cam_layer`): the deepest
  module whose output is a spatial map at least ``min_side`` cells wide.
- The fake region of each benchmark image, drawn from its metadata (the ellipse of
  :func:`dflib.synthetic.fake.region_mask`, at the image's native size, resized as the
  cache resized the image), and one number: the share of CAM mass inside the region
  over the region's share of the image (:func:`cam_mass_share`; 1 = no preference,
  above 1 = the model looks where the fake is).
- Frequency-band occlusion (:func:`band_occlusion`): zero one radial band of every
  image's spectrum and measure how the fake probability and the AUC drop.
- A run explained (:func:`load_explained`): its data are rebuilt from its ``params.json``
  (same data, subsample, seed and so the same validation split; the cache is reused),
  its final weights (``best.pt``) are loaded, and every image keeps its metadata row (for
  the benchmark: the fake region and the generator family), its fake-region mask at the
  model's resolution and the probability the loaded model gives it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from dflib.data import stratified_split
from dflib.imageio import describe_images
from dflib.metrics import binary_metrics
from dflib.synthetic.fake import region_mask
from dflib.train import load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import prepare
from dflib.train.losses import fake_logit
from dflib.train.runs import RunFolder, run_folder

REGION_COLUMNS = ("region_cx", "region_cy", "region_rx", "region_ry", "region_angle", "feather")
# architectures whose deepest single map is not the one worth explaining
CAM_LAYERS: dict[str, Callable[[nn.Module], nn.Module]] = {
    # the point of the artifact HRNet is its stride-2 branch, kept to the end
    "hrnet_artifact": lambda m: m.stages[-1][-1].branches[0],
}


@dataclass(frozen=True)
class LayerInfo:
    """A module of the model's forward pass: its name in ``model.named_modules()``, the
    module, the shape ``(C, h, w)`` of its output map on the probe input and how many
    times one forward pass calls it."""

    name: str
    module: nn.Module
    shape: tuple[int, int, int]
    calls: int = 1


def map_layers(model: nn.Module, img_size: int = 64) -> list[LayerInfo]:
    """Modules whose output is one spatial map when ``forward_features`` runs on an
    ``img_size`` probe image, in the order they finish (deepest last)."""
    calls: dict[str, int] = {}
    shapes: dict[str, tuple[int, int, int]] = {}
    order: list[str] = []
    modules = dict(model.named_modules())

    def hook(name):
        def record(_module, _inputs, output):
            calls[name] = calls.get(name, 0) + 1
            if isinstance(output, torch.Tensor) and output.ndim == 4 and name not in shapes:
                shapes[name] = tuple(output.shape[1:])
                order.append(name)

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in modules.items() if n]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            probe = torch.zeros(1, getattr(model, "in_chans", 3), img_size, img_size, device=device)
            model.forward_features(probe)
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return [LayerInfo(n, modules[n], shapes[n], calls[n]) for n in order]


def cam_layer(model: nn.Module, img_size: int = 64, name: str = "", min_side: int = 0) -> LayerInfo:
    """The layer Grad-CAM explains.

    ``name`` (a module path such as ``"stages.2"``) wins; then an architecture in
    :data:`CAM_LAYERS`; otherwise the deepest module, called once per forward pass,
    whose map is at least ``min_side`` cells wide (and at least 2: a 1x1 map has no
    "where") and whose enclosing blocks' maps are too (so not the first conv of a
    block that then strides below it; a plain ``nn.Sequential`` of stages is no block). Grad-CAM's resolution is that map's: at 64 px
    the deepest map of a ResNet-like model is 2x2, so ``min_side=8`` trades class
    specificity for a sharper map.
    """
    layers = map_layers(model, img_size)
    once = [layer for layer in layers if layer.calls == 1]
    arch = getattr(getattr(model, "default_cfg", None), "name", "")
    if name or arch in CAM_LAYERS:
        target = model.get_submodule(name) if name else CAM_LAYERS[arch](model)
        found = [layer for layer in once if layer.module is target]
        if not found:
            raise ValueError(f"layer {name or arch!r} does not output one spatial map once per "
                             f"forward pass; candidates: {[layer.name for layer in once][-8:]}")  # fmt: skip
        return found[0]
    side = max(min_side, 2)
    # a block (not a plain Sequential of stages) whose map is too small: nothing inside
    # it qualifies, e.g. the 1x1 conv of a ResNet bottleneck before its strided 3x3 conv
    small = {layer.name for layer in layers if min(layer.shape[1:]) < side
             and not isinstance(layer.module, nn.Sequential)}  # fmt: skip

    def fits(layer: LayerInfo) -> bool:
        parts = layer.name.split(".")
        inside_small = any(".".join(parts[:k]) in small for k in range(1, len(parts)))
        return min(layer.shape[1:]) >= side and not inside_small

    fitting = [layer for layer in once if fits(layer)]
    if not fitting:
        raise ValueError(
            f"no layer of {type(model).__name__} outputs a map of at least {side} cells at "
            f"{img_size} px: lower min_side or use larger images"
        )
    return fitting[-1]


def grad_cam(model: nn.Module, x: torch.Tensor, layer: nn.Module, relu: bool = True) -> np.ndarray:
    """Grad-CAM of the log-odds of "fake" at ``layer``, upsampled (bilinear) to the input.

    Args:
        x: normalised images ``(N, C, H, W)`` on the model's device.
        relu: keep only the evidence for "fake" (Grad-CAM's ReLU); ``False`` returns the
            signed map.

    Returns:
        ``(N, H, W)`` float32 maps, non-negative with ``relu``.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    model.eval()
    cam = LayerGradCam(lambda inputs: fake_logit(model(inputs).float()), layer)
    attr = cam.attribute(x, relu_attributions=relu)
    attr = LayerAttribution.interpolate(attr, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    return attr[:, 0].detach().float().cpu().numpy()


def region_masks(frame: pd.DataFrame, size: int) -> np.ndarray:
    """Where each image's fake region is, as the model sees the image (``N x size x
    size`` in [0, 1]: the share of each resized pixel inside the ellipse).

    The ellipse is drawn from the metadata columns (:data:`REGION_COLUMNS`) at the
    image's native size (read from its file header), its support taken (the soft seam
    included: every pixel the swap changed) and resized like the image. Real images and
    data without that metadata get all-zero masks.
    """
    masks = np.zeros((len(frame), size, size), dtype=np.float32)
    if not set(REGION_COLUMNS) <= set(frame.columns):
        return masks
    values = frame[list(REGION_COLUMNS)].to_numpy(dtype=float)
    has = ~np.isnan(values).any(axis=1)
    if not has.any():
        return masks
    headers = describe_images(frame["path"].to_numpy()[has])
    rows = np.flatnonzero(has)
    for row, w, h in zip(rows, headers["width"], headers["height"], strict=True):
        support = (region_mask((int(h), int(w)), *values[row]) > 0).astype(np.float32)
        image = Image.fromarray(support, mode="F").resize((size, size), Image.Resampling.BILINEAR)
        masks[row] = np.clip(np.asarray(image), 0.0, 1.0)
    return masks


def cam_mass_share(cams: np.ndarray, masks: np.ndarray) -> pd.DataFrame:
    """Per image: ``inside`` (share of the CAM's mass inside the mask), ``area`` (the
    mask's share of the image) and ``ratio = inside / area``: 1 for a uniform map, above
    1 when the map concentrates on the region. NaN where the map or the mask is empty."""
    cams = np.asarray(cams, dtype=np.float64).reshape(len(cams), -1)
    masks = np.asarray(masks, dtype=np.float64).reshape(len(masks), -1)
    mass = cams.sum(axis=1)
    area = masks.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.where(mass > 0, (cams * masks).sum(axis=1) / mass, np.nan)
        ratio = np.where(area > 0, inside / area, np.nan)
    return pd.DataFrame(
        {"inside": inside, "area": np.where(area > 0, area, np.nan), "ratio": ratio}
    )


def radial_frequency(height: int, width: int) -> np.ndarray:
    """``|f|`` of every FFT bin in units of the Nyquist frequency (1 on the axes' edge,
    up to sqrt(2) in the corners), in ``torch.fft.fft2``'s layout."""
    fy = np.fft.fftfreq(height)[:, None] / 0.5
    fx = np.fft.fftfreq(width)[None, :] / 0.5
    return np.sqrt(fy**2 + fx**2)


def band_edges(n_bands: int) -> np.ndarray:
    """``n_bands + 1`` edges evenly over [0, 1] Nyquist; the last band also takes the
    corners beyond 1 (diagonal frequencies up to sqrt(2))."""
    edges = np.linspace(0.0, 1.0, n_bands + 1)
    edges[-1] = np.sqrt(2.0) + 1e-9
    return edges


def zero_band(x: torch.Tensor, low: float, high: float, keep_dc: bool = True) -> torch.Tensor:
    """``x`` (``... x H x W``, real) with every frequency ``low <= |f| < high`` removed.
    The mean (DC) is kept by default: zeroing it changes brightness, not detail."""
    radius = torch.as_tensor(radial_frequency(*x.shape[-2:]), device=x.device)
    band = (radius >= low) & (radius < high)
    if keep_dc:
        band[0, 0] = False
    spectrum = torch.fft.fft2(x.double())
    spectrum = spectrum.masked_fill(band, 0)
    return torch.fft.ifft2(spectrum).real.to(x.dtype)


def band_energy(x: torch.Tensor, edges) -> np.ndarray:
    """Share of the (non-DC) spectral energy of ``x`` in each band, over all images."""
    power = torch.fft.fft2(x.double()).abs().pow(2).sum(dim=tuple(range(x.ndim - 2)))
    power[0, 0] = 0
    radius = torch.as_tensor(radial_frequency(*x.shape[-2:]))
    total = float(power.sum()) or 1.0
    return np.array([float(power[(radius >= lo) & (radius < hi)].sum()) / total
                     for lo, hi in zip(edges[:-1], edges[1:], strict=True)])  # fmt: skip


Scorer = Callable[[torch.Tensor], np.ndarray]


def run_scorer(model: nn.Module, mean, std, device, batch_size: int = 64) -> Scorer:
    """Probabilities of "fake" for float images in [0, 1] (``N x 3 x H x W``), normalised
    with the model's ``mean`` / ``std`` and scored in batches."""
    mean = torch.as_tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)

    @torch.no_grad()
    def score(x: torch.Tensor) -> np.ndarray:
        model.eval()
        out = [torch.sigmoid(fake_logit(model(((b.to(device).float()) - mean) / std).float()))
               for b in x.split(batch_size)]  # fmt: skip
        return torch.cat(out).cpu().numpy().astype(np.float64)

    return score


def band_occlusion(score: Scorer, images: torch.Tensor, labels, edges) -> pd.DataFrame:
    """Zero each radial band of every image and re-score.

    Args:
        score: float images ``N x 3 x H x W`` in [0, 1] -> probability of "fake".
        images: those images (as the model sees them: cached and filtered).
        labels: 0/1 per image.
        edges: band edges in Nyquist units (:func:`band_edges`).

    Returns:
        One row per band plus ``"none"`` (nothing zeroed): the band's share of the
        spectral energy, the mean fake probability of fakes and of reals, the AUC, and
        ``drop_fake`` / ``drop_auc``: how much zeroing the band lowered them.
    """
    labels = np.asarray(labels)
    energy = band_energy(images, edges)
    rows = {"none": (np.nan, np.nan, np.nan, score(images))}
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        name = f"{lo:.2f}-{min(hi, np.sqrt(2)):.2f}"
        rows[name] = (lo, min(hi, np.sqrt(2)), energy[k], score(zero_band(images, lo, hi)))
    base = rows["none"][3]
    both = len(np.unique(labels)) == 2
    table = {}
    for name, (lo, hi, share, prob) in rows.items():
        auc = binary_metrics(labels, prob).get("auc", np.nan) if both else np.nan
        table[name] = {"low": lo, "high": hi, "energy_share": share,
                       "p_fake_fakes": prob[labels == 1].mean() if (labels == 1).any() else np.nan,
                       "p_fake_reals": prob[labels == 0].mean() if (labels == 0).any() else np.nan,
                       "auc": auc,
                       "drop_fake": float((base - prob)[labels == 1].mean()) if (labels == 1).any() else np.nan,
                       "max_change": float(np.abs(base - prob).max())}  # fmt: skip
    out = pd.DataFrame.from_dict(table, orient="index")
    out["drop_auc"] = out.loc["none", "auc"] - out["auc"]
    return out


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

    ``layer`` and ``min_side`` choose the Grad-CAM layer (:func:`cam_layer`).
    """
    run = run_folder(run)
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
    """The CAM-mass ratio (:func:`cam_mass_share`) of fakes: all of
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
