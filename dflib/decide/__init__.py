"""Decisions: what consumes finished runs - threshold tuning and calibration,
pseudo-labels, ensembles.

Takes run folders (their validation and test predictions, their weights); gives
thresholds, calibrated probabilities, pseudo-labelled data and submissions.
"""
