"""Figures: all matplotlib of the package lives here, so every other stage imports
without it.

- :mod:`~dflib.viz.plotting`: the common style, :func:`~dflib.viz.plotting.save`, and the
  figures of the EDA and filter notebooks;
- :mod:`~dflib.viz.spectra`: spectra, difference maps, profiles, filter effects;
- :mod:`~dflib.viz.residuals`: residual crops and the linear profile probe's result;
- :mod:`~dflib.viz.training`: a training run's curves, confusion matrix, ROC / PR and
  worst errors; :mod:`~dflib.viz.decisions`: thresholds, calibration, ensembles and
  pseudo-labels;
- :mod:`~dflib.viz.explain`: class-activation maps and band occlusion;
  :mod:`~dflib.viz.crossgen`, :mod:`~dflib.viz.robustness` and
  :mod:`~dflib.viz.leaderboard`: the figures of those studies.

Import the module you need (``from dflib.viz import plotting``); this package imports
none of them itself, so matplotlib loads only when a figure is wanted.
"""
