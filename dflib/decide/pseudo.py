"""Pseudo-labels: confident test predictions kept as extra training data.

The first write-up probed it on the 10,000 test images (`docs/writeups.md#findings`): 95.5% kept
(9,553), mean confidence 0.987, pseudo-label classes 85:15 like train, "expected label
purity > 97%". A single confidence cut-off keeps the majority class more easily (a
5:1 model is surer of reals), so the kept set drifts from the training ratio and a
model retrained on it learns an even stronger "real" prior. Here each class has its
own cut-off, chosen so the kept classes match the training ratio, and the purity is
measured on the embedded benchmark, whose hidden test labels are known.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflib.data import load_split
from dflib.train.config import TrainConfig
from dflib.train.inputs import data_options, subsample
from dflib.train.runs import RunFolder, run_folder

# what the first write-up reported for its probe (docs/writeups.md#findings)
WRITEUP = {"share_kept": 0.955, "n_kept": 9553, "mean_confidence": 0.987,
           "pseudo_fake_share": 0.15, "purity": 0.97}  # fmt: skip


def train_fake_share(run: RunFolder | str | os.PathLike) -> float:
    """Share of fakes in the run's training side, from its class weights
    (``w = total / (2 * count)``, so ``w_real / (w_real + w_fake) = n_fake / total``)."""
    run = run if isinstance(run, RunFolder) else run_folder(run)
    w_real, w_fake = run.read_json("params")["class_weights"]
    return float(w_real / (w_real + w_fake))


@dataclass
class PseudoLabels:
    """Test predictions with their pseudo-labels.

    Attributes:
        frame: ``id``, ``prob``, ``confidence`` (``max(p, 1 - p)``) and ``pseudo_label``
            (1 fake, 0 real, -1 not kept) per test image.
        cutoff_fake: every kept fake has ``prob >= cutoff_fake`` (NaN if none kept).
        cutoff_real: every kept real has ``prob <= cutoff_real`` (NaN if none kept).
        min_confidence: no image less confident than this is kept.
        target_fake_share: the class ratio matched (``None``: a single cut-off).
    """

    frame: pd.DataFrame
    cutoff_fake: float
    cutoff_real: float
    min_confidence: float
    target_fake_share: float | None

    @property
    def kept(self) -> pd.DataFrame:
        return self.frame[self.frame["pseudo_label"] >= 0]

    def report(self, train_share: float | None = None, hidden=None) -> dict[str, Any]:
        """What write-up 1 reports (``docs/writeups.md#findings``): share kept, count, mean confidence, class ratio of
        the pseudo-labels beside train's, and the true purity where ``hidden`` labels
        (a Series id -> label, or a frame with id,label) are known."""
        kept = self.kept
        fake_share = float((kept["pseudo_label"] == 1).mean()) if len(kept) else np.nan
        out: dict[str, Any] = {
            "n_test": len(self.frame), "n_kept": len(kept),
            "share_kept": len(kept) / max(len(self.frame), 1),
            "mean_confidence": float(kept["confidence"].mean()) if len(kept) else np.nan,
            "n_fake": int((kept["pseudo_label"] == 1).sum()),
            "n_real": int((kept["pseudo_label"] == 0).sum()),
            "pseudo_fake_share": fake_share, "train_fake_share": train_share,
            "cutoff_fake": self.cutoff_fake, "cutoff_real": self.cutoff_real,
        }  # fmt: skip
        if hidden is not None:
            truth = _as_series(hidden).reindex(kept["id"].astype(str)).to_numpy()
            known = truth >= 0
            right = kept["pseudo_label"].to_numpy()[known] == truth[known]
            label = kept["pseudo_label"].to_numpy()[known]
            out.update({"purity": float(right.mean()) if known.any() else np.nan,
                        "purity_fake": float(right[label == 1].mean()) if (label == 1).any() else np.nan,
                        "purity_real": float(right[label == 0].mean()) if (label == 0).any() else np.nan})  # fmt: skip
        return out


def _as_series(hidden) -> pd.Series:
    if isinstance(hidden, pd.DataFrame):
        return pd.Series(hidden["label"].to_numpy(), index=hidden["id"].astype(str))
    return pd.Series(hidden).rename(index=str)


def select_pseudo(
    ids, prob, fake_share: float | None = None, min_confidence: float = 0.9
) -> PseudoLabels:
    """Keep confident predictions, with per-class cut-offs that keep the class ratio.

    Candidates are images with ``prob >= min_confidence`` (fake) or ``prob <= 1 -
    min_confidence`` (real). With ``fake_share`` (train's share of fakes), the larger
    candidate class is trimmed to its most confident images until the kept ratio is
    ``fake_share : 1 - fake_share``; the cut-off of each class is then the least
    confident kept image's probability. Ties at a cut-off are broken by id order, so a
    class keeps exactly the count the ratio allows. Without ``fake_share`` every
    candidate is kept (one symmetric cut-off: the write-up's probe, for comparison).
    """
    if not 0.5 < min_confidence <= 1.0:
        raise ValueError(f"min_confidence={min_confidence}: expected a value in (0.5, 1]")
    if fake_share is not None and not 0.0 < fake_share < 1.0:
        raise ValueError(f"fake_share={fake_share}: expected a share in (0, 1)")
    ids = np.asarray([str(i) for i in ids])
    prob = np.asarray(prob, dtype=np.float64)
    fakes = np.flatnonzero(prob >= min_confidence)
    reals = np.flatnonzero(prob <= 1.0 - min_confidence)
    fakes = fakes[np.lexsort((ids[fakes], -prob[fakes]))]  # most confident first
    reals = reals[np.lexsort((ids[reals], prob[reals]))]
    if fake_share is not None and len(fakes) and len(reals):
        total = min(len(fakes) / fake_share, len(reals) / (1.0 - fake_share))
        fakes = fakes[: min(len(fakes), int(round(total * fake_share)))]
        reals = reals[: min(len(reals), int(round(total * (1.0 - fake_share))))]
    elif fake_share is not None:  # one class has no confident image: no ratio can hold
        fakes, reals = fakes[:0], reals[:0]
    label = np.full(len(prob), -1, dtype=np.int64)
    label[fakes], label[reals] = 1, 0
    frame = pd.DataFrame({"id": ids, "prob": prob, "confidence": np.maximum(prob, 1 - prob),
                          "pseudo_label": label})  # fmt: skip
    cutoff_fake = float(prob[fakes].min()) if len(fakes) else np.nan
    cutoff_real = float(prob[reals].max()) if len(reals) else np.nan
    return PseudoLabels(frame, cutoff_fake, cutoff_real, min_confidence, fake_share)


def versus_writeup(reports: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The write-up's probe beside one or more :meth:`PseudoLabels.report` results."""
    columns = ["n_kept", "share_kept", "mean_confidence", "pseudo_fake_share",
               "train_fake_share", "purity"]  # fmt: skip
    table = pd.DataFrame({"write-up 1": WRITEUP, **reports}).T
    return table.reindex(columns=[c for c in columns if c in table.columns])


def write_pseudo_folder(
    run: RunFolder | str | os.PathLike,
    pseudo: PseudoLabels,
    out: str | os.PathLike,
    *,
    link: bool = True,
    overwrite: bool = False,
    exclude: pd.DataFrame | None = None,
) -> Path:
    """A data folder in the CSV layout holding the run's training images plus the kept
    pseudo-labelled test images, ready for ``fit(config.replace(data_dir=out, train_images=0))``.

    Layout: ``labels.csv`` (``id,label,source``), ``train/`` (the run's training images,
    its subsample included, and each kept test image as ``pseudo-<id>``), ``test/`` (all
    test images, so the retrained run predicts them too) and, where the source has it,
    ``test_labels.csv``: the hidden labels are copied only so that the retrained run's
    hidden-test scores can be compared; training never reads them. A run trained on this
    folder draws its validation split from it, pseudo-labelled images included, so its
    own validation scores partly measure agreement with the pseudo-labels: ``exclude``
    keeps the source run's validation images out, so that both runs can be scored on
    them (:func:`dflib.decide.retrain.before_after`).

    Args:
        link: symlink the images (fast, no space); ``False`` copies them.
        overwrite: replace an existing folder's ``labels.csv`` and links.
        exclude: ``id,label`` rows of training images to leave out (e.g. the source
            run's ``predictions_val.csv``); an image is left out when both match.
    """
    run = run if isinstance(run, RunFolder) else run_folder(run)
    config = TrainConfig.from_dict(run.read_json("params"))
    root = Path(out)
    if (root / "labels.csv").exists() and not overwrite:
        raise FileExistsError(
            f"{root} already holds a labels.csv: pass overwrite=True or another out"
        )
    kw = data_options(config)
    train = load_split(config.data_dir, "train", **kw)
    train = subsample(train, config.train_images, config.seed).frame
    if exclude is not None:
        pairs = set(zip(exclude["id"].astype(str), exclude["label"].astype(int), strict=True))
        keep = [
            (i, int(y)) not in pairs
            for i, y in zip(train["id"].astype(str), train["label"], strict=True)
        ]
        train = train[keep].reset_index(drop=True)
    test = load_split(config.data_dir, "test", **data_options(config, test=True))
    test_paths = dict(zip(test.frame["id"].astype(str), test.frame["path"], strict=True))
    kept = pseudo.kept
    unknown = sorted(set(kept["id"]) - set(test_paths))
    if unknown:
        raise ValueError(f"{len(unknown)} pseudo-labelled ids are not test images of "
                         f"{config.data_dir}: {unknown[:5]}")  # fmt: skip
    for folder in ("train", "test"):
        if overwrite and (root / folder).is_dir():
            shutil.rmtree(root / folder)
        (root / folder).mkdir(parents=True, exist_ok=True)
    place = _symlink if link else shutil.copyfile
    names = [Path(p).name for p in train["path"]]
    if len(set(names)) < len(names):  # class sub-folders may reuse a file name
        names = [
            f"{'fake' if y else 'real'}-{n}" for n, y in zip(names, train["label"], strict=True)
        ]
    rows = []
    for path, name, label in zip(train["path"], names, train["label"], strict=True):
        place(Path(path), root / "train" / name)
        rows.append((Path(name).stem, int(label), "train"))
    for image_id, label in zip(kept["id"], kept["pseudo_label"], strict=True):
        source = Path(test_paths[image_id])
        place(source, root / "train" / f"pseudo-{source.name}")
        rows.append((f"pseudo-{source.stem}", int(label), "pseudo"))
    for path in test.frame["path"]:
        place(Path(path), root / "test" / Path(path).name)
    pd.DataFrame(rows, columns=["id", "label", "source"]).to_csv(root / "labels.csv", index=False)
    hidden = Path(test.root) / "test_labels.csv"
    if hidden.is_file():
        shutil.copyfile(hidden, root / "test_labels.csv")
    return root


def _symlink(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    target.symlink_to(source.resolve())
