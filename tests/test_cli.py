"""The command line reports on a data folder and fails clearly on a wrong one."""

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
