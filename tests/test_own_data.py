"""Training and predicting on users' own layouts: a given validation split, a labelled
test, predicting on anything, the sample submission followed, resume across stages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_rgb

from dflib.cli import main
from dflib.data import DataError
from dflib.train import CheckpointError, fit, get_recipe


def class_split(root: Path, split: str, n_real: int, n_fake: int, seed: int) -> None:
    for i in range(n_real):
        write_rgb(root / split / "REAL" / f"{i:04d}.png", seed + i)
    for i in range(n_fake):
        write_rgb(root / split / "Fake" / f"{i:04d}.png", seed + 50 + i)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """``Dataset/Train``, ``Dataset/Validation``, ``Dataset/Test`` with class folders whose
    file names repeat across classes (``0000.png`` is real and fake)."""
    root = tmp_path_factory.mktemp("kaggle") / "Dataset"
    class_split(root, "Train", 10, 6, 0)
    class_split(root, "Validation", 4, 3, 100)
    class_split(root, "Test", 3, 3, 200)
    return root


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "own"
    assert main(["train", "--arch", "rgb_fft", "--data", str(dataset.parent), "--img-size", "64",
                 "--epochs", "1", "--finetune-epochs", "0", "--batch-size", "4", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    return out


def test_a_given_validation_split_is_used_and_said(trained):
    params = json.loads((trained / "params.json").read_text())
    assert params["validation"] == "given by the data: 7 images (Validation/), not re-split"
    assert (params["n_train"], params["n_val"]) == (16, 7)
    val = pd.read_csv(trained / "predictions_val.csv", dtype={"id": str})
    assert len(val) == 7 and sorted(val["label"]) == [0, 0, 0, 0, 1, 1, 1]


def test_a_labelled_test_is_scored_like_hidden_labels(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["test"] is not None and "f1" in metrics["test"] and "test_tuned" in metrics
    test = pd.read_csv(trained / "predictions_test.csv", dtype={"id": str})
    assert sorted(test["label"]) == [0, 0, 0, 1, 1, 1]
    assert json.loads((trained / "params.json").read_text())["test_labelled"] is True


def test_predict_on_a_folder_a_file_and_a_glob(trained, dataset, tmp_path, capsys):
    out = tmp_path / "sub.csv"
    assert main(["predict", "--run", str(trained), "--data", str(dataset / "Test"),
                 "--out", str(out), "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "scored against the images' labels: F1" in printed
    assert len(pd.read_csv(out)) == 6  # real/0000 and fake/0000 keep apart
    one = dataset / "Test" / "Fake" / "0001.png"
    assert main(["predict", "--run", str(trained), "--data", str(one), "--out", str(out),
                 "--no-progress", "--proba"]) == 0  # fmt: skip
    assert pd.read_csv(out, dtype={"id": str})["id"].tolist() == ["0001"]
    pattern = f"{dataset}/Test/REAL/*.png"
    assert main(["predict", "--run", str(trained), "--data", pattern, "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    assert pd.read_csv(out, dtype={"id": str})["id"].tolist() == ["0000", "0001", "0002"]
    assert main(["predict", "--run", str(trained), "--data", str(tmp_path / "none"),
                 "--no-progress"]) == 2  # fmt: skip
    assert "--data" in capsys.readouterr().err


def test_predict_follows_the_sample_submission(trained, tmp_path, capsys):
    comp = tmp_path / "comp"
    for name in ("0003", "03", "0100"):
        write_rgb(comp / "test" / f"{name}.png", int(name))
    (comp / "sample_submission.csv").write_text("image_id,is_fake\n0100,0\n0003,0\n0999,0\n03,0\n")
    out = tmp_path / "submission.csv"
    assert main(["predict", "--run", str(trained), "--data", str(comp), "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "followed sample_submission.csv" in printed and "0999" in printed
    written = pd.read_csv(out, dtype=str)
    assert list(written.columns) == ["image_id", "is_fake"]
    assert written["image_id"].tolist() == ["0100", "0003", "0999", "03"]
    assert set(written["is_fake"]) <= {"0", "1"}
    assert main(["predict", "--run", str(trained), "--data", str(comp), "--out", str(out),
                 "--template", "none", "--proba", "--no-progress"]) == 0  # fmt: skip
    assert list(pd.read_csv(out).columns) == ["id", "prob"]


def test_inspect_names_the_splits(dataset, capsys):
    assert main(["inspect", "--data-dir", str(dataset)]) == 0
    printed = capsys.readouterr().out
    assert "val: 7 decodable images (labelled)" in printed
    assert "test: 6 decodable images (labelled)" in printed


def test_resume_with_more_epochs_after_fine_tuning_is_refused(tmp_path):
    config = get_recipe("deepfakenet", synthetic_size="tiny", train_images=48, img_size=64,
                        epochs=1, finetune_epochs=1, batch_size=8)  # fmt: skip
    out = str(tmp_path / "two-stage")
    fit(config, out=out, progress=False)
    with pytest.raises(CheckpointError, match="fine-tune stage has already started"):
        fit(config.replace(epochs=2), out=out, resume=True, progress=False)
    history = pd.read_csv(Path(out) / "history.csv")
    assert history["stage"].tolist() == ["main", "finetune"]  # untouched
    again = fit(config.replace(finetune_epochs=2), out=out, resume=True, progress=False)
    assert again.history["stage"].tolist() == ["main", "finetune", "finetune"]


def test_a_runs_submission_follows_the_datas_template(trained, tmp_path, capsys):
    from dflib.decide import write_submission

    comp = tmp_path / "comp"
    comp.mkdir()
    (comp / "sample_submission.csv").write_text("image_id,prob\n0100.png,0.5\n0003.png,0.5\n")
    run = tmp_path / "run"
    run.mkdir()
    params = json.loads((trained / "params.json").read_text())
    (run / "params.json").write_text(json.dumps({**params, "data_dir": str(comp)}))
    (run / "predictions_test.csv").write_text("id,label,prob\n0003,-1,0.25\n0100,-1,0.75\n")
    written = pd.read_csv(write_submission(str(run), 0.5), dtype={"image_id": str})
    assert written.to_dict("list") == {"image_id": ["0100.png", "0003.png"], "prob": [0.75, 0.25]}
    assert "followed sample_submission.csv" in capsys.readouterr().out


def test_predict_scores_each_generator_and_the_mean(trained, tmp_path, capsys):
    """``test/<generator>/[<category>/]{0_real,1_fake}``: one row per generator, the mean
    over generators and the pooled row, printed and written beside the predictions, with
    the numbers sklearn gives on the same predictions."""
    from sklearn import metrics as skm

    root = tmp_path / "test"
    for g, where in enumerate(("progan/car", "progan/cat", "deepfake", "stylegan")):
        for c, name in enumerate(("0_real", "1_fake")):
            for i in range(2 + c):
                write_rgb(root / where / name / f"{i:03d}.png", 1000 + 100 * g + 10 * c + i)
    out = tmp_path / "scores.csv"
    assert main(["predict", "--run", str(trained), "--data", str(root), "--out", str(out),
                 "--proba", "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "per generator" in printed and "mean over generators" in printed
    probs = pd.read_csv(out, dtype={"id": str}).set_index("id")["prob"]
    table = pd.read_csv(out.with_name("scores_by_generator.csv")).set_index("generator")
    assert list(table.index) == ["deepfake", "progan", "stylegan", "mean over generators",
                                 "all (pooled)"]  # fmt: skip
    threshold = float(printed.split("per generator, at threshold ")[1][:5])
    for generator in ("deepfake", "progan", "stylegan"):
        ids = [i for i in probs.index if i.startswith(generator + "/")]
        y = [int("/1_fake/" in i) for i in ids]
        p = probs[ids].to_numpy()
        assert table.loc[generator, "images"] == len(ids)
        assert table.loc[generator, "auc"] == pytest.approx(skm.roc_auc_score(y, p))
        assert table.loc[generator, "ap"] == pytest.approx(skm.average_precision_score(y, p))
        assert table.loc[generator, "accuracy"] == pytest.approx(
            skm.accuracy_score(y, p >= threshold), abs=1e-9
        )
    assert table.loc["mean over generators", "auc"] == pytest.approx(table["auc"].iloc[:3].mean())


def ai_vs_human(root: Path, test_folder: str = "test_data_v2") -> list[str]:
    """Kaggle's AI-vs-human-generated images as shipped: ``train.csv`` (an unnamed index,
    ``file_name`` = ``train_data/<name>.jpg``, ``label``), ``test.csv`` whose ``id`` column
    holds paths into ``test_folder``, and no ``test/`` folder. Returns ``test.csv``'s ids,
    in its order (not sorted)."""
    rows = []
    for i in range(8):
        name = f"train_data/{i:02d}f{i}.jpg"
        write_rgb(root / name, 300 + i, fmt="JPEG")
        rows.append(f"{i},{name},{i % 2}")
    (root / "train.csv").write_text(",file_name,label\n" + "\n".join(rows) + "\n")
    names = [f"{test_folder}/{stem}.jpg" for stem in ("zz", "ab12", "c3")]
    for i, name in enumerate(names):
        write_rgb(root / name, 60 + i, fmt="JPEG")
    (root / "test.csv").write_text("id\n" + "\n".join(names) + "\n")
    return names


@pytest.mark.parametrize("test_folder", ["test_data", "test_data_v2"])
def test_a_test_csv_gives_the_submissions_ids_and_order(trained, tmp_path, capsys, test_folder):
    """Whether or not the test folder's name says "test", the submission is test.csv's."""
    comp = tmp_path / "comp"
    names = ai_vs_human(comp, test_folder)
    out = tmp_path / "submission.csv"
    assert main(["predict", "--run", str(trained), "--data", str(comp), "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "followed test.csv" in printed and "have no image" not in printed
    written = pd.read_csv(out, dtype=str)
    assert written["id"].tolist() == names and set(written["label"]) <= {"0", "1"}


def test_a_test_csv_that_lists_images_is_the_test_split(tmp_path):
    """No ``test/`` folder: ``test.csv``'s rows, in its order, ids as it spells them, for
    ``load_split``, ``predict`` (from the folder above too, as Kaggle nests it) and training."""
    from dflib import data
    from dflib.train.inputs import prepare

    comp = tmp_path / "input" / "ai-vs-human"
    names = ai_vs_human(comp)
    (comp / "test.csv").write_text("id\n" + "\n".join(names + ["test_data_v2/gone.jpg"]) + "\n")
    test = data.load_split(comp, "test")
    assert test.frame["id"].tolist() == names and test.labels.tolist() == [-1, -1, -1]
    assert [Path(p).name for p in test.frame["path"]] == ["zz.jpg", "ab12.jpg", "c3.jpg"]
    assert test.report.skipped == [
        ("test_data_v2/gone.jpg", f"listed in CSV but no such image in {comp.resolve()}")
    ]
    for source in (comp, comp.parent):
        assert data.load_prediction_images(source).frame["id"].tolist() == names
    config = get_recipe("rgb_fft", data_dir=str(comp), img_size=32)
    prepared = prepare(config, progress=False)
    assert len(prepared.table) == 8 and prepared.test_table.frame["id"].tolist() == names
    (comp / "test.csv").write_text(
        "id,label\n" + "".join(f"{n},{i % 2}\n" for i, n in enumerate(names))
    )
    assert data.load_split(comp, "test").labels.tolist() == [0, 1, 0]
    (comp / "test.csv").write_text("id\nelsewhere/zz.jpg\n")
    with pytest.raises(DataError, match=r"test.csv would be the test split .*\(elsewhere/zz.jpg\)"):
        data.load_prediction_images(comp)
