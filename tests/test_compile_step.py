"""A compiled run compiles its training step once, for any architecture, and says so.

dynamo traces and counts graphs whatever its backend; the tests use the ``eager``
backend, which skips inductor's code generation (minutes per model on a 2-core CPU), so
what is checked is what dynamo compiles, not the kernels it would generate (the
``eager_backend`` fixture, tests/conftest.py).
"""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters

from dflib.train import fit, get_recipe

# three architectures sharing ClassifierBase.forward: the third once hit dynamo's
# recompile limit in one process and ran eager while its params.json said compiled
ARCHS = ("freqnet", "custom_resnet", "rgb_fft")


def tiny(arch: str, **overrides):
    # 30 training images at batch 8: three whole batches and a ragged one of 6 per epoch
    settings = dict(synthetic_size="tiny", train_images=34, img_size=64, epochs=2, batch_size=8,
                    finetune_epochs=0, augment=(), compile=True)  # fmt: skip
    return get_recipe(arch, **{**settings, **overrides})


def test_the_training_step_compiles_once_per_run_for_three_architectures(
    eager_backend, tmp_path, capsys
):
    for arch in ARCHS:
        config = tiny(arch)
        before = counters["stats"]["unique_graphs"]
        result = fit(config, out=str(tmp_path / arch), progress=False)
        assert result.metrics["n_train"] % config.batch_size != 0, "a ragged last batch"
        assert counters["stats"]["unique_graphs"] - before == 1, arch
        params = result.run.read_json("params")
        assert params["step"].startswith("torch.compile (default)")
        assert params["compiled_graphs"] == 1, arch
        assert "torch.compile: 1 graph compiled" in capsys.readouterr().out


# the models that take complex FFTs (models/_layers.py); inductor has had complex-tensor
# bugs on non-contiguous inputs, and a GPU step feeds them channels_last batches
FFT_ARCHS = ("freqnet", "rgb_fft", "hybrid_xception_freq_transformer")


@pytest.mark.parametrize("arch", FFT_ARCHS)
def test_the_fft_models_under_aot_autograd_on_channels_last_input_equal_eager(arch):
    """AOTAutograd (``aot_eager``: the graphs inductor would receive, run by eager
    kernels) on channels_last input: the training-mode outputs and every parameter's
    gradient equal eager's."""
    import copy

    from dflib.models import create_model

    torch.manual_seed(0)
    eager = create_model(arch).to(memory_format=torch.channels_last).train()
    compiled_model = copy.deepcopy(eager)
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    torch._dynamo.reset()
    compiled = torch.compile(compiled_model, backend="aot_eager", fullgraph=True)
    results = []
    for model in (eager, compiled):
        torch.manual_seed(1)  # the same dropout masks
        out = model(x)
        out.float().pow(2).mean().backward()
        results.append(out.detach())
    torch.testing.assert_close(results[1], results[0])
    grads = {n: p.grad for n, p in compiled_model.named_parameters()}
    for name, param in eager.named_parameters():
        assert param.grad is not None and grads[name] is not None, name
        torch.testing.assert_close(grads[name], param.grad, msg=lambda m, n=name: f"{n}: {m}")
