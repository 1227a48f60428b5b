"""Do pseudo-labels help: confident test predictions kept as extra training data, the
source run's recipe retrained on them, and both runs scored on the same held-out images.

The first write-up probed it on the 10,000 test images (`docs/writeups.md#findings`): 95.5% kept
(9,553), mean confidence 0.987, pseudo-label classes 85:15 like train, "expected label
purity > 97%". A single confidence cut-off keeps the majority class more easily (a
5:1 model is surer of reals), so the kept set drifts from the training ratio and a
model retrained on it learns an even stronger "real" prior. Here each class has its
own cut-off, chosen so the kept classes match the training ratio, and the purity is
measured on the embedded benchmark, whose hidden test labels are known.

The retrained run is the source run's own recipe (``params.json``: architecture, image
size, filter, loss, seed) on a data folder of its training images plus the kept
pseudo-labelled test images (:func:`write_pseudo_folder`), found or trained by the planner
(:func:`dflib.train.plan.ensure_planned`) like every run a study needs. The data folder is
named by the pseudo-labels' signature, so a run trained on other pseudo-labels has another
``data_dir``: the planner refuses such a finished run, and a resume refuses its
``last.pt``.

Why not compare the two runs' own validation scores: the retrained run draws its
validation split from its own folder, so it would hold pseudo-labelled images (scored
against labels its own predecessor chose) and a different set of real images. Here the
source run's validation images are left out of the new folder altogether, and both
runs' final weights score exactly those images, and the test images, with the same
code (:func:`before_after`). The hidden test labels of the embedded benchmark are the
other yardstick, with one caveat the table makes visible: the kept test images were
trained on (with their pseudo-labels), so the test rows are split into kept and unseen.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dflib.data import load_split
from dflib.metrics import best_threshold, binary_metrics
from dflib.train import evaluate, load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import data_options, eval_loader, prepare, subsample
from dflib.train.plan import PlannedRun, ensure_planned, train_with_fit
from dflib.train.runs import RunFolder, run_folder, write_json

# what the first write-up reported for its probe (docs/writeups.md#findings)
WRITEUP = {"share_kept": 0.955, "n_kept": 9553, "mean_confidence": 0.987,
           "pseudo_fake_share": 0.15, "purity": 0.97}  # fmt: skip


def train_fake_share(run: RunFolder | str | os.PathLike) -> float:
    """Share of fakes in the run's training side, from its class weights
    (``w = total / (2 * count)``, so ``w_real / (w_real + w_fake) = n_fake / total``)."""
    run = run_folder(run)
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
    them (:func:`before_after`).

    Args:
        link: symlink the images (fast, no space); ``False`` copies them.
        overwrite: replace an existing folder's ``labels.csv`` and links.
        exclude: ``id,label`` rows of training images to leave out (e.g. the source
            run's ``predictions_val.csv``); an image is left out when both match.
    """
    run = run_folder(run)
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


# the data folder inside the retrained run's folder: pseudo_data-<8 hex of its signature>
PSEUDO_DATA = "pseudo_data"


def _signature(source: RunFolder, pseudo: PseudoLabels, hold_out_val: bool) -> dict:
    kept = pseudo.kept.sort_values("id")
    blob = ",".join(f"{i}:{y}" for i, y in zip(kept["id"], kept["pseudo_label"], strict=True))
    # the source's test predictions change whenever the source run is retrained
    predictions = hashlib.sha1(source.predictions_test.read_bytes()).hexdigest()
    return {"source": str(source.root.resolve()), "source_predictions_sha1": predictions,
            "hold_out_val": hold_out_val,
            "n_kept": int(len(kept)), "min_confidence": pseudo.min_confidence,
            "target_fake_share": pseudo.target_fake_share,
            "kept_sha1": hashlib.sha1(blob.encode()).hexdigest()}  # fmt: skip


def _digest(signature: dict) -> str:
    return hashlib.sha1(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:8]


