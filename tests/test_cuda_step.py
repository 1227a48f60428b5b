"""The CUDA-only paths of the step (skipped without a GPU; `bench/gpu.sh` runs them):
the resident cache trains the loader's run, and a compiled step (CUDA graphs) trains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dflib.train import fit, get_recipe

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TIMING = ["seconds", "images_per_s"]


def tiny(**overrides):
    settings = dict(synthetic_size="tiny", train_images=80, img_size=64, epochs=2, batch_size=16,
                    device="cuda", deterministic=True, amp=False)  # fmt: skip
    return get_recipe("freqnet", **{**settings, **overrides})


def test_resident_and_loader_paths_train_the_same_run(tmp_path):
    loader = fit(tiny(resident_data="off"), out=str(tmp_path / "loader"), progress=False)
    held = fit(tiny(resident_data="on"), out=str(tmp_path / "held"), progress=False)
    # rtol: a few GPU kernels stay nondeterministic; a shifted random stream moves the
    # losses by hundredths
    pd.testing.assert_frame_equal(loader.history.drop(columns=TIMING),
                                  held.history.drop(columns=TIMING), rtol=1e-3)  # fmt: skip
    assert "AdamW fused update" in held.run.read_json("params")["step"]


def test_a_compiled_step_trains_with_cuda_graphs(tmp_path):
    result = fit(tiny(compile=True, epochs=3), out=str(tmp_path / "graphs"), progress=False)
    assert result.run.read_json("params")["step"].startswith("torch.compile (reduce-overhead)")
    assert np.isfinite(result.history["train_loss"]).all()
    assert result.metrics["val"]["auc"] >= 0
