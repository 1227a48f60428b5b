"""The files a run leaves besides its checkpoints: header, predictions, metrics.

The header (``params.json``, ``environment.json``, ``skipped.csv``) is written before
the first epoch, so even a run that dies early says what it was. Validation predictions
come from the best main-stage weights, and the decision threshold is tuned on them
(highest F1, ties to higher recall). With a fine-tuning stage the validation images are
then trained on, so the threshold is tuned before fine-tuning, as the write-up did.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import torch

from dflib.environment import cpu_name
from dflib.metrics import best_threshold, binary_metrics
from dflib.models import count_params
from dflib.train import runs
from dflib.train.batches import eval_loader
from dflib.train.checkpoint import load_checkpoint, save_checkpoint
from dflib.train.dataset import TrainingData
from dflib.train.engine import Device, evaluate
from dflib.train.recipes import TrainConfig
from dflib.train.runs import RunFolder


def environment_info(dev: Device) -> dict[str, Any]:
    """Device, precision and versions, for ``environment.json`` and the leaderboard."""
    device = dev.device
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = cpu_name() if device.type == "cpu" else platform.processor()
    return {
        "device": str(device),
        "device_name": name,
        "precision": str(dev.amp_dtype).replace("torch.", "") if dev.amp_dtype else "float32",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
    }


def write_run_header(
    run: RunFolder, config: TrainConfig, model_cfg, data: TrainingData, dev, step: str = ""
) -> None:
    """``params.json`` (with ``step``: how each step runs), ``environment.json`` and the
    data report, before training. A resumed run keeps the study role a planner recorded."""
    before = run.read_json("params") if run.params.is_file() else {}
    role = {runs.ROLE: before[runs.ROLE]} if before.get(runs.ROLE) else {}
    runs.write_json(
        run.params,
        {**config.to_dict(), **role, "model": model_cfg.to_dict(), "step": step, "n_train": len(data.train),
         "n_val": len(data.val), "n_test": len(data.test) if data.test is not None else 0,
         "class_weights": data.weights.tolist(), "validation": data.validation,
         "test_labelled": bool(data.test_labels is not None and (data.test_labels >= 0).all()),
         "cache": str(data.cache.folder)},
    )  # fmt: skip
    runs.write_json(run.environment, environment_info(dev))
    data.skipped().to_csv(run.skipped, index=False)


def _loader(cache, labels, positions, config: TrainConfig, workers: int, device):
    return eval_loader(cache, labels, positions, config.batch_size, workers, device)


def write_validation(run, model, data, pipeline, dev, workers, config) -> dict[str, Any]:
    """Predictions of the best main-stage weights on validation; the tuned threshold."""
    model.load_state_dict(load_checkpoint(run.best, map_location=dev.device)["model"])
    val = evaluate(model, _loader(data.cache, data.labels, data.val, config, workers, dev.device),
                   pipeline, dev)  # fmt: skip
    ids = data.cache.frame["id"].to_numpy()[val["positions"]]
    runs.write_predictions(run.predictions_val, ids, val["labels"], val["probs"])
    threshold, _ = best_threshold(val["labels"], val["probs"])
    return {"threshold": threshold, "labels": val["labels"], "probs": val["probs"]}


def finish_run(run, model, data, pipeline, dev, workers, config, best) -> dict[str, Any]:
    """Validation and test predictions, ``metrics.json``, and the final ``best.pt``.

    Without fine-tuning the final weights are the best main-stage ones; with it they are
    the fine-tuned ones, and ``best.pt`` is replaced by them.
    """
    history = run.read_history()
    final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if config.finetune_epochs and (history["stage"] == "finetune").any():
        val = _read_val(run, config)
        model.load_state_dict(final_state)
        save_checkpoint({"model": final_state, "epoch": int(history["epoch"].max())}, run.best)
    else:
        val = write_validation(run, model, data, pipeline, dev, workers, config)
    threshold = val["threshold"]
    metrics: dict[str, Any] = {
        "arch": config.arch,
        "params": count_params(model),
        "threshold": threshold,
        "best_epoch": int(best["epoch"]) + 1,
        "epochs_run": len(history),
        "val": binary_metrics(val["labels"], val["probs"]),
        "val_tuned": binary_metrics(val["labels"], val["probs"], threshold),
        "train_seconds": float(history["seconds"].sum()),
        "images_per_s": float(history["images_per_s"].median()),
        "n_train": len(data.train),
        "n_val": len(data.val),
        "skipped": int(len(data.skipped())),
        "test": None,
    }
    if data.test is not None:
        test = evaluate(model, _loader(data.test, data.test_labels, np.arange(len(data.test)),
                                       config, workers, dev.device), pipeline, dev)  # fmt: skip
        ids = data.test.frame["id"].to_numpy()[test["positions"]]
        runs.write_predictions(run.predictions_test, ids, test["labels"], test["probs"])
        if (test["labels"] >= 0).all():
            metrics["test"] = binary_metrics(test["labels"], test["probs"])
            metrics["test_tuned"] = binary_metrics(test["labels"], test["probs"], threshold)
    metrics["environment"] = environment_info(dev)
    runs.write_json(run.metrics, metrics)
    return metrics


def _read_val(run: RunFolder, config: TrainConfig) -> dict[str, Any]:
    frame = run.read_predictions("val")
    labels, probs = frame["label"].to_numpy(), frame["prob"].to_numpy()
    threshold, _ = best_threshold(labels, probs)
    return {"threshold": threshold, "labels": labels, "probs": probs}
