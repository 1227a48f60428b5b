"""Retraining on train + pseudo-labels, and a fair before/after comparison.

The retrained run is the source run's own recipe (``params.json``: architecture, image
size, filter, loss, seed) on a data folder of its training images plus the kept
pseudo-labelled test images (:func:`dflib.decide.pseudo.write_pseudo_folder`), trained
from scratch through :func:`dflib.train.fit` (resumable: an interrupted retraining
continues from its ``last.pt``).

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

import numpy as np
import pandas as pd

from dflib.decide.pseudo import PseudoLabels, write_pseudo_folder
from dflib.metrics import best_threshold, binary_metrics
from dflib.train import evaluate, fit, load_run_model
from dflib.train.config import TrainConfig
from dflib.train.inputs import eval_loader, prepare
from dflib.train.runs import RunFolder, is_finished, run_folder, write_json

PSEUDO_DATA = "pseudo_data"  # the data folder's name inside the retrained run's folder


def _as_run(run: RunFolder | str | os.PathLike) -> RunFolder:
    return run if isinstance(run, RunFolder) else run_folder(run)


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


def pseudo_run_name(
    source: RunFolder | str | os.PathLike, pseudo: PseudoLabels, hold_out_val: bool = True
) -> str:
    """``<source>-pseudo-<8 hex>``: a retrained run's default name, one per selection, so
    that another cut-off (or a retrained source) never meets a run trained on other labels."""
    source = _as_run(source)
    digest = hashlib.sha1(
        json.dumps(_signature(source, pseudo, hold_out_val), sort_keys=True).encode()
    )
    return f"{source.name}-pseudo-{digest.hexdigest()[:8]}"


def retrain_config(source: RunFolder | str | os.PathLike, data_dir, epochs: int = 0) -> TrainConfig:
    """The source run's recipe on ``data_dir`` (every image of it: ``train_images=0``),
    with ``epochs`` main epochs (0: the source's own)."""
    config = TrainConfig.from_dict(_as_run(source).read_json("params"))
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

    The data folder is written into ``<out>/pseudo_data`` with a ``pseudo.json`` that
    records which pseudo-labels it holds. A finished run with the same pseudo-labels is
    returned as it is; an interrupted one (or one asked for more epochs) is resumed.

    Args:
        source: the run whose test predictions gave ``pseudo``.
        pseudo: the selection (:func:`dflib.decide.pseudo.select_pseudo`).
        out: the retrained run's folder (a name under ``runs/`` or a path).
        epochs: main epochs of the retrained run (0: the source's own).
        hold_out_val: leave the source run's validation images out of the new folder,
            so :func:`before_after` can score both runs on images neither trained on.
        link: symlink the images rather than copying them.

    Raises:
        ValueError: ``out`` already trained (or started training) on other pseudo-labels.
    """
    source, target = _as_run(source), _as_run(out)
    data_dir = target.root / PSEUDO_DATA
    signature = _signature(source, pseudo, hold_out_val)
    stored = data_dir / "pseudo.json"
    same = stored.is_file() and json.loads(stored.read_text()) == signature
    if not same:
        if target.last.is_file() or is_finished(target):
            raise ValueError(
                f"{target.root} was trained on other pseudo-labels than these "
                f"({stored} differs): give another out, or delete that folder to retrain"
            )
        exclude = source.read_predictions("val")[["id", "label"]] if hold_out_val else None
        write_pseudo_folder(source, pseudo, data_dir, link=link, overwrite=True, exclude=exclude)
        write_json(stored, signature)
    config = retrain_config(source, data_dir, epochs)
    if is_finished(target) and target.read_json("params").get("epochs") == config.epochs:
        print(f"run {target.name}: already trained on these pseudo-labels ({target.root})")
        return target
    # resume=True: continues an interrupted retraining (or one asked for more epochs)
    fit(config, out=str(target.root), resume=True, progress=progress)
    return target


def rescore(
    run: RunFolder | str | os.PathLike,
    on: RunFolder | str | os.PathLike,
    device: str = "auto",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """``id,label,prob`` of ``on``'s validation split and test images, scored with
    ``run``'s final weights (``best.pt``) at ``run``'s image size and filter."""
    run, on = _as_run(run), _as_run(on)
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
    source, retrained = _as_run(source), _as_run(retrained)
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
    stored = run.root / PSEUDO_DATA / "pseudo.json"
    return stored.is_file() and bool(json.loads(stored.read_text()).get("hold_out_val"))
