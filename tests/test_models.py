"""Model zoo tests, generated from the registry: every registered model gets every check.

Small inputs (batch 2, 64 px) keep the whole file to a few seconds per model on a CPU.
"""

from __future__ import annotations

import json
import sys

import pytest
import torch
import torchvision
from torch.nn import functional as F

from dflib.filters.frequency import highpass_mask
from dflib.models import ModelCfg, count_params, create_model, list_models, model_cfg
from dflib.models._layers import FFTHighPass, fft_log_magnitude
from dflib.models.deepfakenet import AdaptiveContextPool
from dflib.runtime import seed_everything

MODELS = list_models()
BATCH = 2
SIZE = 64

# Pinned: the first two are the write-ups' numbers (docs/writeups.md#architectures), the others the sizes we designed.
EXPECTED_PARAMS = {
    "xception_resnet50": 13_679_746,
    "resnet50": 23_512_130,
    "freqnet": 1_998_754,
    "hybrid_xception_freq_transformer": 4_855_042,
    "deepfakenet": 2_805_089,
    "hrnet_artifact": 2_243_905,
    "custom_resnet": 2_799_137,
    "rgb_fft": 2_803_841,
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny inputs gain nothing from threads, and on a shared machine they oversubscribe."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _build(name: str, seed: int = 42, **kwargs) -> torch.nn.Module:
    seed_everything(seed)
    return create_model(name, **kwargs)


def _images(height: int = SIZE, width: int = SIZE, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(BATCH, 3, height, width, generator=gen)


def test_registry_has_every_spec_model():
    assert MODELS == sorted(EXPECTED_PARAMS)


@pytest.mark.parametrize("name", MODELS)
def test_param_count_is_pinned(name):
    assert count_params(create_model(name)) == EXPECTED_PARAMS[name]


def test_spec_sizes_in_megabytes():
    # docs/writeups.md#xceptionresnet50: 13,679,746 parameters "= 52.18 MB float32" (MiB of 4-byte floats).
    assert round(EXPECTED_PARAMS["xception_resnet50"] * 4 / 2**20, 2) == 52.18


@pytest.mark.parametrize("name", MODELS)
def test_forward_backward_every_parameter_learns(name):
    """Every parameter gets a finite gradient, non-zero by the second step.

    The second step because a residual branch whose last BatchNorm scale starts at zero
    (XceptionResNet50) passes no gradient upstream until one update has moved that scale.
    """
    model = _build(name).train()
    n_out = model_cfg(name).num_classes
    target = torch.tensor([0, 1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad(set_to_none=True)
        out = model(_images())
        assert out.shape == (BATCH, n_out)
        assert torch.isfinite(out).all()
        if n_out == 1:
            loss = F.binary_cross_entropy_with_logits(out[:, 0], target.float())
        else:
            loss = F.cross_entropy(out, target)
        loss.backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None]
        assert not missing, f"parameters without gradient: {missing}"
        bad = [n for n, p in model.named_parameters() if not torch.isfinite(p.grad).all()]
        assert not bad, f"non-finite gradients: {bad}"
        optimizer.step()
    dead = [n for n, p in model.named_parameters() if not p.grad.any()]
    assert not dead, f"parameters whose gradient is exactly zero: {dead}"


def test_xception_resnet_blocks_start_as_their_shortcut():
    """Zero last-BN scales: at initialisation each block returns ReLU(shortcut(x))."""
    model = _build("xception_resnet50").eval()
    x = torch.randn(2, 3, 64, 64)
    h = model.stem(x)
    for block in (m for stage in model.stages for m in stage):
        assert torch.equal(block(h), torch.relu(block.shortcut(h)))
        h = block(h)


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_output(name):
    x = _images()
    with torch.no_grad():
        a = _build(name, seed=42).eval()(x)
        b = _build(name, seed=42).eval()(x)
        c = _build(name, seed=7).eval()(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, c), "the seed should change the initial weights"


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("size", [(64, 96), (97, 65)], ids=["64x96", "97x65-odd"])
def test_non_square_input(name, size):
    model = _build(name).eval()
    with torch.no_grad():
        out = model(_images(*size))
    assert out.shape == (BATCH, model.num_classes)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", MODELS)
def test_channels_last_matches_contiguous(name):
    model = _build(name).eval()
    x = _images()
    with torch.no_grad():
        ref = model(x)
        model = model.to(memory_format=torch.channels_last)
        out = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_autocast_bf16(name):
    model = _build(name).eval()
    x = _images()
    with torch.no_grad():
        ref = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x.contiguous(memory_format=torch.channels_last))
    assert out.shape == ref.shape
    assert torch.isfinite(out.float()).all()
    torch.testing.assert_close(out.float(), ref, rtol=0.1, atol=0.1)


@pytest.mark.parametrize("name", MODELS)
def test_interface_features_then_head(name):
    model = _build(name).eval()
    x = _images()
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model.forward_head(feats)
        pre = model.forward_head(feats, pre_logits=True)
        full = model(x)
    torch.testing.assert_close(logits, full)
    assert pre.shape == (BATCH, model.num_features)
    assert model.get_classifier().out_features == model.num_classes


@pytest.mark.parametrize("name", MODELS)
def test_default_cfg_and_docstring(name):
    model = create_model(name)
    cfg = model.default_cfg
    assert isinstance(cfg, ModelCfg)
    assert cfg == model_cfg(name) and cfg.name == name
    assert cfg.num_classes in (1, 2)
    assert cfg.input_size[0] == 3 and min(cfg.input_size[1:]) >= cfg.min_input_size[1]
    assert len(cfg.mean) == len(cfg.std) == 3 and all(s > 0 for s in cfg.std)
    assert "docs/writeups.md#" in cfg.source
    json.dumps(cfg.to_dict())
    doc = sys.modules[type(model).__module__].__doc__ or ""
    assert "Idea" in doc and "Source" in doc and "Input contract" in doc


@pytest.mark.parametrize(
    "name", ["xception_resnet50", "deepfakenet", "hybrid_xception_freq_transformer"]
)
def test_num_classes_override(name):
    model = create_model(name, num_classes=5).eval()
    with torch.no_grad():
        assert model(_images()).shape == (BATCH, 5)
    assert model.default_cfg.num_classes == 5


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model 'xception'") as info:
        create_model("xception")
    for name in MODELS:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="Valid names"):
        model_cfg("resnet")


def test_pretrained_weights_are_refused():
    with pytest.raises(ValueError, match="from scratch"):
        create_model("resnet50", pretrained=True)


def test_too_small_input_says_what_to_do():
    model = create_model("custom_resnet").eval()
    with pytest.raises(ValueError, match="at least 64x64"):
        model(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        model(torch.rand(3, 64, 64))


def test_resnet50_is_torchvision_resnet50():
    ours = create_model("resnet50").state_dict()
    ref = torchvision.models.resnet50(weights=None, num_classes=2).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in ref.items()}


def test_hrnet_keeps_the_stride2_branch_to_the_end():
    model = create_model("hrnet_artifact").eval()
    with torch.no_grad():
        branches = model.forward_branches(_images(64, 96))
    assert [tuple(b.shape[-2:]) for b in branches] == [(32, 48), (16, 24), (8, 12), (4, 6)]


def test_hybrid_tokens_follow_the_input_size():
    model = create_model("hybrid_xception_freq_transformer").eval()
    assert model.pos_embed.shape[-2:] == (13, 13)  # 196 px / 16, rounded up
    with torch.no_grad():
        tokens = model.forward_features(_images(64, 96))
    assert tokens.shape == (BATCH, 1 + 4 * 6, model.num_features)


# ---- FFT layers -------------------------------------------------------------------


def test_fft_highpass_removes_low_and_keeps_high_frequencies():
    h, w = 32, 48
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    low = 3.0 + torch.cos(2 * torch.pi * xx / w)  # DC + lowest horizontal frequency
    checker = ((yy + xx) % 2).float() * 2 - 1  # Nyquist: what up-sampling leaves behind
    x = torch.stack([low, checker])[None].float()
    out = FFTHighPass(cutoff=0.25)(x)
    torch.testing.assert_close(out[0, 0], torch.zeros(h, w), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[0, 1], checker, atol=1e-5, rtol=0)


def test_highpass_mask_drops_dc_for_a_layer_at_any_cutoff():
    assert not highpass_mask(4, 4, 0.0, drop_dc=True)[0, 0]
    assert highpass_mask(4, 4, 0.0)[0, 0] and not highpass_mask(4, 4, 0.1)[0, 0]
    assert highpass_mask(4, 6, 0.0, drop_dc=True)[1:].all()
    assert highpass_mask(7, 9, 0.5).shape == (7, 5)


def test_fft_ops_keep_dtype_and_memory_format_under_autocast():
    x = torch.rand(2, 4, 16, 20).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for fn in (FFTHighPass(0.25), fft_log_magnitude):
            out = fn(x)
            assert out.dtype == torch.bfloat16 and out.shape == x.shape
            assert out.is_contiguous(memory_format=torch.channels_last)


def test_fft_log_magnitude_is_standardised_per_channel():
    out = fft_log_magnitude(torch.rand(2, 3, 32, 40))
    torch.testing.assert_close(out.mean(dim=(-2, -1)), torch.zeros(2, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(dim=(-2, -1)), torch.ones(2, 3), atol=1e-4, rtol=0)


def test_adaptive_context_pool_weights_sum_to_one_and_default_to_mean():
    pool = AdaptiveContextPool(8)
    x = torch.rand(2, 8, 5, 7)
    weights = pool.attention(x)
    torch.testing.assert_close(weights.sum(dim=(-2, -1)), torch.ones(2, 1))
    torch.nn.init.zeros_(pool.score.weight)
    torch.testing.assert_close(pool(x), x.mean(dim=(-2, -1)))
