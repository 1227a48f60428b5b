"""What each noise filter does to the spectrum: class and group mean spectra and radial
profiles of every filter's output, and a summary of whether the fake signal survives
(the high-band difference, the up-sampling grid contrast and the linear profile probe of
:mod:`dflib.spectral.profile_probe`, trained on each filter's output).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dflib.filters.transforms import filter_set
from dflib.spectral.fingerprints import freq_grid, grid_contrast
from dflib.spectral.profile_probe import REFERENCE, fit_profile_probe, frequencies
from dflib.spectral.spectra import azimuthal_profile, log_magnitude_spectrum


@dataclass
class FilterSpectra:
    """Spectra of one filter's output.

    Attributes:
        name: the filter.
        means: class-mean grey log-spectra, ``{0: S x S, 1: S x S}`` (centred).
        group_means: the same per group (e.g. ``"real"`` and each generator family), or
            ``None`` when no groups were given.
        profiles: ``N x R`` azimuthal profile of each image's grey log-spectrum.
        seconds: time spent in the filter itself.
    """

    name: str
    means: dict[int, np.ndarray]
    group_means: dict[str, np.ndarray] | None
    profiles: np.ndarray
    seconds: float


def filter_spectra(
    batch: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    tol: int = 30,
    groups: np.ndarray | None = None,
    chunk: int = 128,
    single_thread: bool = True,
) -> dict[str, FilterSpectra]:
    """Apply each filter to ``batch`` and keep only its spectra (chunked: no filtered copy
    of the whole batch is held; one FFT per image serves means and profiles).

    Args:
        batch: ``N x S x S x 3`` uint8 images.
        labels: 0/1 per image.
        names: filter names (:func:`dflib.filters.list_filters`), ``"none"`` for the input.
        tol: tolerance of the filters that take one.
        groups: optional group name per image (:func:`family_groups`) for group means.
        chunk: images filtered at a time.
        single_thread: run torch on one CPU thread meanwhile. The filter kernels end
            each op in a thread barrier, so on a machine whose cores are shared with
            other work several threads can be tens of times slower than one
            (:mod:`dflib.filters.kernels`); a notebook cannot know, so one is the safe
            default.
    """
    from dflib.runtime import single_thread as one_thread

    labels = np.asarray(labels)
    with one_thread() if single_thread else contextlib.nullcontext():
        return {
            name: _one_filter_spectra(batch, labels, name, tol, groups, chunk) for name in names
        }


def _one_filter_spectra(
    batch: np.ndarray,
    labels: np.ndarray,
    name: str,
    tol: int,
    groups: np.ndarray | None,
    chunk: int,
) -> FilterSpectra:
    """:func:`filter_spectra` for one filter."""
    import torch

    flt = filter_set([name], tol)[name]
    by_class = _MeanAccumulator()
    by_group = _MeanAccumulator() if groups is not None else None
    profiles, seconds = [], 0.0
    for s in range(0, len(batch), chunk):
        start = time.perf_counter()
        filtered = flt(batch[s : s + chunk])
        seconds += time.perf_counter() - start
        spec = torch.from_numpy(log_magnitude_spectrum(filtered, grey=True))
        by_class.add(spec, labels[s : s + chunk])
        if by_group is not None:
            by_group.add(spec, np.asarray(groups)[s : s + chunk])
        profiles.append(azimuthal_profile(spec).numpy())
    group_means = by_group.means() if by_group is not None else None
    return FilterSpectra(name, by_class.means(), group_means, np.concatenate(profiles), seconds)


class _MeanAccumulator:
    """Per-label float64 sums of precomputed spectra (SpectrumMeans takes images)."""

    def __init__(self) -> None:
        self.sums: dict = {}
        self.counts: dict = {}

    def add(self, spec, labels: np.ndarray) -> None:
        for value in np.unique(labels):
            part = spec[np.flatnonzero(labels == value)].double().sum(0)
            key = value.item()
            self.sums[key] = self.sums[key] + part if key in self.sums else part
            self.counts[key] = self.counts.get(key, 0) + int((labels == value).sum())

    def means(self) -> dict:
        return {k: (self.sums[k] / self.counts[k]).float().numpy() for k in sorted(self.sums)}


def normalize_profiles(profiles: np.ndarray) -> np.ndarray:
    """Min-max scale each profile to ``[0, 1]`` (the Durall features)."""
    lo = profiles.min(-1, keepdims=True)
    return (profiles - lo) / np.maximum(profiles.max(-1, keepdims=True) - lo, 1e-12)


def _band(shape: tuple[int, int], low: float) -> np.ndarray:
    """Boolean mask of centred frequencies with radius ``>= low`` cycles per pixel."""
    fy, fx = freq_grid(shape)
    return np.sqrt(fy**2 + fx**2) >= low


def filter_summary(
    spectra: dict[str, FilterSpectra],
    labels: np.ndarray,
    high_band: float = 0.25,
    normalize: bool = True,
    n_splits: int = 5,
    seed: int = 42,
    upsampling: int = 4,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What each filter does to the spectrum, and whether the fake signal survives it.

    Columns of the summary (one row per filter, ``"none"`` is the reference):

    - ``high_band_change``: mean change of the log-spectrum above ``high_band`` (both
      classes pooled): how much fine detail, noise included, the filter removes;
    - ``hf_diff_rms``: RMS of the fake-minus-real mean log-spectrum above ``high_band``:
      how much class-distinguishing structure is left in the fine detail;
      ``hf_diff_kept`` is its ratio to no filter;
    - ``hf_pattern_corr``: correlation of that high-band difference map with the
      unfiltered one (1: the same fingerprint pattern survives; near 0: it is gone);
    - ``grid_<family>`` (with group means): :func:`grid_contrast` of the family-minus-real
      map, the fingerprint at the up-sampling grid frequencies, in log units;
    - ``probe_accuracy`` / ``probe_f1`` / ``probe_auc``: the linear profile probe
      trained on that filter's output; ``ms_per_image``: filter time.

    Args:
        spectra: :func:`filter_spectra` output; must hold ``"none"``.
        labels: 0/1 per image.
        high_band: start of the high-frequency band in cycles per pixel.
        normalize: min-max scale the profiles before the probe (Durall features).
        n_splits, seed: probe cross-validation.
        upsampling: total up-sampling factor of the generators (see :func:`grid_contrast`).

    Returns:
        ``(summary, removed, difference)``; ``removed`` and ``difference`` are radius x
        filter frames (index in cycles per pixel) of the pooled profile change (after
        minus before) and of the fake-minus-real profile difference.
    """
    if "none" not in spectra:
        raise ValueError("filter_summary needs the unfiltered spectra under 'none'")
    labels = np.asarray(labels)
    ref = spectra["none"]
    n_bins = ref.profiles.shape[1]
    maps = filter_difference_maps(spectra)
    shape = next(iter(ref.means.values())).shape
    band = _band(shape, high_band)
    freq = frequencies(n_bins, shape[-1])
    base = ref.profiles.mean(0)
    ref_map = maps.get("none")
    families = []
    if ref.group_means is not None and REFERENCE in ref.group_means:
        families = [g for g in ref.group_means if g != REFERENCE]
    removed, difference, rows = {}, {}, []
    for name, spec in spectra.items():
        removed[name] = spec.profiles.mean(0) - base
        difference[name] = spec.profiles[labels == 1].mean(0) - spec.profiles[labels == 0].mean(0)
        row = {"filter": name, "high_band_change": float(removed[name][freq >= high_band].mean())}
        if name in maps and ref_map is not None:
            row["hf_diff_rms"] = float(np.sqrt((maps[name][band] ** 2).mean()))
            row["hf_pattern_corr"] = float(np.corrcoef(maps[name][band], ref_map[band])[0, 1])
        for group in families:
            if spec.group_means is not None and group in spec.group_means:
                excess = spec.group_means[group] - spec.group_means[REFERENCE]
                row[f"grid_{group}"] = grid_contrast(excess, upsampling)
        feats = normalize_profiles(spec.profiles) if normalize else spec.profiles
        probe = fit_profile_probe(feats, labels, n_splits=n_splits, seed=seed)
        row |= {f"probe_{k}": probe.metrics[k] for k in ("accuracy", "f1", "auc")}
        row["ms_per_image"] = 1000 * spec.seconds / max(len(labels), 1)
        rows.append(row)
    summary = pd.DataFrame(rows).set_index("filter")
    if "hf_diff_rms" in summary:
        kept = summary["hf_diff_rms"] / summary.loc["none", "hf_diff_rms"]
        summary.insert(summary.columns.get_loc("hf_diff_rms") + 1, "hf_diff_kept", kept)
    index = pd.Index(freq, name="cycles_per_pixel")
    return summary, pd.DataFrame(removed, index=index), pd.DataFrame(difference, index=index)


def group_difference_maps(
    spectra: dict[str, FilterSpectra], group: str, reference: str = REFERENCE
) -> dict[str, np.ndarray]:
    """``group`` minus ``reference`` mean log-spectrum after each filter (e.g. how much of
    the tconv checkerboard each filter leaves); filters without group means are left out."""
    return {
        name: spec.group_means[group] - spec.group_means[reference]
        for name, spec in spectra.items()
        if spec.group_means is not None and {group, reference} <= set(spec.group_means)
    }


def filter_difference_maps(spectra: dict[str, FilterSpectra]) -> dict[str, np.ndarray]:
    """Fake-mean minus real-mean log-spectrum after each filter (``{}`` if a class is
    missing)."""
    return {
        name: spec.means[1] - spec.means[0]
        for name, spec in spectra.items()
        if 0 in spec.means and 1 in spec.means
    }
