"""Users' own data as Kaggle hands it over: every layout a small folder the test builds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import write_rgb

from dflib import data
from dflib.data import DataError
from dflib.data.template import fill, find_template, read_template


def class_split(root: Path, split: str, n_real: int = 4, n_fake: int = 2, seed: int = 0) -> None:
    for i in range(n_real):
        write_rgb(root / split / "Real" / f"real_{i}.jpg", seed + i, fmt="JPEG")
    for i in range(n_fake):
        write_rgb(root / split / "Fake" / f"fake_{i}.jpg", seed + 50 + i, fmt="JPEG")


@pytest.fixture
def capitalised(tmp_path: Path) -> Path:
    """``Dataset/Train/{Real,Fake}``, ``Validation/...``, ``Test/...``: the common layout
    of public real-vs-fake face datasets."""
    root = tmp_path / "Dataset"
    class_split(root, "Train", 6, 3)
    class_split(root, "Validation", 3, 2, seed=100)
    class_split(root, "Test", 2, 2, seed=200)
    return root


def test_capitalised_given_splits(capitalised):
    train = data.load_split(capitalised, "train")
    val = data.load_split(capitalised, "val")
    test = data.load_split(capitalised, "test")
    assert (len(train), train.labels.sum()) == (9, 3)
    assert (len(val), val.labels.sum()) == (5, 2)
    assert test.is_labeled and sorted(test.labels) == [0, 0, 1, 1]
    assert {Path(p).parent.parent.name for p in val.frame["path"]} == {"Validation"}
    assert data.load_val_if_present(capitalised) is not None


def test_a_layout_one_level_down_is_found(capitalised):
    parent = capitalised.parent  # as Kaggle nests /kaggle/input/<name>/Dataset
    assert data.resolve_data_dir(parent) == capitalised
    assert len(data.load_split(parent, "train")) == 9
    class_split(parent / "Other", "train", 2, 2)
    with pytest.raises(DataError, match=r"Dataset, Other"):
        data.load_split(parent, "train")


def test_no_given_validation_is_none_not_an_error(class_folder_root):
    assert data.load_val_if_present(class_folder_root) is None
    with pytest.raises(DataError, match="No validation split"):
        data.load_split(class_folder_root, "val")


def test_validation_folder_without_classes_or_csv_is_a_clear_error(tmp_path):
    class_split(tmp_path, "train")
    write_rgb(tmp_path / "valid" / "a.png", 1)
    with pytest.raises(DataError, match="neither class sub-folders"):
        data.load_val_if_present(tmp_path)


def test_a_csv_per_split(tmp_path):
    for split, n in (("train", 8), ("valid", 4), ("test", 4)):
        rows = []
        for i in range(n):
            write_rgb(tmp_path / split / f"{split}{i}.png", hash(split) % 97 + i)
            rows.append((f"{split}{i}", ["real", "fake"][i % 2]))
        pd.DataFrame(rows, columns=["image", "class"]).to_csv(
            tmp_path / f"{split.title()}.csv", index=False
        )
    assert len(data.load_split(tmp_path, "train")) == 8
    val = data.load_split(tmp_path, "val")
    assert len(val) == 4 and val.labels.tolist() == [0, 1, 0, 1]
    test = data.load_split(tmp_path, "test")
    assert test.is_labeled and test.labels.tolist() == [0, 1, 0, 1]


def test_a_split_column_in_one_csv(tmp_path):
    rows, labels = [], [0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0]
    for i in range(12):
        write_rgb(tmp_path / "images" / f"{i}.png", i)
        split = ("TRAIN", "train", "Valid", "test")[i % 4]
        label = "" if split == "test" and i > 6 else labels[i]
        rows.append((f"{i}.png", label, split))
    pd.DataFrame(rows, columns=["filename", "label", "split"]).to_csv(
        tmp_path / "meta.csv", index=False
    )
    train = data.load_split(tmp_path, "train")
    assert sorted(train.frame["id"].astype(int)) == [0, 1, 4, 5, 8, 9]
    assert "split" not in train.frame.columns
    assert sorted(data.load_split(tmp_path, "val").frame["id"].astype(int)) == [2, 6, 10]
    test = data.load_split(tmp_path, "test")
    assert dict(zip(test.frame["id"], test.labels, strict=True)) == {"3": 1, "7": -1, "11": -1}
    frame = pd.read_csv(tmp_path / "meta.csv")
    frame.loc[0, "split"] = "holdout"
    frame.to_csv(tmp_path / "meta.csv", index=False)
    with pytest.raises(DataError, match="holdout"):
        data.load_split(tmp_path, "train")


@pytest.fixture
def competition(tmp_path: Path) -> Path:
    """``train.csv`` (image_id,is_fake) with numeric ids and leading zeros, ``train/``,
    ``test/``, ``sample_submission.csv``."""
    root = tmp_path / "comp"
    ids = ["0194010033", "0007", "07", "0000000001", "12", "0012"]
    for i, image_id in enumerate(ids):
        write_rgb(root / "train" / f"{image_id}.png", i)
    (root / "train.csv").write_text(
        "image_id,is_fake\n" + "".join(f"{i},{n % 2}\n" for n, i in enumerate(ids))
    )
    for image_id in ("0003", "03", "0100"):
        write_rgb(root / "test" / f"{image_id}.png", int(image_id) + 30)
    (root / "sample_submission.csv").write_text("image_id,is_fake\n0100,0\n0003,0\n0999,0\n03,0\n")
    return root


def test_numeric_ids_keep_their_zeros(competition):
    train = data.load_split(competition, "train")
    assert not train.report.skipped, train.report.summary()
    labels = dict(zip(train.frame["id"], train.labels, strict=True))
    assert labels == {"0194010033": 0, "0007": 1, "07": 0, "0000000001": 1, "12": 0, "0012": 1}
    assert Path(train.frame.set_index("id").loc["07", "path"]).name == "07.png"
    assert sorted(data.load_split(competition, "test").frame["id"]) == ["0003", "0100", "03"]


def test_sample_submission_columns_order_and_spelling(competition):
    template = read_template(find_template(competition))
    assert find_template(competition / "test") == template.path  # predict --data comp/test
    assert (template.id_column, template.value_column, template.kind) == (
        "image_id",
        "is_fake",
        "label",
    )
    filled = fill(template, ["0003", "03", "0100"], [0.9, 0.2, 0.7], threshold=0.5, prior=0.25)
    assert list(filled.frame.columns) == ["image_id", "is_fake"]
    assert filled.frame["image_id"].tolist() == ["0100", "0003", "0999", "03"]
    assert filled.frame["is_fake"].tolist() == [1, 1, 0, 0]
    assert filled.without_image == ["0999"] and filled.without_row == []


def test_template_with_extensions_probabilities_and_words(tmp_path):
    path = tmp_path / "Sample_Submission.csv"
    path.write_text("id,prob\na.png,0.5\nb.png,0.5\n")
    template = read_template(find_template(tmp_path))
    assert template.kind == "prob"
    filled = fill(template, ["b", "a", "c"], [0.125, 0.75, 0.5], threshold=0.5, prior=0.2)
    assert filled.frame.to_dict("list") == {"id": ["a.png", "b.png"], "prob": [0.75, 0.125]}
    assert filled.without_row == ["c"]
    path.write_text("file,answer\nx,real\ny,fake\n")
    words = fill(read_template(path), ["x", "y"], [0.9, 0.1], threshold=0.5, prior=0.2)
    assert words.frame["answer"].tolist() == ["fake", "real"]


def test_prediction_images_from_a_folder_a_file_and_a_glob(tmp_path, capitalised):
    table = data.load_prediction_images(capitalised)  # a data folder: its test split
    assert table.is_labeled and len(table) == 4
    loose = tmp_path / "loose"
    write_rgb(loose / "a.png", 1)
    write_rgb(loose / "deeper" / "b.jpg", 2, fmt="JPEG")
    (loose / "notes.txt").write_text("x")
    table = data.load_prediction_images(loose)
    assert sorted(table.frame["id"]) == ["a", "b"] and (table.labels == -1).all()
    assert "not an image" in table.report.summary()
    assert data.load_prediction_images(loose / "a.png").frame["id"].tolist() == ["a"]
    assert data.load_prediction_images(f"{loose}/**/*.jpg").frame["id"].tolist() == ["b"]
    scored = data.load_prediction_images(capitalised / "Validation")  # class folders: labelled
    assert scored.is_labeled and len(scored) == 5
    with pytest.raises(DataError, match="matches no image"):
        data.load_prediction_images(f"{loose}/*.webp")
    with pytest.raises(DataError, match="--data"):
        data.load_prediction_images(tmp_path / "nowhere")


def test_prediction_refuses_a_training_only_folder_naming_the_flag(tmp_path):
    class_split(tmp_path, "Train")
    class_split(tmp_path, "Valid", seed=9)
    with pytest.raises(DataError, match=r"--data .*Valid"):
        data.load_prediction_images(tmp_path)


def test_skip_summary_names_the_first_files_and_the_full_list(tmp_path):
    report = data.DataReport(tmp_path)
    for i in range(25):
        report.add(tmp_path / "train" / f"bad_{i:02d}.png", "decode error: truncated")
    text = report.summary(full_list="skipped.csv")
    assert "first 20:" in text and "train/bad_19.png: decode error" in text
    assert "bad_20" not in text and "full list: skipped.csv" in text
    assert "--report" in report.summary()
