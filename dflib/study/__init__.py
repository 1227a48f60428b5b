"""Studies: what reads many runs to answer a question.

Takes run folders (their small files, predictions and, for explanations and robustness,
their weights) and the data they were trained on; gives tables, verdicts and the markdown
reports that answer one question each. Nothing here makes a submission
(:mod:`dflib.decide` does); figures of these tables are in :mod:`dflib.viz`.

- :mod:`~dflib.study.leaderboard`: every finished run of a folder in one table, seeds
  aggregated, FLOPs per architecture and size;
- :mod:`~dflib.study.claims_plan` (the runs the write-ups' findings need, as data) and
  :mod:`~dflib.study.claims` (one row per finding: reported, measured, verdict by the
  seed-spread rule); :mod:`~dflib.study.reports` writes ``leaderboard.md`` and
  ``claims.md`` headed by their commands;
- :mod:`~dflib.study.crossgen`: leave one generator family out, in- vs out-of-family
  scores;
- :mod:`~dflib.study.explain` (Grad-CAM through captum, fake-region masks, the CAM-mass
  ratio, frequency-band occlusion) and :mod:`~dflib.study.explain_run` (a run's model
  and validation images, ready to explain);
- :mod:`~dflib.study.regimes`: the size, epochs and images a number was measured at;
  :mod:`~dflib.study.judges` (how each kind of claim is measured) and
  :mod:`~dflib.study.verdicts` (the verdict rules);
- :mod:`~dflib.study.training_table`: ``reports/training.md``, every architecture at one
  size;
- :mod:`~dflib.study.perturb` (the post-processing applied to images),
  :mod:`~dflib.study.robustness` (runs scored on them) and
  :mod:`~dflib.study.robustness_tables` (drops, who degrades least, the tolerance and
  re-tuned threshold tables).

Import the module you need (``from dflib.study import crossgen``): nothing is imported
from here, so a study's dependencies (captum for explanations) load only when it is used.
"""
