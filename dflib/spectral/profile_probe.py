"""A linear probe on 1-D spectral profiles (the fingerprint and filter measurements that
use it are in :mod:`dflib.spectral.fingerprints` and :mod:`dflib.spectral.filter_effects`).

The probe follows Durall et al. ("Watch your Up-Convolution", CVPR 2020): the azimuthally
averaged log-spectrum of an image (:func:`dflib.spectral.radial_profiles`) is a short
vector in which up-sampling traces show as a distorted high-frequency tail, so a *linear*
model on it already tells many fakes apart. It is deliberately cheap and fixed (standardised
features, an L2 logistic regression, stratified cross-validation) so that its scores compare
data or filters rather than training effort.

Frequencies are reported in cycles per pixel: radius bin ``r`` of an ``S x S`` spectrum is
``r / S``; 0.5 is the Nyquist frequency along an axis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dflib.metrics import binary_metrics

REFERENCE = "real"  # group name of the real images in family comparisons


def stack_images(
    images: Sequence[np.ndarray], size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Centre crops of a common square size as one ``N x S x S x 3`` uint8 batch.

    Cropping, not resizing: resampling would itself reshape the spectrum (an interpolation
    filter is exactly the kind of trace we look for), while a crop keeps every pixel.

    Args:
        images: ``HxWx3`` uint8 images, sizes may differ (user data often does).
        size: side of the crop; ``None`` takes the smallest side among the images.

    Returns:
        ``(batch, offsets)``: the crops and each crop's ``(top, left)`` in its image, so
        positions recorded on the full image (fake regions) can be moved into the crop.
    """
    if len(images) == 0:
        raise ValueError("stack_images needs at least one image")
    side = min(min(im.shape[:2]) for im in images) if size is None else int(size)
    out = np.empty((len(images), side, side, 3), dtype=np.uint8)
    offsets = np.zeros((len(images), 2), dtype=np.int64)
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        if min(h, w) < side:
            raise ValueError(
                f"image {i} is {h}x{w}, smaller than the crop side {side}; "
                "choose a smaller crop size (0 takes the smallest side)"
            )
        top, left = (h - side) // 2, (w - side) // 2
        out[i] = image[top : top + side, left : left + side, :3]
        offsets[i] = top, left
    return out, offsets


def frequencies(n_bins: int, image_size: int) -> np.ndarray:
    """Radius bins of an azimuthal profile in cycles per pixel (0.5 is Nyquist)."""
    return np.arange(n_bins) / float(image_size)


# --------------------------------------------------------------------------- probe


@dataclass
class ProfileProbe:
    """What the linear probe measured, on out-of-fold predictions.

    Attributes:
        metrics: accuracy, precision, recall, F1 of the fake class at 0.5, AUC, average
            precision (NaN where too few images to cross-validate).
        prob: out-of-fold probability of "fake" for each image.
        coef: mean standardised coefficient per radius bin over the folds (which
            frequencies the probe leans on; positive pushes towards "fake").
        n_splits: folds used (0 when the probe could not run).
        note: why the probe did not run, else empty.
        seconds: time spent fitting and scoring.
    """

    metrics: dict[str, float]
    prob: np.ndarray
    coef: np.ndarray
    n_splits: int
    note: str = ""
    seconds: float = field(default=0.0)


def _pipeline(c: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # class_weight="balanced": user data keeps its natural imbalance, and an unweighted
    # model would drift to "always real" (docs/writeups.md#findings).
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    return make_pipeline(StandardScaler(), model)


def fit_profile_probe(
    profiles: np.ndarray, labels: np.ndarray, n_splits: int = 5, seed: int = 42, c: float = 1.0
) -> ProfileProbe:
    """Stratified k-fold logistic regression on 1-D spectral profiles.

    Every image is scored by the model of the fold that did not see it, so accuracy, F1
    and AUC are honest estimates without a separate test split.

    Args:
        profiles: ``N x R`` features (one spectral profile per image).
        labels: 0 (real) / 1 (fake).
        n_splits: folds; lowered to the smaller class count when that is smaller.
        seed: fold shuffling and solver seed.
        c: inverse L2 regularisation strength.

    Returns:
        A :class:`ProfileProbe`; with fewer than 2 images in a class the metrics are NaN
        and ``note`` says why (the caller prints it instead of crashing).
    """
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(profiles, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"expected N x R profiles and N labels, got {x.shape} and {y.shape}")
    counts = np.bincount(y, minlength=2)
    folds = int(min(n_splits, counts.min()))
    nan_metrics = dict.fromkeys(["accuracy", "precision", "recall", "f1", "auc"], math.nan)
    if folds < 2:
        note = f"too few images to cross-validate: {counts[0]} real, {counts[1]} fake"
        return ProfileProbe(nan_metrics, np.full(len(y), math.nan), np.zeros(x.shape[1]), 0, note)
    start = time.perf_counter()
    prob = np.empty(len(y))
    coef = np.zeros(x.shape[1])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        model = _pipeline(c, seed).fit(x[train], y[train])
        prob[test] = model.predict_proba(x[test])[:, 1]
        coef += model[-1].coef_[0] / folds
    metrics = binary_metrics(y, prob, 0.5)
    return ProfileProbe(metrics, prob, coef, folds, seconds=time.perf_counter() - start)
