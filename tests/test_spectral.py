"""dflib.spectral on signals whose spectrum is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dflib import spectral as S

H, W = 32, 48


def images(n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, H, W, 3), dtype=np.uint8)


def test_shapes_and_layouts():
    x = images()
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    assert S.log_magnitude_spectrum(x).shape == (4, 3, H, W)
    assert S.log_magnitude_spectrum(x, grey=True).shape == (4, H, W)
    assert S.log_magnitude_spectrum(x[0]).shape == (3, H, W)
    assert S.log_magnitude_spectrum(x[0, :, :, 0]).shape == (H, W)
    spec_t = S.log_magnitude_spectrum(t)
    assert isinstance(spec_t, torch.Tensor) and spec_t.shape == (4, 3, H, W)
    np.testing.assert_allclose(spec_t.numpy(), S.log_magnitude_spectrum(x), atol=1e-5)
    assert S.npr_residual(x).shape == x.shape and S.npr_residual(t).shape == t.shape
    assert S.fft_highpass(x[0]).shape == x[0].shape and S.fft_highpass(t[0]).shape == t[0].shape
    assert S.npr_residual(x).dtype == np.float32
    assert S.radial_profiles(x).shape == (4, min(H, W) // 2 + 1)
    assert S.radial_profiles(x[0]).shape == (min(H, W) // 2 + 1,)
    with pytest.raises(ValueError, match="shape"):
        S.log_magnitude_spectrum(np.zeros((1, 1, 2, 2, 3)))
    with pytest.raises(ValueError, match="empty"):
        S.radial_profiles(x[:0])


def test_grey_is_bt601():
    x = images(1)
    grey = (x[0].astype(np.float64) / 255) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(
        S.log_magnitude_spectrum(x[0], grey=True), S.log_magnitude_spectrum(grey), atol=1e-4
    )


def test_cosine_peaks_at_its_frequency():
    yy, xx = np.mgrid[:H, :W]
    img = np.cos(2 * np.pi * (5 * xx / W + 3 * yy / H))
    spec = S.log_magnitude_spectrum(img[..., None], center=True)[0]
    peaks = np.argwhere(spec >= spec.max() - 1e-4)
    got = {(int(i) - H // 2, int(j) - W // 2) for i, j in peaks}
    assert got == {(3, 5), (-3, -5)}
    raw = S.log_magnitude_spectrum(img[..., None], center=False)[0]
    assert raw[3, 5] == pytest.approx(spec.max(), abs=1e-4)


def test_checkerboard_peaks_at_nyquist():
    yy, xx = np.mgrid[:H, :W]
    board = ((yy + xx) % 2 * 255).astype(np.uint8)
    spec = S.log_magnitude_spectrum(board)
    spec[H // 2, W // 2] = -np.inf  # ignore DC
    assert np.unravel_index(np.argmax(spec), spec.shape) == (0, 0)  # Nyquist after fftshift
    corner = round(np.hypot(H // 2, W // 2))  # Nyquist lies beyond the inscribed circle
    prof = S.azimuthal_profile(S.log_magnitude_spectrum(board), n_bins=corner + 1)
    assert np.argmax(prof[1:]) + 1 == corner


def test_azimuthal_profile_exact_on_radial_function():
    yy, xx = np.mgrid[:H, :W]
    radius = np.round(np.hypot(yy - H // 2, xx - W // 2))
    prof = S.azimuthal_profile(np.stack([radius, 2 * radius]))
    r = np.arange(min(H, W) // 2 + 1)
    np.testing.assert_allclose(prof, np.stack([r, 2 * r]))
    assert S.azimuthal_profile(torch.ones(2, 3, H, W), n_bins=5).shape == (2, 3, 5)


def test_white_noise_profile_is_flat():
    noise = np.random.default_rng(1).normal(size=(16, 64, 64))
    power = np.exp(2 * S.log_magnitude_spectrum(noise[..., None])[:, 0])  # |F|^2
    prof = S.azimuthal_profile(power.mean(0))
    assert np.all(np.abs(prof[2:] - 1) < 0.2)  # ortho FFT: E|F|^2 = variance = 1
    # a blurred (low-pass) image is not flat: the tail drops
    smooth = np.cumsum(np.cumsum(noise, 1), 2)
    sprof = S.radial_profiles(smooth[..., None])
    assert np.all(sprof.mean(0)[-3:] < sprof.mean(0)[2] - 3)


def test_class_means_and_difference():
    x = images(6)
    labels = np.array([0, 1, 0, 1, 1, 0])
    spec = S.log_magnitude_spectrum(x, grey=True)
    means = S.class_mean_spectra(x, labels, grey=True, batch_size=4)
    assert sorted(means) == [0, 1]
    np.testing.assert_allclose(means[0], spec[labels == 0].mean(0), atol=1e-5)
    np.testing.assert_allclose(means[1], spec[labels == 1].mean(0), atol=1e-5)
    diff = S.difference_map(means[1], means[0])
    np.testing.assert_allclose(diff, means[1] - means[0])
    with pytest.raises(ValueError, match="differ"):
        S.difference_map(means[0], means[0][:-1])
    per_channel = S.class_mean_spectra(x, labels, grey=False)
    assert per_channel[0].shape == (3, H, W)
    families = np.array(["stylegan", "real", "stylegan", "diffusion", "real", "real"])
    by_family = S.class_mean_spectra(x, families, batch_size=4)
    assert sorted(by_family) == ["diffusion", "real", "stylegan"]
    np.testing.assert_allclose(by_family["real"], spec[families == "real"].mean(0), atol=1e-5)
    torch_labels = S.class_mean_spectra(x, torch.from_numpy(labels))
    assert sorted(torch_labels) == [0, 1] and isinstance(next(iter(torch_labels)), int)


def test_npr_residual_zero_on_nearest_upsampled():
    low = images(2)[:, ::2, ::2]
    up = low.repeat(2, axis=1).repeat(2, axis=2)
    assert np.abs(S.npr_residual(up)).max() == 0
    assert np.abs(S.npr_residual(up[:, :-1, :-1])).max() == 0  # odd sizes
    t = torch.from_numpy(up).permute(0, 3, 1, 2)
    assert S.npr_residual(t).abs().max() == 0
    res = S.npr_residual(images(1, seed=3))
    assert np.abs(res).max() > 0.5
    assert np.all(res[:, ::2, ::2] == 0)  # the kept pixels predict themselves


def test_fft_highpass():
    yy, xx = np.mgrid[:H, :W]
    low = np.cos(2 * np.pi * 2 * xx / W)  # radius 2/48 / 0.5 ~ 0.08
    high = ((yy + xx) % 2).astype(float)  # Nyquist, radius sqrt(2)
    img = (low + high)[..., None]
    res = S.fft_highpass(img, cutoff=0.25)
    np.testing.assert_allclose(res[..., 0], high - high.mean(), atol=1e-5)
    np.testing.assert_allclose(S.fft_highpass(img, cutoff=0.0), img, atol=1e-5)
    assert np.abs(S.fft_highpass(np.full((8, 8, 3), 7, np.uint8))).max() < 1e-6
    with pytest.raises(ValueError, match="cutoff"):
        S.fft_highpass(img, cutoff=2.0)


def test_durall_features_normalised():
    feats = S.radial_profiles(images(5), normalize=True, batch_size=2)
    assert feats.shape == (5, min(H, W) // 2 + 1)
    np.testing.assert_allclose(feats.min(1), 0, atol=1e-6)
    np.testing.assert_allclose(feats.max(1), 1, atol=1e-6)
    np.testing.assert_allclose(
        S.radial_profiles(images(5), batch_size=2), S.radial_profiles(images(5)), atol=1e-5
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_gpu_matches_cpu():
    t = torch.from_numpy(images()).permute(0, 3, 1, 2)
    cpu = S.log_magnitude_spectrum(t)
    gpu = S.log_magnitude_spectrum(t.cuda())
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-4, rtol=1e-4)
    assert S.npr_residual(t.cuda()).device.type == "cuda"
