"""Decisions: what turns finished runs into a submission.

Takes run folders (their validation and test predictions, their weights); gives
thresholds, calibrated probabilities, ensembles, TTA scores, pseudo-labelled data, a
retrained run and submissions. The studies that read many runs to answer a question
live one stage up, in :mod:`dflib.study`.

- :mod:`~dflib.decide.calibration`: threshold curves and tuning, bootstrap spread, the
  gain over 0.5, ECE / Brier / reliability, temperature scaling;
  :mod:`~dflib.decide.submit`: a run's labelled sets and its test scores per generator,
  ``threshold.json`` and the thresholded ``submission.csv``;
- :mod:`~dflib.decide.ensemble`: aligning runs by image id, soft voting, fitted weights,
  rank averaging, correlation, greedy selection; :mod:`~dflib.decide.compare` scores them
  side by side and writes the ensemble's submission; :mod:`~dflib.decide.tta`: flip TTA
  measured on validation;
- :mod:`~dflib.decide.pseudo`: per-class confidence cut-offs, the pseudo-label report and
  a train + pseudo-labels data folder; :mod:`~dflib.decide.retrain`: the source run's
  recipe retrained on it, both runs scored on the same held-out images;
- :mod:`~dflib.decide.upstream`: the runs a notebook names, found or made through
  :mod:`dflib.train.plan`.
"""

from dflib.decide.calibration import (
    TemperatureScaler,
    TunedThreshold,
    bootstrap_threshold,
    calibration_report,
    calibration_scores,
    expected_calibration_error,
    reliability_table,
    spread,
    threshold_curves,
    threshold_gain,
    tune_threshold,
)
from dflib.decide.compare import Comparison, compare_methods, merge, write_ensemble
from dflib.decide.ensemble import (
    Aligned,
    Selection,
    align,
    correlation,
    ensemble_score,
    fit_weights,
    greedy_selection,
    load_predictions,
    rank_average,
    rank_scores,
    soft_vote,
)
from dflib.decide.pseudo import (
    PseudoLabels,
    select_pseudo,
    train_fake_share,
    versus_writeup,
    write_pseudo_folder,
)
from dflib.decide.retrain import (
    before_after,
    compare_frames,
    pseudo_run_name,
    rescore,
    retrain_with_pseudo,
)
from dflib.decide.submit import (
    labelled_sets,
    read_threshold,
    scores_by_generator,
    submission,
    submission_summary,
    write_submission,
    write_threshold,
)
from dflib.decide.tta import TTAScores, flip_tta_runs, flip_tta_scores
from dflib.decide.upstream import MissingRunError, available_runs, ensure_run, ensure_runs

__all__ = [
    "Aligned", "Comparison", "MissingRunError", "PseudoLabels", "Selection", "TTAScores",
    "TemperatureScaler", "TunedThreshold", "align", "available_runs", "before_after",
    "bootstrap_threshold", "calibration_report", "calibration_scores", "compare_frames",
    "compare_methods", "correlation", "ensemble_score", "ensure_run", "ensure_runs",
    "expected_calibration_error", "fit_weights", "flip_tta_runs", "flip_tta_scores",
    "greedy_selection", "labelled_sets", "load_predictions", "merge", "pseudo_run_name", "rank_average",
    "rank_scores", "read_threshold", "reliability_table", "rescore", "retrain_with_pseudo", "scores_by_generator",
    "select_pseudo", "soft_vote", "spread", "submission", "submission_summary", "threshold_curves", "threshold_gain",
    "train_fake_share", "tune_threshold", "versus_writeup", "write_ensemble",
    "write_pseudo_folder", "write_submission", "write_threshold",
]  # fmt: skip
