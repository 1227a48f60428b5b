"""What the spectrum shows: FFT spectra, class means, radial profiles and residuals; the
generator families' fingerprints; what each noise filter does to them; the linear
profile probe.

- :mod:`~dflib.spectral.spectra`: log-magnitude spectra, means, azimuthal profiles, NPR
  residual (and :func:`fft_highpass`, from :mod:`dflib.filters.frequency`);
- :mod:`~dflib.spectral.profile_probe`: the linear probe on radial profiles (Durall et al.);
- :mod:`~dflib.spectral.fingerprints`: family differences, peaks, up-sampling grid contrast;
- :mod:`~dflib.spectral.filter_effects`: spectra of each filter's output and their summary;
- :mod:`~dflib.spectral.residuals`: residual crops for figures.

>>> from dflib import spectral
>>> profiles = spectral.radial_profiles(batch, normalize=True)  # doctest: +SKIP
"""

from dflib.spectral.filter_effects import (
    FilterSpectra,
    filter_difference_maps,
    filter_spectra,
    filter_summary,
    group_difference_maps,
    normalize_profiles,
)
from dflib.spectral.fingerprints import (
    family_differences,
    family_fingerprints,
    family_groups,
    grid_contrast,
    grid_frequencies,
    peak_table,
    spectral_peaks,
)
from dflib.spectral.profile_probe import (
    REFERENCE,
    ProfileProbe,
    fit_profile_probe,
    frequencies,
    stack_images,
)
from dflib.spectral.residuals import example_indices, region_centres, residual_examples
from dflib.spectral.spectra import (
    EPS,
    LUMA,
    SpectrumMeans,
    azimuthal_profile,
    class_mean_spectra,
    difference_map,
    fft_highpass,
    log_magnitude_spectrum,
    luminance,
    npr_residual,
    radial_profiles,
)

__all__ = [
    "EPS", "LUMA", "REFERENCE", "FilterSpectra", "ProfileProbe", "SpectrumMeans",
    "azimuthal_profile", "class_mean_spectra", "difference_map", "example_indices",
    "family_differences", "family_fingerprints", "family_groups", "fft_highpass",
    "filter_difference_maps", "filter_spectra", "filter_summary", "fit_profile_probe",
    "frequencies", "grid_contrast", "grid_frequencies", "group_difference_maps",
    "log_magnitude_spectrum", "luminance", "normalize_profiles", "npr_residual", "peak_table",
    "radial_profiles", "region_centres", "residual_examples", "spectral_peaks", "stack_images",
]  # fmt: skip
