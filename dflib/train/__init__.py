"""Training: recipes, losses, augmentation, the training engine, run folders, checkpoints
and prediction.

Takes a data folder (or the embedded benchmark) and an architecture name; gives a run
folder (``runs/<name>/``, see :mod:`dflib.train.runs`) holding the weights, the history,
the metrics and the predictions that every later stage reads.

>>> from dflib.train import fit, get_recipe
>>> result = fit(get_recipe("xception_resnet50", epochs=3, img_size=96))
"""

from dflib.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dflib.train.engine import TrainingDiverged, evaluate, train_one_epoch
from dflib.train.predict import Predictions, load_run_model, predict_folder, write_submission
from dflib.train.recipes import TrainConfig, get_recipe, list_recipes, reference
from dflib.train.runs import RunFolder, run_folder
from dflib.train.trainer import FitResult, fit

__all__ = [
    "CheckpointError", "FitResult", "Predictions", "RunFolder", "TrainConfig", "TrainingDiverged",
    "evaluate", "fit", "get_recipe", "list_recipes", "load_checkpoint", "load_run_model",
    "predict_folder", "reference", "run_folder", "save_checkpoint", "train_one_epoch",
    "write_submission",
]  # fmt: skip
