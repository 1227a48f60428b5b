"""What a resume may change: the command line and ``fit(resume=True)`` read one list."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from dflib.cli import main
from dflib.train import fit, get_recipe

TIMING = ["seconds", "images_per_s"]


def test_a_free_setting_takes_effect_on_resume_from_the_command_line_and_from_fit(tmp_path, capsys):
    """``amp`` is free: ``--resume --no-amp`` and ``fit(resume=True)`` with ``amp="off"``
    both continue the bf16 run in float32 (the command line once kept bf16 silently)."""
    first = get_recipe("freqnet", synthetic_size="tiny", train_images=64, img_size=64,
                       epochs=1, batch_size=16, amp="bf16")  # fmt: skip
    cli, api = tmp_path / "cli", tmp_path / "api"
    fit(first, out=str(cli), progress=False)
    assert json.loads((cli / "environment.json").read_text())["precision"] == "bfloat16"
    shutil.copytree(cli, api)

    capsys.readouterr()
    assert main(["train", "--out", str(cli), "--resume", "--epochs", "2", "--no-amp",
                 "--no-progress"]) == 0  # fmt: skip
    assert "ignoring" not in capsys.readouterr().err
    fit(first.replace(epochs=2, amp="off"), out=str(api), resume=True, progress=False)

    for run in (cli, api):
        assert json.loads((run / "params.json").read_text())["amp"] == "off"
        assert json.loads((run / "environment.json").read_text())["precision"] == "float32"
    histories = [pd.read_csv(run / "history.csv").drop(columns=TIMING) for run in (cli, api)]
    assert len(histories[0]) == 2
    pd.testing.assert_frame_equal(*histories)