def pseudo_run_name(
    source: RunFolder | str | os.PathLike, pseudo: PseudoLabels, hold_out_val: bool = True
) -> str:
    """``<source>-pseudo-<8 hex>``: a retrained run's default name, one per selection, so
    that another cut-off (or a retrained source) never meets a run trained on other labels."""
    source = run_folder(source)
    return f"{source.name}-pseudo-{_digest(_signature(source, pseudo, hold_out_val))}"


def retrain_config(source: RunFolder | str | os.PathLike, data_dir, epochs: int = 0) -> TrainConfig:
    """The source run's recipe on ``data_dir`` (every image of it: ``train_images=0``),
    with ``epochs`` main epochs (0: the source's own)."""
    config = TrainConfig.from_dict(run_folder(source).read_json("params"))
    return config.replace(data_dir=str(data_dir), train_images=0, labels_csv="labels.csv",
                          epochs=epochs or None)  # fmt: skip


def retrain_with_pseudo(
    source: RunFolder | str | os.PathLike,
    pseudo: PseudoLabels,
    out: str | os.PathLike,
    *,
    epochs: int = 0,
    hold_out_val: bool = True,
    link: bool = True,
    progress: bool = False,
) -> RunFolder:
    """Train the source run's recipe on its training images plus ``pseudo``'s kept ones.

    The run is planned (:func:`dflib.train.plan.ensure_planned`): a finished run in ``out``
    trained on the same pseudo-labels for as many epochs is taken as it is, an interrupted
    one is resumed, a missing one is trained. Its data folder, ``<out>/pseudo_data-<8 hex>``
    with a ``pseudo.json`` that records which pseudo-labels it holds, is written just
    before training.

    Args:
        source: the run whose test predictions gave ``pseudo``.
        pseudo: the selection (:func:`select_pseudo`).
        out: the retrained run's folder (a name under ``runs/`` or a path).
        epochs: main epochs of the retrained run (0: the source's own).
        hold_out_val: leave the source run's validation images out of the new folder,
            so :func:`before_after` can score both runs on images neither trained on.
        link: symlink the images rather than copying them.

    Raises:
        ValueError: ``out`` holds a run finished on other pseudo-labels (another
            ``data_dir``) or for other epochs.
        CheckpointError: ``out`` started training on other pseudo-labels.
    """
    source, target = run_folder(source), run_folder(out)
    signature = _signature(source, pseudo, hold_out_val)
    data_dir = target.root / f"{PSEUDO_DATA}-{_digest(signature)}"
    config = retrain_config(source, data_dir, epochs)

    def train(planned: PlannedRun, run: RunFolder, resume: bool, progress: bool) -> None:
        if not (data_dir / "pseudo.json").is_file():  # written last: a whole folder
            exclude = source.read_predictions("val")[["id", "label"]] if hold_out_val else None
            write_pseudo_folder(source, pseudo, data_dir, link=link, overwrite=True,
                                exclude=exclude)  # fmt: skip
            write_json(data_dir / "pseudo.json", signature)
        train_with_fit(planned, run, resume, progress)

    planned = PlannedRun(target.name, config, same=("data_dir", "epochs"))
    (run,) = ensure_planned([planned], root=target.root.parent, progress=progress, train=train)
    return run


