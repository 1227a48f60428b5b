"""dflib: tested kernels for deepfake image detection notebooks.

The bottom layer, which every stage may import:

- :mod:`~dflib.runtime`: seeding, the device, the mixed-precision dtype;
- :mod:`~dflib.environment`: the project root, the platform (Kaggle, Colab, local), cache
  and run folders, inter-process locks;
- :mod:`~dflib.imageio`: robust decoding of any image a data folder holds;
- :mod:`~dflib.metrics`: scores of the fake class, the threshold search, per-generator
  tables, the shuffled-label floor;
- :mod:`~dflib.checks`: a notebook's answers asserted in its checks section.

Then one sub-package per stage (:mod:`~dflib.synthetic`, :mod:`~dflib.data`,
:mod:`~dflib.filters`, :mod:`~dflib.spectral`, :mod:`~dflib.models`, :mod:`~dflib.train`,
:mod:`~dflib.decide`, :mod:`~dflib.study`, :mod:`~dflib.viz`), with
:mod:`~dflib.probes` (small CNN probes of how much signal a set of images holds) and, on
top, :mod:`~dflib.cli` (``python -m dflib``).

Submodules are imported on demand (``from dflib import data``) so that importing the
package stays cheap; nothing heavy runs at import time.
"""

__version__ = "0.1.0"
