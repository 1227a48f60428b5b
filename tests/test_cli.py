"""The command line reports on a data folder and fails clearly on a wrong one."""

from pathlib import Path

import pandas as pd

from dflib.cli import main


def test_inspect_reports_counts_and_skips(messy_csv_folder, tmp_path, capsys):
    assert (
        main(["inspect", "--data-dir", str(messy_csv_folder), "--report", str(tmp_path / "r.csv")])
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "12 training images, real 7 / fake 5" in out
        and "skipped" in out
        and (tmp_path / "r.csv").is_file()
    )
    assert "train/corrupt.png: not a readable image" in out  # named, not only counted
    assert f"full list: {tmp_path / 'r.csv'}" in out


def test_wrong_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["inspect", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_inspect_decodes_every_file_and_names_a_corrupt_png(messy_csv_folder, tmp_path, capsys):
    """A PNG signature with garbage after it passes the listing; decoding must catch it."""
    fake_png = messy_csv_folder / "train" / "signature_only.png"
    fake_png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    with (messy_csv_folder / "labels.csv").open("a") as labels:
        labels.write("signature_only,fake\n")
    (messy_csv_folder / "test" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    report = tmp_path / "skipped.csv"
    assert main(["inspect", "--data-dir", str(messy_csv_folder), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "decodable: 10 training images" in out
    skipped = pd.read_csv(report)
    for name in ("signature_only.png", "corrupt.png", "truncated.png", "cut.jpg"):
        assert skipped["file"].str.endswith(name).any(), name
    reasons = dict(zip(skipped["file"].map(lambda p: Path(p).name), skipped["reason"], strict=True))
    assert reasons["signature_only.png"]


def test_train_then_predict_from_the_command_line(messy_csv_folder, tmp_path, capsys):
    run = tmp_path / "run"
    common = ["--data", str(messy_csv_folder), "--no-progress"]
    assert main(["train", "--arch", "rgb_fft", "--img-size", "64", "--epochs", "1",
                 "--finetune-epochs", "0", "--batch-size", "4", "--out", str(run), *common]) == 0  # fmt: skip
    assert "validation: F1" in capsys.readouterr().out
    assert (run / "figures" / "learning_curves.png").is_file()
    submission = tmp_path / "submission.csv"
    assert main(["predict", "--run", str(run), "--out", str(submission), *common]) == 0
    assert pd.read_csv(submission)["id"].tolist() == ["t0", "t1", "t2"]
    assert main(["train", "--arch", "rgb_fft", "--out", str(run), *common]) == 2
    assert "resume" in capsys.readouterr().err
    assert main(["train", "--arch", "xception_resnet", *common]) == 2
    assert "Did you mean 'xception_resnet50'" in capsys.readouterr().err


def _train_args(*argv):
    from dflib.cli import build_parser

    return build_parser().parse_args(["train", *argv])


def test_train_flags_come_from_every_trainconfig_field():
    import dataclasses

    from dflib.train.config import TrainConfig, field_docs
    from dflib.train.flags import flag

    args = _train_args()
    docs = field_docs()
    for f in dataclasses.fields(TrainConfig):
        assert getattr(args, f.name) is None, f.name  # left out: the recipe's value
        assert docs[f.name], f"TrainConfig.{f.name} has no docstring entry"
        assert flag(f.name).startswith("--")


def test_train_flags_keep_their_names_and_types():
    from dflib.train.flags import config_from_args

    args = _train_args("--arch", "rgb_fft", "--data", "some/folder", "--size", "demo",
                       "--labels-csv", "y.csv", "--img-size", "64", "--lr", "3e-4", "--no-amp",
                       "--compile", "--augment", "hflip,sharpness", "--no-class-weighting",
                       "--fake-families", "none")  # fmt: skip
    config = config_from_args(args)
    settings = (config.arch, config.data_dir, config.synthetic_size, config.labels_csv)
    assert settings == ("rgb_fft", "some/folder", "demo", "y.csv")
    assert (config.img_size, config.lr, config.amp, config.compile) == (64, 3e-4, "off", True)
    assert config_from_args(_train_args("--amp", "fp16")).amp == "fp16"
    layouts = [config_from_args(_train_args(*given)).channels_last for given in
               ((), ("--channels-last",), ("--no-channels-last",), ("--channels-last", "auto"))]  # fmt: skip
    assert layouts == ["auto", "on", "off", "auto"]  # a bool before: both flags still work
    assert config.augment == ("hflip", "sharpness") and config.fake_families == ()
    assert config.class_weighting is False
    # the rest is rgb_fft's recipe, not the write-up 1 defaults
    assert (config.loss, config.batch_size) == ("bce_focal", 16)
    other_names = _train_args("--data-dir", "x", "--synthetic-size", "tiny")
    assert config_from_args(other_names).data_dir == "x"


def test_train_config_replays_a_params_json_then_explicit_flags(tmp_path):
    import json

    from dflib.train import get_recipe
    from dflib.train.flags import config_from_args

    saved = get_recipe("freqnet", img_size=64, epochs=3, seed=7, augment=("hflip",), tol=25)
    # a run's params.json holds more than the settings (sizes of the split, ...)
    (tmp_path / "params.json").write_text(json.dumps({**saved.to_dict(), "n_train": 10}))
    assert config_from_args(_train_args("--config", str(tmp_path / "params.json"))) == saved
    replayed = config_from_args(_train_args("--config", str(tmp_path), "--epochs", "5", "--amp"))
    assert replayed == saved.replace(epochs=5, amp=True)


def test_train_config_file_errors_are_clear(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "nope.json")]) == 2
    assert "params.json" in capsys.readouterr().err
    (tmp_path / "list.json").write_text("[1, 2]")
    assert main(["train", "--config", str(tmp_path / "list.json")]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_resume_keeps_the_runs_settings_and_says_what_it_ignores(tmp_path, capsys):
    import json

    from dflib.train import get_recipe
    from dflib.train.flags import config_from_args

    saved = get_recipe("rgb_fft", img_size=64, epochs=1)
    (tmp_path / "params.json").write_text(json.dumps(saved.to_dict()))
    args = _train_args("--out", str(tmp_path), "--resume", "--epochs", "4", "--lr", "0.1")
    assert config_from_args(args) == saved.replace(epochs=4)
    assert "ignoring --lr" in capsys.readouterr().err


def test_a_full_disk_during_training_is_one_error_line(messy_csv_folder, tmp_path, monkeypatch,
                                                       capsys):  # fmt: skip
    """Torch's zip writer fails first ("[enforce fail at inline_container.cc:672] ...");
    the command says only what dflib made of it: one ``error:`` line, exit status 1."""
    import torch

    def fill_the_disk(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", fill_the_disk)
    status = main(["train", "--arch", "rgb_fft", "--img-size", "64", "--epochs", "1",
                   "--finetune-epochs", "0", "--batch-size", "4", "--out", str(tmp_path / "run"),
                   "--data", str(messy_csv_folder), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: disk full: writing ") and "best.pt" in line, line
    assert "--resume" in line and "Traceback" not in err
