"""Decisions: what turns finished runs into a submission.

Takes run folders (their validation and test predictions, their weights); gives
thresholds, calibrated probabilities, ensembles, TTA scores, pseudo-labelled data, a
retrained run and submissions. The studies that read many runs to answer a question
live one stage up, in :mod:`dflib.study`.

- :mod:`~dflib.decide.threshold`: which threshold, how calibrated, the submission it decides;
- :mod:`~dflib.decide.ensemble`: whether combining runs (voting, ranks, selection, flip TTA) pays;
- :mod:`~dflib.decide.pseudo`: whether pseudo-labels help (selection, retraining, before/after);
"""

from dflib.decide.ensemble import (
    Aligned,
    Comparison,
    Selection,
    TTAScores,
    align,
    compare_methods,
    correlation,
    ensemble_score,
    fit_weights,
    flip_tta_runs,
    flip_tta_scores,
    greedy_selection,
    load_predictions,
    merge,
    rank_average,
    rank_scores,
    soft_vote,
    write_ensemble,
)
from dflib.decide.pseudo import (
    PseudoLabels,
    before_after,
    compare_frames,
    pseudo_run_name,
    rescore,
    retrain_with_pseudo,
    select_pseudo,
    train_fake_share,
    versus_writeup,
    write_pseudo_folder,
)
from dflib.decide.threshold import (
    TemperatureScaler,
    TunedThreshold,
    bootstrap_threshold,
    calibration_report,
    calibration_scores,
    expected_calibration_error,
    labelled_sets,
    read_threshold,
    reliability_table,
    scores_by_generator,
    spread,
    submission,
    submission_summary,
    threshold_curves,
    threshold_gain,
    tune_threshold,
    write_submission,
    write_threshold,
)
from dflib.train.plan import MissingRunError, available_runs, ensure_run, ensure_runs

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
