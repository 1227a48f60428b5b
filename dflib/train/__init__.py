"""Training: recipes, losses, augmentation, the training engine, run folders, checkpoints
and prediction.

Takes a data folder (or the embedded benchmark) and an architecture name; gives a run
folder (``runs/<name>/``, see :mod:`dflib.train.runs`) holding the weights, the history,
the metrics and the predictions that every later stage reads.

One module per question:

- :mod:`~dflib.train.config`: what a run is trained with (:class:`TrainConfig`, every recipe as data, the write-ups' numbers, what a resume may change);
- :mod:`~dflib.train.flags`: those settings on a command line, one flag per field;
- :mod:`~dflib.train.inputs`: what a run trains on and how its images reach the model (cache, split, batch order, the cache held on the GPU, augmentation on the device);
- :mod:`~dflib.train.losses`: the losses, written once for 1-logit and 2-logit heads;
- :mod:`~dflib.train.optim`: the optimiser and its schedule (AdamW, ReduceLROnPlateau);
- :mod:`~dflib.train.loop`: how a run trains (``fit``, ``train_one_epoch``, ``evaluate``, the history row, the files a run leaves and the sink every line and file goes through);
- :mod:`~dflib.train.distributed`: one run in several processes (DDP under ``torchrun``);
- :mod:`~dflib.train.checkpoint`: ``last.pt`` and ``best.pt``, and how a run resumes from them;
- :mod:`~dflib.train.runs`: the run folder (its files, ``is_finished``, the checks a notebook makes of a finished run, the ledger);
- :mod:`~dflib.train.loggers`: where every epoch's row and a finished run's figures go (``history.csv``, ``figures/``, then TensorBoard or any logger asked for);
- :mod:`~dflib.train.plan`: the runs a study needs, found where finished and trained where missing (the one planner);
- :mod:`~dflib.train.predict`: predicting with finished runs;
- :mod:`~dflib.train.machine`: how a step runs on this machine and what a run will use here (the device, precision, compile, memory format, step memory, threads and workers; ``python -m dflib env``).

>>> from dflib.train import fit, get_recipe
>>> result = fit(get_recipe("xception_resnet50", epochs=3, img_size=96))
"""

from dflib.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dflib.train.config import TrainConfig, get_recipe, list_recipes, reference
from dflib.train.loop import FitResult, TrainingDiverged, evaluate, fit, train_one_epoch
from dflib.train.predict import (
    Predictions,
    load_run_model,
    predict_folder,
    write_predicted_submission,
)
from dflib.train.runs import RunFolder, run_folder

__all__ = [
    "CheckpointError", "FitResult", "Predictions", "RunFolder", "TrainConfig", "TrainingDiverged",
    "evaluate", "fit", "get_recipe", "list_recipes", "load_checkpoint", "load_run_model",
    "predict_folder", "reference", "run_folder", "save_checkpoint", "train_one_epoch",
    "write_predicted_submission",
]  # fmt: skip
