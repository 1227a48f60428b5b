"""Embedded synthetic benchmark: a deterministic stand-in for the competition data.

The competition images are not public, so dflib renders a data set with the same
statistics (`docs/writeups.md#task-and-data`): 50,000 training images at a 41,500 / 8,500 real / fake
ratio, a 10,000-image test set with the same share, 256x256 RGB, salt-and-pepper noise
near (not at) 0 and 255 that hits channels independently. Everything is offline:

- **real** images are varied crops (scale, position, flip, mild colour and brightness
  changes) of the photographs bundled with scikit-image;
- **fakes** are real crops in which a soft, face-like ellipse has been re-synthesised by
  a generator simulator (:mod:`dflib.synthetic.generator_sim`), so the evidence lives in
  fine detail: up-sampling traces of the decoder and blending seams (feathered mask,
  slight colour and scale mismatch) where the region meets the untouched image;
- **noise** is added to every image afterwards; the clean copy is kept for scoring filters.

Every image is a pure function of ``(seed, split, index)``, so generation is parallel,
resumable and identical with any number of workers.

Modules: :mod:`~dflib.synthetic.config` (settings, presets, format version),
:mod:`~dflib.synthetic.rendering` (one image), :mod:`~dflib.synthetic.fake` (region swap
and noise), :mod:`~dflib.synthetic.generator_sim` (the decoders),
:mod:`~dflib.synthetic.io` (writing the benchmark to disk: :func:`ensure_dataset`).
"""

from dflib.synthetic.config import FORMAT_VERSION, PRESETS, SyntheticConfig, get_config
from dflib.synthetic.io import ensure_dataset
from dflib.synthetic.rendering import (
    REGION_FIELDS,
    SyntheticSample,
    labels,
    load_photo,
    photo_names,
    render,
    render_real,
)

__all__ = [
    "FORMAT_VERSION", "PRESETS", "REGION_FIELDS", "SyntheticConfig", "SyntheticSample",
    "ensure_dataset", "get_config", "labels", "load_photo", "photo_names", "render",
    "render_real",
]  # fmt: skip
