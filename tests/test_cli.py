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
