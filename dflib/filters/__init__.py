"""What is done to the images first: the impulse-noise filters (``docs/writeups.md#noise-filters``), the FFT
high-pass residual, and the measurements that compare filters.

- :mod:`~dflib.filters.named`: the filters as functions (NumPy, torch CPU/GPU, PIL in;
  the same kind out), one torch implementation in :mod:`~dflib.filters.kernels`;
- :mod:`~dflib.filters.transforms`: :class:`NoiseFilter` transforms and the registry
  (:func:`get_filter`, :func:`list_filters`, :func:`filter_set`);
- :mod:`~dflib.filters.frequency`: :func:`fft_highpass`;
- :mod:`~dflib.filters.noise_stats`: salt-and-pepper statistics and the tolerance sweep;
- :mod:`~dflib.filters.evaluation`: scoring filters against the benchmark's clean copies
  and with a small CNN probe.

>>> from dflib.filters import coherent_noise_filter
>>> clean = coherent_noise_filter(image, tol=30)  # doctest: +SKIP
"""

from dflib.filters.frequency import fft_highpass
from dflib.filters.named import (
    adaptive_median,
    coherent_noise_filter,
    fft_wiener,
    global_median,
    identity,
    list_filters,
    selective_median,
)
from dflib.filters.transforms import (
    AdaptiveMedian,
    CoherentNoiseFilter,
    FFTWiener,
    GlobalMedian,
    NoiseFilter,
    SelectiveMedian,
    filter_set,
    get_filter,
)

__all__ = [
    "AdaptiveMedian", "CoherentNoiseFilter", "FFTWiener", "GlobalMedian", "NoiseFilter",
    "SelectiveMedian", "adaptive_median", "coherent_noise_filter", "fft_highpass", "fft_wiener",
    "filter_set", "get_filter", "global_median", "identity", "list_filters", "selective_median",
]  # fmt: skip
