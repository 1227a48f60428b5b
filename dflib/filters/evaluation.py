"""Scoring noise filters where the truth is known: the benchmark's clean copies.

A good filter here repairs the injected impulses, leaves every genuine pixel alone, leaves
no coloured specks, and keeps the fine detail that gives fakes away. Each of those is
one column of :func:`compare_filters`; :func:`probe_filters` then asks the question that
matters most: does a detector trained on the filtered images still find the fakes?
:func:`filter_checks` holds notebook 02's answers to what each filter may change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from dflib.checks import Checks
from dflib.environment import split_names
from dflib.filters.frequency import fft_highpass

REPAIR_TOLERANCE = 16  # a noisy value counts as repaired within this distance of the clean one
SPECKLE_ERROR = 32  # a channel this far from clean, in 1 or 2 channels only, is a coloured speck
HIGHPASS_CUTOFF = 0.5  # upper half of the spectrum: where up-sampling traces live


def fake_region_masks(rows: pd.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    """Soft masks (``N x H x W`` in [0, 1]) of the re-synthesised regions recorded in the
    benchmark's metadata; all zero for real images and for data without that metadata."""
    from dflib.synthetic.fake import region_mask

    masks = np.zeros((len(rows), *shape), dtype=np.float32)
    if "region_cx" not in rows:
        return masks
    fields = ["region_cx", "region_cy", "region_rx", "region_ry", "region_angle", "feather"]
    for i, values in enumerate(rows[fields].to_numpy(dtype=float)):
        if not np.isnan(values).any():
            masks[i] = region_mask(shape, *values)
    return masks


def highpass_fidelity(
    filtered: np.ndarray, clean: np.ndarray, masks: np.ndarray
) -> tuple[float, float]:
    """How much of the clean image's high-frequency detail survives inside ``masks``.

    Returns:
        ``(energy_ratio, correlation)``: high-pass energy of the filtered image over that
        of the clean one (below 1: detail erased; above 1: noise left), and the cosine
        similarity of the two high-pass residuals (1: the detail is exactly kept).
    """
    weight = masks[..., None]
    if weight.sum() == 0:
        return float("nan"), float("nan")
    hf_filtered = np.asarray(fft_highpass(filtered, HIGHPASS_CUTOFF)) * weight
    hf_clean = np.asarray(fft_highpass(clean, HIGHPASS_CUTOFF)) * weight
    energy = float((hf_filtered**2).sum() / max((hf_clean**2).sum(), 1e-12))
    cosine = float(
        (hf_filtered * hf_clean).sum()
        / max(np.linalg.norm(hf_filtered) * np.linalg.norm(hf_clean), 1e-12)
    )
    return energy, cosine


def filter_scores(filtered, noisy, clean, truth, regions) -> dict[str, float]:
    """Every quality column for one filter's output (all arrays ``N x H x W x 3`` uint8,
    ``truth`` boolean, ``regions`` ``N x H x W`` soft masks of fake regions).

    Without clean copies (``clean=None``, real data) only the columns that need no
    ground truth are filled, against the estimated noise positions."""
    if clean is None:
        return {"genuine_changed": float((filtered != noisy)[~truth].mean())}
    error = np.abs(filtered.astype(np.int16) - clean.astype(np.int16))
    speck = ((error > SPECKLE_ERROR).sum(axis=-1) % 3) > 0  # 1 or 2 channels off, not all 3
    energy, cosine = highpass_fidelity(filtered, clean, regions)
    with np.errstate(divide="ignore"):  # an image restored exactly: PSNR inf, said as such
        psnr = [
            peak_signal_noise_ratio(c, f, data_range=255)
            for c, f in zip(clean, filtered, strict=True)
        ]
    return {
        "psnr_db": float(np.mean(psnr)),
        "ssim": float(
            np.mean(
                [
                    structural_similarity(c, f, channel_axis=-1, data_range=255)
                    for c, f in zip(clean, filtered, strict=True)
                ]
            )
        ),
        "noise_repaired": float((error <= REPAIR_TOLERANCE)[truth].mean()),
        "genuine_changed": float((filtered != noisy)[~truth].mean()),
        "speckle_left": float(speck.mean()),
        "fake_hf_energy_ratio": energy,
        "fake_hf_correlation": cosine,
    }


