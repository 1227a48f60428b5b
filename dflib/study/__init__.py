"""Studies: what reads many runs to answer a question.

Takes run folders (their small files, predictions and, for explanations and robustness,
their weights) and the data they were trained on; gives tables, verdicts and the markdown
reports that answer one question each. Nothing here makes a submission
(:mod:`dflib.decide` does); figures of these tables are in :mod:`dflib.viz`.

- :mod:`~dflib.study.leaderboard`: what every run scored (one run's row beside the write-up, the table, ``leaderboard.md``, ``training.md``);
- :mod:`~dflib.study.claims`: do the write-ups' findings hold (runs, regimes, verdicts, ``claims.md``);
- :mod:`~dflib.study.crossgen`: does a detector find fakes of a generator family it never saw;
- :mod:`~dflib.study.explain`: where a detector looks (Grad-CAM, fake regions, frequency bands);
- :mod:`~dflib.study.robustness`: how runs survive post-processing (perturbations, scores, tables).

Import the module you need (``from dflib.study import crossgen``): nothing is imported
from here, so a study's dependencies (captum for explanations) load only when it is used.
"""
