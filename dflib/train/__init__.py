"""Training: recipes, losses, augmentation, the training engine, run folders, checkpoints
and prediction.

Takes a data folder (or the embedded benchmark) and an architecture name; gives a run
folder (``runs/<name>/``, see :mod:`dflib.train.runs`) holding the weights, the history,
the metrics and the predictions that every later stage reads.

- :mod:`~dflib.train.recipes` (every recipe as data, :class:`TrainConfig`) and
  :mod:`~dflib.train.flags` (one command-line flag per setting);
- :mod:`~dflib.train.dataset` (the cached images, split, class weights and test set of a
  run), :mod:`~dflib.train.batches` (batches from the cache in a reproducible order),
  :mod:`~dflib.train.resident` (the cache held on the GPU), :mod:`~dflib.train.augment`
  (augmentation on the device, per sample);
- :mod:`~dflib.train.losses`, :mod:`~dflib.train.optim` (AdamW and its schedule),
  :mod:`~dflib.train.engine` (one epoch, one evaluation pass), :mod:`~dflib.train.epochs`
  (an epoch's row, log line and randomness), :mod:`~dflib.train.distributed` (DDP under
  torchrun) and :mod:`~dflib.train.trainer` (``fit``: a whole run);
- :mod:`~dflib.train.runs` (the run folder), :mod:`~dflib.train.sink` (every epoch's row
  to ``history.csv`` and the loggers asked for: TensorBoard), :mod:`~dflib.train.checkpoint` and
  :mod:`~dflib.train.resume` (``last.pt``, and what a resume may change),
  :mod:`~dflib.train.finish` (the files a run leaves besides its checkpoints),
  :mod:`~dflib.train.summary` (one row per run, a training notebook's checks),
  :mod:`~dflib.train.ledger` (where the runs' small files are kept in the repository);
- :mod:`~dflib.train.plan`: the runs a study needs, found where finished and trained
  where missing (the one planner of the decisions and the studies);
- :mod:`~dflib.train.predict`: predicting with finished runs;
- :mod:`~dflib.train.machine`: what a run would use on this machine and the traps it
  would meet, from the trainer's own decisions (``python -m dflib env``).

>>> from dflib.train import fit, get_recipe
>>> result = fit(get_recipe("xception_resnet50", epochs=3, img_size=96))
"""

from dflib.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dflib.train.engine import TrainingDiverged, evaluate, train_one_epoch
from dflib.train.predict import (
    Predictions,
    load_run_model,
    predict_folder,
    write_predicted_submission,
)
from dflib.train.recipes import TrainConfig, get_recipe, list_recipes, reference
from dflib.train.runs import RunFolder, run_folder
from dflib.train.trainer import FitResult, fit

__all__ = [
    "CheckpointError", "FitResult", "Predictions", "RunFolder", "TrainConfig", "TrainingDiverged",
    "evaluate", "fit", "get_recipe", "list_recipes", "load_checkpoint", "load_run_model",
    "predict_folder", "reference", "run_folder", "save_checkpoint", "train_one_epoch",
    "write_predicted_submission",
]  # fmt: skip