def timed(fn: Callable[[np.ndarray], np.ndarray], images: np.ndarray) -> tuple[np.ndarray, float]:
    """``fn(images)`` and the wall time per image in milliseconds (best of one warm run)."""
    fn(images[:1])
    start = time.perf_counter()
    out = fn(images)
    return out, (time.perf_counter() - start) * 1000 / len(images)


def compare_filters(
    filters: dict[str, Callable], noisy, clean, truth, regions
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Apply each filter to ``noisy`` and score it against ``clean``.

    Returns:
        A table (one row per filter, the :func:`filter_scores` columns plus
        ``ms_per_image``) and the filtered images by filter name, for figures.
    """
    from dflib.runtime import single_thread

    rows, outputs = [], {}
    for name, fn in filters.items():
        with single_thread():  # see dflib.runtime.single_thread: robust on shared cores
            outputs[name], ms = timed(fn, noisy)
        rows.append(
            {
                "filter": name,
                **filter_scores(outputs[name], noisy, clean, truth, regions),
                "ms_per_image": ms,
            }
        )
    return pd.DataFrame(rows).set_index("filter"), outputs


@dataclass
class FilterSample:
    """Images scored by :func:`quality_on_sample`: noisy, clean (``None`` on real data),
    noise positions (exact or estimated), fake-region masks, each filter's output."""

    rows: pd.DataFrame
    noisy: np.ndarray
    clean: np.ndarray | None
    truth: np.ndarray
    regions: np.ndarray
    outputs: dict[str, np.ndarray]


def quality_on_sample(
    filters: dict[str, Callable], table, n: int, seed: int = 42
) -> tuple[pd.DataFrame, FilterSample]:
    """Score ``filters`` on ``n`` random images of ``table``.

    On the benchmark the clean copies are re-rendered, so every column is exact. On real
    data there is no clean copy: noise positions are estimated (isolated impulses, see
    :func:`dflib.filters.noise_stats.estimate_noise_truth`) and only ``genuine_changed`` and
    the timing are reported. Images of mixed sizes are resized to the most common size.
    """
    from dflib.data.tables import sample_images
    from dflib.filters import noise_stats
    from dflib.imageio import resize_square

    images, rows = sample_images(table, n, seed=seed)
    side = pd.Series([min(im.shape[:2]) for im in images]).mode().iat[0]
    noisy = np.stack(
        [im if im.shape[:2] == (side, side) else resize_square(im, side) for im in images]
    )
    if (table.root / "dataset.json").is_file():
        clean, truth = noise_stats.synthetic_ground_truth(table.root, rows["id"])
    else:
        clean, truth = None, np.stack(noise_stats.estimate_noise_truth(noisy))
    regions = fake_region_masks(rows, noisy.shape[1:3])
    scores, outputs = compare_filters(filters, noisy, clean, truth, regions)
    return scores, FilterSample(rows, noisy, clean, truth, regions, outputs)


def median_verdict(probe: pd.DataFrame, margin: float = 0.02) -> str:
    """A plain answer to "does a global median erase the fake signal?" from the probe's
    validation AUC with no filter vs with the global median; differences within
    ``margin`` are called no effect (one seed: smaller gaps are within run-to-run noise)."""
    base, median = probe.loc["none", "auc"], probe.loc["global_median", "auc"]
    change = f"AUC {base:.3f} without a filter vs {median:.3f} after a global 3x3 median ({median - base:+.3f})"
    if median < base - margin:
        return f"Yes: the global median removes fake evidence. {change}."
    if median > base + margin:
        return f"No, the opposite here: the global median helps the probe. {change}."
    return f"No measurable effect at this budget: {change}, within +/-{margin}."


def recommend(quality: pd.DataFrame, probe: pd.DataFrame) -> tuple[str, str]:
    """The filter to use: the best probe AUC, ties (within 0.01) broken by image quality
    (PSNR where clean copies exist, else fewest genuine values changed)."""
    best = probe["auc"].max()
    contenders = [
        name for name in probe.index[probe["auc"] >= best - 0.01] if name in quality.index
    ]
    key = "psnr_db" if "psnr_db" in quality else "genuine_changed"
    ranked = quality.loc[contenders, key].sort_values(ascending=key == "genuine_changed")
    name = ranked.index[0] if len(ranked) else probe["auc"].idxmax()
    reason = f"probe AUC {probe.loc[name, 'auc']:.3f} (best {best:.3f})"
    if name in quality.index:
        reason += f", {key} {quality.loc[name, key]:.4g}"
    return name, reason


def probe_filters(
    filters: dict[str, Callable | None],
    table,
    *,
    size: int,
    n_images: int,
    epochs: int,
    preprocess_first: bool = True,
    val_fraction: float = 0.25,
    seed: int = 42,
    probe: str = "small_cnn",
    workers: int | None = None,
) -> pd.DataFrame:
    """Train the same small probe, same seed, same images, on each filter's output.

    Args:
        filters: name -> filter (:func:`dflib.filters.filter_set`), each with a ``cache_key``.
        table: the training :class:`~dflib.data.ImageTable`.
        size: image side the probe sees.
        n_images: stratified subset of the table used (train + validation).
        epochs: training passes per filter (a fixed count, not a time budget, so the
            comparison does not depend on how busy the machine is).
        preprocess_first: filter at native resolution, then resize.
        val_fraction: held-out share for the scores.
        seed: one seed for subset, split, initialisation and batch order.
        probe: ``"small_cnn"`` or ``"small_resnet"`` (:mod:`dflib.probes`).
        workers: cache-building processes.

    Returns:
        One row per filter: validation AUC, F1 at 0.5, tuned-threshold F1, recall, epochs.
    """
    from dflib import probes
    from dflib.data.cache import build_cache
    from dflib.data.splits import stratified_split
    from dflib.data.tables import ImageTable

    keep = np.arange(len(table))
    if n_images < len(table):
        keep = stratified_split(table.labels, n_images / len(table), seed)[1]
    subset = ImageTable(
        table.frame.iloc[keep].reset_index(drop=True), table.root, table.split, table.report
    )
    rows = []
    for name, fn in filters.items():
        cache = build_cache(
            subset, size, fn, preprocess_first=preprocess_first, workers=workers, progress=False
        )
        x, y = np.asarray(cache[:]), cache.labels
        tr, va = stratified_split(y, val_fraction, seed)  # the same split for every filter
        result = probes.fit_probe(probes.make_probe(probe, seed=seed), x[tr], y[tr], x[va], y[va],
                                  epochs=epochs, time_budget_s=None, seed=seed, log=False)  # fmt: skip
        m = result.metrics
        rows.append({"filter": name, "auc": m["auc"], "f1@0.5": m["f1"], "tuned_f1": m["tuned_f1"],
                     "recall@0.5": m["recall"], "epochs": result.epochs, "train_s": result.train_seconds})  # fmt: skip
    return pd.DataFrame(rows).set_index("filter")


def changed_outside_flags(
    noisy: np.ndarray, filtered: np.ndarray, tol: int, whole_pixel: bool
) -> int:
    """How many values a filter changed that its rule says it may not: a selective filter
    may change only flagged channel values (``v <= tol`` or ``v >= 255 - tol``), a coherent
    one only the pixels where some channel is flagged (``whole_pixel``)."""
    noisy, filtered = np.asarray(noisy), np.asarray(filtered)
    flagged = (noisy <= tol) | (noisy >= 255 - tol)
    if whole_pixel:
        flagged = np.broadcast_to(flagged.any(axis=-1, keepdims=True), flagged.shape)
    return int(((filtered != noisy) & ~flagged).sum())


def filter_checks(
    sample: FilterSample, quality: pd.DataFrame, tol: int, expect_psnr_order: str | None = None
) -> Checks:
    """Notebook 02's checks: ``none`` changes nothing, the selective median only flagged
    values, the coherent filter only pixels with a flagged value (for those compared), and
    - at the CI size - the filters named in ``expect_psnr_order`` ranked by PSNR in that
    order, best first (the others compared are left out of the ranking)."""
    checks = Checks()
    rules = {"none": None, "selective_median": False, "coherent_noise_filter": True}
    for name, whole_pixel in rules.items():
        if name in sample.outputs:
            out = sample.outputs[name]
            wrong = int((out != sample.noisy).sum()) if whole_pixel is None else (
                changed_outside_flags(sample.noisy, out, tol, whole_pixel))  # fmt: skip
            what = "values changed" if whole_pixel is None else "values changed outside its rule"
            checks.expect(f"{name}: {what}", wrong, equals=0)
    if "psnr_db" in quality.columns:
        names = split_names(expect_psnr_order or "")
        ranked = [n for n in quality["psnr_db"].sort_values(ascending=False).index
                  if n in names or not names]  # fmt: skip
        checks.expect("filters by PSNR, best first", ",".join(ranked),
                      equals=",".join(names) if names else None)  # fmt: skip
    return checks
