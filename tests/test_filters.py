"""dflib.filters against straightforward SciPy / NumPy references."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from PIL import Image

from dflib import filters as F
from dflib.filters import kernels as fk

MASKED = ["selective_median", "coherent_noise_filter", "adaptive_median"]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def noisy(n: int, h: int, w: int, density: float = 0.1, seed: int = 0) -> np.ndarray:
    """Mid-grey random images with salt-and-pepper near 0 and 255 (~5 and ~250: docs/writeups.md#task-and-data),
    some of it in a single channel only, and exact 0/255 and tolerance-edge values."""
    rng = np.random.default_rng(seed)
    x = rng.integers(20, 236, size=(n, h, w, 3), dtype=np.uint8)
    hit = rng.random((n, h, w, 3)) < density
    values = np.array([0, 3, 5, 8, 30, 31, 224, 225, 247, 250, 255], dtype=np.uint8)
    x[hit] = rng.choice(values, size=int(hit.sum()))
    return x


def ref_median(x: np.ndarray) -> np.ndarray:
    return np.stack([ndi.median_filter(im, size=(3, 3, 1), mode="reflect") for im in x])


def ref_mask(x: np.ndarray, tol: int) -> np.ndarray:
    return (x <= tol) | (x >= 255 - tol)


def ref_adaptive(x: np.ndarray, tol: int) -> np.ndarray:
    """Pixel loop: median of unflagged neighbours, rounded half up; plain median if none."""
    flag = ref_mask(x, tol).any(-1)
    out = x.copy()
    for n, i, j in zip(*np.nonzero(flag), strict=True):
        pad_x = np.pad(x[n], ((1, 1), (1, 1), (0, 0)), mode="edge")
        pad_f = np.pad(flag[n], 1, mode="edge")
        win, wflag = pad_x[i : i + 3, j : j + 3].reshape(9, 3), pad_f[i : i + 3, j : j + 3].ravel()
        good = win[~wflag]
        if len(good):
            out[n, i, j] = np.floor(np.median(good.astype(float), axis=0) + 0.5)
        else:
            out[n, i, j] = np.median(win, axis=0)
    return out


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return noisy(4, 29, 34)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 3), (16, 16), (29, 34)])
def test_global_median_equals_scipy_everywhere(shape):
    x = noisy(2, *shape, density=0.3, seed=1)
    assert np.array_equal(F.global_median(x), ref_median(x))


@pytest.mark.parametrize("tol", [0, 5, 30, 127])
def test_selective_median_per_channel(batch, tol):
    want = np.where(ref_mask(batch, tol), ref_median(batch), batch)
    got = F.selective_median(batch, tol=tol)
    assert np.array_equal(got, want)
    assert np.array_equal(got[~ref_mask(batch, tol)], batch[~ref_mask(batch, tol)])


@pytest.mark.parametrize("tol", [0, 10, 30, 60])
def test_coherent_filter_combined_mask(batch, tol):
    mask = ref_mask(batch, tol).any(-1, keepdims=True)
    got = F.coherent_noise_filter(batch, tol=tol)
    assert np.array_equal(got, np.where(mask, ref_median(batch), batch))
    keep = np.broadcast_to(~mask, batch.shape)
    assert np.array_equal(got[keep], batch[keep])  # bit-for-bit outside the mask
    # a pixel noisy in one channel is repaired in all three
    one = ref_mask(batch, tol).sum(-1) == 1
    assert one.any()
    assert np.array_equal(got[one], ref_median(batch)[one])


def test_coherent_default_tol_is_30(batch):
    assert np.array_equal(F.coherent_noise_filter(batch), F.coherent_noise_filter(batch, tol=30))
    assert F.get_filter("coherent_noise_filter").cache_key == "coherent_noise_filter(tol=30)"


@pytest.mark.parametrize("tol", [0, 1, 29, 30, 31, 126, 127, 128, 200, 255])
def test_mask_over_all_values(tol):
    v = torch.arange(256, dtype=torch.uint8).view(1, 16, 16, 1)
    want = ref_mask(v.numpy(), tol)
    assert np.array_equal(fk.noise_mask(v, tol).numpy(), want)
    three = v.expand(1, 16, 16, 3).clone()
    three[..., 1] = 128
    assert np.array_equal(fk.coherent_mask(three, tol).numpy(), want)


@pytest.mark.parametrize("density", [0.05, 0.5, 0.9])
def test_adaptive_equals_pixel_loop(density):
    x = noisy(2, 13, 17, density=density, seed=2)
    got = F.adaptive_median(x)
    assert np.array_equal(got, ref_adaptive(x, 30))
    keep = ~ref_mask(x, 30).any(-1)
    assert np.array_equal(got[keep], x[keep])


def test_adaptive_beats_plain_median_on_dense_noise():
    rng = np.random.default_rng(3)
    clean = np.full((1, 40, 40, 3), 120, np.uint8) + rng.integers(0, 10, (1, 40, 40, 3), np.uint8)
    x = clean.copy()
    hit = rng.random((1, 40, 40)) < 0.5
    x[hit] = 250
    err_adaptive = np.abs(F.adaptive_median(x).astype(int) - clean).mean()
    err_coherent = np.abs(F.coherent_noise_filter(x).astype(int) - clean).mean()
    assert err_adaptive < err_coherent / 3


def ref_wiener(x: np.ndarray, tol: int) -> np.ndarray:
    """NumPy spectral Wiener, noise power from the impulse residual."""
    out = np.empty_like(x)
    coherent = np.where(ref_mask(x, tol).any(-1, keepdims=True), ref_median(x), x)
    h, w = x.shape[1:3]
    for n in range(len(x)):
        for c in range(3):
            img = x[n, :, :, c].astype(float)
            sigma2 = np.mean((img - coherent[n, :, :, c]) ** 2)
            spec = np.fft.fft2(img)
            power = np.abs(spec) ** 2 / (h * w)
            gain = np.clip(1 - sigma2 / np.maximum(power, 1e-12), 0, None)
            gain[0, 0] = 1
            y = np.fft.ifft2(spec * gain).real
            out[n, :, :, c] = np.clip(np.round(y), 0, 255)
    return out


def test_fft_wiener_matches_numpy_reference(batch):
    got = F.fft_wiener(batch).astype(int)
    diff = np.abs(got - ref_wiener(batch, 30))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # float64 FFT rounding ties only


def test_fft_wiener_clean_image_unchanged_and_masked_mode():
    rng = np.random.default_rng(4)
    clean = rng.integers(40, 216, (2, 24, 24, 3), dtype=np.uint8)
    assert np.array_equal(F.fft_wiener(clean), clean)  # no impulses: no noise power
    x = noisy(2, 24, 24, seed=5)
    masked = F.fft_wiener(x, masked=True)
    full = F.fft_wiener(x)
    mask = ref_mask(x, 30).any(-1, keepdims=True)
    assert np.array_equal(masked, np.where(mask, full, x))


def test_fft_wiener_keeps_strong_periodic_peak():
    """A strong periodic pattern (power far above the noise floor) survives."""
    h = w = 64
    yy, xx = np.mgrid[:h, :w]
    pattern = 128 + 40 * np.cos(2 * np.pi * (8 * xx / w + 4 * yy / h))
    clean = np.repeat(pattern[None, ..., None], 3, -1).round().astype(np.uint8)
    x = clean.copy()
    rng = np.random.default_rng(6)
    hit = rng.random((1, h, w)) < 0.05
    x[hit] = 250
    y = F.fft_wiener(x)
    peak = lambda im: np.abs(np.fft.fft2(im[0, :, :, 0].astype(float)))[4, 8]  # noqa: E731
    assert peak(y) > 0.9 * peak(clean)
    floor = lambda im: np.median(np.abs(np.fft.fft2(im[0, :, :, 0] - clean[0, :, :, 0] * 1.0)))  # noqa: E731
    assert floor(y) < floor(x)


@pytest.mark.parametrize("name", F.list_filters())
def test_numpy_torch_single_and_batch_agree(batch, name):
    f = F.get_filter(name)
    before = batch.copy()
    out = f(batch)
    assert out.dtype == np.uint8 and out.shape == batch.shape
    assert np.array_equal(batch, before)  # input untouched
    t = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()
    out_t = f(t)
    assert out_t.dtype == torch.uint8 and out_t.shape == t.shape
    assert np.array_equal(out_t.permute(0, 2, 3, 1).numpy(), out)
    assert np.array_equal(f(batch[1]), out[1])  # HWC image
    assert np.array_equal(f(t[1]).numpy(), out_t[1].numpy())  # CHW image
    ro = batch.copy()
    ro.flags.writeable = False
    assert np.array_equal(f(ro), out)
    assert np.array_equal(f(batch[:, ::-1]), f(np.ascontiguousarray(batch[:, ::-1])))


@pytest.mark.parametrize("name", ["global_median", "coherent_noise_filter", "adaptive_median"])
def test_chunking_does_not_change_results(monkeypatch, name):
    x = noisy(5, 20, 21, seed=7)
    whole = F.get_filter(name)(x)
    monkeypatch.setattr(fk, "CPU_CHUNK_BYTES", 1)  # one image per chunk
    assert np.array_equal(F.get_filter(name)(x), whole)
    monkeypatch.setattr(fk, "CPU_CHUNK_BYTES", 2 * x[0].nbytes)
    assert np.array_equal(F.get_filter(name)(x), whole)


def test_grey_and_empty_inputs():
    x = noisy(1, 15, 15, seed=8)[0, :, :, 0]
    want = ndi.median_filter(x, size=3, mode="reflect")
    assert np.array_equal(F.global_median(x), want)
    assert np.array_equal(F.global_median(torch.from_numpy(x)).numpy(), want)
    empty = np.zeros((0, 8, 8, 3), np.uint8)
    assert F.coherent_noise_filter(empty).shape == empty.shape


@CUDA
@pytest.mark.parametrize("name", F.list_filters())
def test_gpu_matches_cpu(batch, name):
    f = F.get_filter(name)
    t = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()
    cpu, gpu = f(t), f(t.cuda())
    assert gpu.device.type == "cuda" and gpu.dtype == torch.uint8
    diff = (gpu.cpu().int() - cpu.int()).abs()
    assert diff.max() <= (1 if name == "fft_wiener" else 0)


@pytest.mark.parametrize("name", F.list_filters())
def test_transform_kinds(name):
    f = F.get_filter(name)
    x = noisy(1, 18, 22, seed=9)[0]
    want = f(x)
    pil = f(Image.fromarray(x))
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and pil.size == (22, 18)
    assert np.array_equal(np.asarray(pil), want)
    grey = f(Image.fromarray(x[:, :, 0]))
    assert grey.mode == "L" and grey.size == (22, 18)
    chw = torch.from_numpy(x).permute(2, 0, 1)
    assert np.array_equal(f(chw).permute(1, 2, 0).numpy(), want)
    assert isinstance(f, torch.nn.Module)


def test_torchvision_pipeline():
    v2 = pytest.importorskip("torchvision.transforms.v2")
    x = Image.fromarray(noisy(1, 40, 50, seed=10)[0])
    pipe = v2.Compose([v2.Resize(32), F.CoherentNoiseFilter(), v2.RandomHorizontalFlip(0.0)])
    out = pipe(x)
    assert isinstance(out, Image.Image) and out.size == (40, 32)
    tensor_pipe = v2.Compose([v2.PILToTensor(), F.CoherentNoiseFilter(tol=30)])
    assert np.array_equal(
        tensor_pipe(x).permute(1, 2, 0).numpy(), F.coherent_noise_filter(np.asarray(x))
    )
    image_pipe = v2.Compose([v2.ToImage(), F.CoherentNoiseFilter(), v2.RandomHorizontalFlip(1.0)])
    out = image_pipe(x)
    assert type(out).__name__ == "Image" and out.dtype == torch.uint8
    want = F.coherent_noise_filter(np.asarray(x))[:, ::-1]
    assert np.array_equal(out.permute(1, 2, 0).numpy(), want)


def test_registry_and_cache_contract(batch):
    assert F.list_filters() == [
        "none",
        "global_median",
        "selective_median",
        "coherent_noise_filter",
        "adaptive_median",
        "fft_wiener",
    ]
    with pytest.raises(ValueError, match="valid names: none, global_median"):
        F.get_filter("median")
    with pytest.raises(TypeError, match="tol"):
        F.get_filter("global_median", tol=3)
    with pytest.raises(ValueError, match="tol"):
        F.get_filter("coherent_noise_filter", tol=300)
    f = F.get_filter("coherent_noise_filter", tol=np.int64(20))
    assert f.cache_key == "coherent_noise_filter(tol=20)"
    assert F.CoherentNoiseFilter(20).cache_key == f.cache_key
    assert (
        F.get_filter("fft_wiener").cache_key == "fft_wiener(tol=30,noise_power=None,masked=False)"
    )
    assert len({F.get_filter(n).cache_key for n in F.list_filters()}) == len(F.list_filters())
    g = pickle.loads(pickle.dumps(f))
    assert g.cache_key == f.cache_key and np.array_equal(g(batch), f(batch))


def test_clear_errors():
    with pytest.raises(TypeError, match="uint8"):
        F.coherent_noise_filter(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(TypeError, match="PILToTensor"):
        F.coherent_noise_filter(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        F.global_median(np.zeros((1, 1, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="convert"):
        F.global_median(Image.new("RGBA", (4, 4)))
    with pytest.raises(TypeError, match="NumPy array"):
        F.global_median([[1, 2], [3, 4]])


@pytest.mark.parametrize("name", MASKED)
def test_masked_filters_leave_clean_image_alone(name):
    rng = np.random.default_rng(11)
    clean = rng.integers(31, 225, (2, 16, 16, 3), dtype=np.uint8)
    assert np.array_equal(F.get_filter(name)(clean), clean)