def rescore(
    run: RunFolder | str | os.PathLike,
    on: RunFolder | str | os.PathLike,
    device: str = "auto",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """``id,label,prob`` of ``on``'s validation split and test images, scored with
    ``run``'s final weights (``best.pt``) at ``run``'s image size and filter."""
    run, on = run_folder(run), run_folder(on)
    model, config, pipeline, dev = load_run_model(run, device)
    data_config = TrainConfig.from_dict(on.read_json("params"))
    data_config = data_config.replace(
        img_size=config.img_size, filter=config.filter, tol=config.tol
    )
    data = prepare(data_config, progress=progress)
    expected = set(on.read_predictions("val")["id"].astype(str))
    ids = data.cache.frame["id"].astype(str).to_numpy()
    if set(ids[data.val]) != expected:
        raise ValueError(
            f"the validation split rebuilt from {on.params} differs from its "
            "predictions_val.csv (was the data folder changed since training?)"
        )
    sets = {"val": (data.cache, data.labels, data.val)}
    if data.test is not None:
        sets["test"] = (data.test, data.test_labels, np.arange(len(data.test)))
    frames = {}
    for split, (cache, labels, positions) in sets.items():
        loader = eval_loader(cache, labels, positions, config.batch_size, 0, dev.device)
        out = evaluate(model, loader, pipeline, dev, progress=progress)
        split_ids = cache.frame["id"].astype(str).to_numpy()[out["positions"]]
        frames[split] = pd.DataFrame(
            {"id": split_ids, "label": out["labels"], "prob": out["probs"]}
        )
    return frames


def _scores(frame: pd.DataFrame, threshold: float, prefix: str) -> dict[str, float]:
    labelled = frame[frame["label"] >= 0]
    if not len(labelled):
        return {}
    both = labelled["label"].nunique() == 2
    scores = binary_metrics(labelled["label"], labelled["prob"], threshold)
    return {f"{prefix}_f1_tuned": scores["f1"], f"{prefix}_recall": scores["recall"],
            f"{prefix}_auc": scores.get("auc", np.nan) if both else np.nan,
            f"{prefix}_n": len(labelled)}  # fmt: skip


def compare_frames(
    frames: dict[str, dict[str, pd.DataFrame]], kept_ids=(), val_seen: dict | None = None
) -> pd.DataFrame:
    """One row per model: validation AUC and F1 at 0.5 and at the threshold tuned on
    those validation scores; that threshold on the test images (all of them, the kept
    ones, the unseen ones) where their labels are known.

    Args:
        frames: ``{model: {"val": id,label,prob, "test": ...}}`` on the same images.
        kept_ids: test ids that were pseudo-labelled (and so trained on after).
        val_seen: ``{model: True}`` where the model trained on the validation images.
    """
    kept = set(map(str, kept_ids))
    rows = {}
    for name, sets in frames.items():
        val = sets["val"]
        threshold, tuned_f1 = best_threshold(val["label"], val["prob"])
        plain = binary_metrics(val["label"], val["prob"])
        row = {"val_auc": plain.get("auc", np.nan), "val_f1_at_0.5": plain["f1"],
               "val_f1_tuned": tuned_f1, "threshold": threshold,
               "val_seen": bool((val_seen or {}).get(name, False))}  # fmt: skip
        test = sets.get("test")
        if test is not None:
            is_kept = test["id"].astype(str).isin(kept)
            row.update(_scores(test, threshold, "test"))
            row.update(_scores(test[is_kept], threshold, "test_kept"))
            row.update(_scores(test[~is_kept], threshold, "test_unseen"))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def before_after(
    source: RunFolder | str | os.PathLike,
    retrained: RunFolder | str | os.PathLike,
    pseudo: PseudoLabels,
    device: str = "auto",
    progress: bool = False,
) -> pd.DataFrame:
    """Both runs' final weights on the source run's validation and test images
    (:func:`rescore`), compared by :func:`compare_frames`; rows ``before`` and ``after``.

    ``val_seen`` is True for a source with a fine-tuning stage (its final weights trained
    on its validation images); with ``hold_out_val`` the retrained run never saw them.
    """
    source, retrained = run_folder(source), run_folder(retrained)
    frames = {"before": rescore(source, source, device, progress),
              "after": rescore(retrained, source, device, progress)}  # fmt: skip
    seen = {"before": TrainConfig.from_dict(source.read_json("params")).finetune_epochs > 0,
            "after": not _held_out(retrained)}  # fmt: skip
    table = compare_frames(frames, pseudo.kept["id"], seen)
    table["n_train"] = [
        source.read_json("params")["n_train"],
        retrained.read_json("params")["n_train"],
    ]
    return table


def _held_out(run: RunFolder) -> bool:
    """Whether ``run`` was retrained here with the source's validation images left out."""
    stored = Path(run.read_json("params")["data_dir"]) / "pseudo.json"
    return stored.is_file() and bool(json.loads(stored.read_text()).get("hold_out_val"))
