"""Datasets as the field ships them, each built with its real nesting: CNNDetection's
``0_real`` / ``1_fake`` below categories and generators (one named ``deepfake``),
GenImage's ``<generator>/{train,val}/{ai,nature}``, ``real_and_fake_face``'s
``training_real`` / ``training_fake``, a CSV table with three label sources under a nested
image folder, test ids that are paths, a user's ``classes`` mapping, and the per-generator
table that ``predict`` prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_rgb
from sklearn import metrics as skm

from dflib import data
from dflib.cli import main
from dflib.data import DataError
from dflib.data.template import fill, template_from_test_csv
from dflib.metrics import MEAN_ROW, POOLED_ROW, by_generator
from dflib.train import get_recipe
from dflib.train.flags import config_from_args


def pair(folder: Path, real: str, fake: str, n_real: int = 2, n_fake: int = 2, seed: int = 0):
    """``n_real`` images in ``folder/real`` and ``n_fake`` in ``folder/fake`` (file names
    repeat across the two, as the field's datasets do)."""
    for i in range(n_real):
        write_rgb(folder / real / f"{i:03d}.png", seed + i, size=24)
    for i in range(n_fake):
        write_rgb(folder / fake / f"{i:03d}.png", seed + 50 + i, size=24)


def class_of_path(path: str) -> int:
    """The label a file's own folder gives it in these fixtures."""
    return {"0_real": 0, "1_fake": 1, "nature": 0, "ai": 1, "training_real": 0,
            "training_fake": 1, "photos": 0, "gen": 1}[Path(path).parent.name]  # fmt: skip


@pytest.fixture
def cnndetection(tmp_path: Path) -> Path:
    """``train/<category>/{0_real,1_fake}``, ``val/<category>/...``,
    ``test/<generator>/<category>/...`` and ``test/deepfake/{0_real,1_fake}``."""
    root = tmp_path / "CNN_synth"
    for i, category in enumerate(("airplane", "car")):
        pair(root / "train" / category, "0_real", "1_fake", 3, 3, seed=10 * i)
        pair(root / "val" / category, "0_real", "1_fake", 2, 2, seed=100 + 10 * i)
        pair(root / "test" / "progan" / category, "0_real", "1_fake", 2, 2, seed=200 + 10 * i)
    pair(root / "test" / "deepfake", "0_real", "1_fake", 3, 1, seed=300)
    return root


def test_cnndetection_class_folders_below_categories_and_generators(cnndetection):
    train = data.load_split(cnndetection, "train")
    assert len(train) == 12
    assert train.labels.tolist() == [class_of_path(p) for p in train.frame["path"]]
    assert sorted(set(train.frame["group"])) == ["airplane", "car"]
    assert train.frame["id"].is_unique  # 000.png repeats: ids are the paths inside the split
    val = data.load_val_if_present(cnndetection)
    assert len(val) == 8 and all("/val/" in p for p in val.frame["path"])
    assert val.labels.tolist() == [class_of_path(p) for p in val.frame["path"]]
    test = data.load_split(cnndetection, "test")
    assert test.is_labeled and len(test) == 12
    assert test.labels.tolist() == [class_of_path(p) for p in test.frame["path"]]
    # the generator named deepfake is a generator: its 0_real images are real
    deepfake = test.frame[test.frame["group"] == "deepfake"]
    assert deepfake["label"].tolist() == [0, 0, 0, 1]
    assert sorted(set(test.generators)) == ["deepfake", "progan"]


def test_cnndetection_test_folder_alone_is_scored_per_generator(cnndetection):
    table = data.load_prediction_images(cnndetection / "test")
    assert table.is_labeled and len(table) == 12
    assert sorted(set(table.generators)) == ["deepfake", "progan"]
    assert table.labels.tolist() == [class_of_path(p) for p in table.frame["path"]]


@pytest.fixture
def genimage(tmp_path: Path) -> Path:
    """``GenImage/<generator>/{train,val}/{ai,nature}`` for two generators."""
    root = tmp_path / "GenImage"
    for i, generator in enumerate(("BigGAN", "Midjourney")):
        pair(root / generator / "train", "nature", "ai", 3, 2, seed=20 * i)
        pair(root / generator / "val", "nature", "ai", 2, 2, seed=20 * i + 7)
    return root


def test_genimage_one_generator_trains_and_a_root_of_several_is_scored_per_generator(genimage):
    train = data.load_split(genimage / "BigGAN", "train")
    assert train.labels.tolist() == [class_of_path(p) for p in train.frame["path"]]
    assert sorted(train.labels.tolist()) == [0, 0, 0, 1, 1]
    val = data.load_val_if_present(genimage / "BigGAN")
    assert len(val) == 4 and all("/BigGAN/val/" in p for p in val.frame["path"])
    with pytest.raises(DataError, match=r"BigGAN, Midjourney.*--split val"):
        data.load_split(genimage, "train")
    scored = data.load_prediction_images(genimage, split="val")
    assert len(scored) == 8 and scored.frame["id"].is_unique
    assert sorted(set(scored.generators)) == ["BigGAN", "Midjourney"]
    assert all("/val/" in p for p in scored.frame["path"])
    assert scored.labels.tolist() == [class_of_path(p) for p in scored.frame["path"]]


def test_real_and_fake_face_one_level_down(tmp_path):
    root = tmp_path / "download"
    pair(root / "real_and_fake_face", "training_real", "training_fake", 4, 3)
    train = data.load_split(root, "train")
    assert len(train) == 7
    assert train.labels.tolist() == [class_of_path(p) for p in train.frame["path"]]


@pytest.fixture
def faces_140k(tmp_path: Path) -> Path:
    """The 140k-faces layout: ``train.csv`` / ``valid.csv`` at the top (an unnamed index,
    ``original_path``, ``id``, a numeric ``label`` with 1 = real, ``label_str`` and a
    ``path`` with the class folder), images under ``real_vs_fake/real-vs-fake/<split>/``."""
    root = tmp_path / "140k"
    images = root / "real_vs_fake" / "real-vs-fake"
    for split, n in (("train", 4), ("valid", 2)):
        rows = []
        for i in range(n):
            for word, numeric in (("real", 1), ("fake", 0)):
                name = f"{word[0]}{split}{i}"
                write_rgb(
                    images / split / word / f"{name}.jpg", hash(name) % 1000, size=24, fmt="JPEG"
                )
                rows.append(
                    (
                        f"/kaggle/input/x/{name}.jpg",
                        name,
                        numeric,
                        word,
                        f"{split}/{word}/{name}.jpg",
                    )
                )
        frame = pd.DataFrame(rows, columns=["original_path", "id", "label", "label_str", "path"])
        frame.to_csv(root / f"{split}.csv")  # the unnamed index column, as shipped
    return root


def test_labels_that_contradict_each_other_are_refused(faces_140k):
    with pytest.raises(
        DataError, match=r"column 'label' and column 'label_str' differ on 8 of 8 rows"
    ) as error:
        data.load_split(faces_140k, "train")
    message = str(error.value)
    assert "--label-column label_str" in message and "--classes real=1 fake=0" in message
    train = data.load_split(faces_140k, "train", label_column="label_str")
    assert train.labels.tolist() == [0, 1] * 4  # real, fake per row: label_str, not label
    assert all(
        Path(p).parent.name == ("real", "fake")[y]
        for p, y in zip(train.frame["path"], train.labels, strict=True)
    )
    assert any("ids from column 'path'" in note for note in train.report.notes)
    assert any("real_vs_fake/real-vs-fake" in note for note in train.report.notes)
    flipped = data.load_split(faces_140k, "train", classes="real=1 fake=0")
    assert flipped.labels.tolist() == train.labels.tolist()
    val = data.load_val_if_present(faces_140k, label_column="label_str")
    assert len(val) == 4 and all("/valid/" in p for p in val.frame["path"])


def test_the_same_table_made_consistent_loads(faces_140k):
    for split in ("train", "valid"):
        csv = faces_140k / f"{split}.csv"
        frame = pd.read_csv(csv, index_col=0)
        frame["label"] = 1 - frame["label"]  # 1 = fake, as label_str and the folders say
        frame.to_csv(csv)
    train = data.load_split(faces_140k, "train")
    assert train.labels.tolist() == [0, 1] * 4
    assert any("checked against the class folders in 'path'" in n for n in train.report.notes)
    frame = pd.read_csv(faces_140k / "train.csv", index_col=0)
    frame.loc[0, "path"] = "train/fake/rtrain0.jpg"  # one path now says the other class
    (faces_140k / "real_vs_fake" / "real-vs-fake" / "train" / "real" / "rtrain0.jpg").rename(
        faces_140k / "real_vs_fake" / "real-vs-fake" / "train" / "fake" / "rtrain0.jpg"
    )
    frame.to_csv(faces_140k / "train.csv")
    with pytest.raises(DataError, match=r"the class folders in 'path' differ on 1 of 8 rows"):
        data.load_split(faces_140k, "train")


def test_a_mapping_names_folders_the_vocabulary_does_not(tmp_path):
    root = tmp_path / "mine"
    pair(root / "train", "photos", "gen", 3, 2)  # "photos" is known, "gen" is not: no pair
    with pytest.raises(DataError, match=r"--classes real=gen fake=photos"):
        data.load_split(root, "train")
    train = data.load_split(root, "train", classes="real=photos fake=gen")
    assert train.labels.tolist() == [class_of_path(p) for p in train.frame["path"]]
    dict_form = data.load_split(root, "train", classes={"real": ["Photos"], "fake": "gen"})
    assert dict_form.labels.tolist() == train.labels.tolist()
    with pytest.raises(DataError, match="both real and fake"):
        data.load_split(root, "train", classes="real=photos")
    with pytest.raises(ValueError, match="given to both"):
        get_recipe("freqnet", classes="real=a fake=a")


def test_classes_on_the_command_line_is_a_fixed_setting(tmp_path):
    from dflib.cli import build_parser
    from dflib.train.config import resume_settings

    args = build_parser().parse_args(
        [
            "train",
            "--arch",
            "freqnet",
            "--classes",
            "real=photos",
            "fake=gen,ai",
            "--label-column",
            "y",
        ]
    )
    config = config_from_args(args)
    assert (config.classes, config.label_column) == ("real=photos fake=gen,ai", "y")
    assert {"classes", "label_column"} <= set(resume_settings("fixed"))


def test_test_ids_that_are_paths_keep_their_spelling_and_order(tmp_path):
    root = tmp_path / "comp"
    for i in range(4):
        write_rgb(root / "train" / f"t{i}.png", i, size=24)
    (root / "train.csv").write_text("id,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(4)))
    names = ["test_data/zz.jpg", "test_data/ab12.jpg", "test_data/c3.jpg"]
    for i, name in enumerate(names):
        write_rgb(root / name, 40 + i, size=24, fmt="JPEG")
    (root / "test.csv").write_text("id\n" + "\n".join(names) + "\n")
    test = data.load_split(root, "test")
    assert sorted(test.frame["id"]) == ["ab12", "c3", "zz"]
    template = template_from_test_csv(root)
    filled = fill(template, test.frame["id"], [0.9, 0.1, 0.6], threshold=0.5, prior=0.2)
    assert filled.frame["id"].tolist() == names  # test.csv's spelling and row order
    assert filled.frame["label"].tolist() == [1, 1, 0]  # zz 0.6, ab12 0.9, c3 0.1 (sorted ids)
    (root / "test.csv").write_text(
        "id,label\n" + "\n".join(f"{n},{i % 2}" for i, n in enumerate(names)) + "\n"
    )
    labelled = data.load_split(root, "test")
    assert labelled.frame["id"].tolist() == names and labelled.labels.tolist() == [0, 1, 0]


def test_by_generator_matches_sklearn_on_the_same_predictions():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 60)
    probs = rng.random(60)
    generators = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, 60)]
    labels[generators == "c"] = 1  # one class only: AUC and AP are n/a
    table = by_generator(labels, probs, generators, threshold=0.4).set_index("generator")
    for name in ("a", "b"):
        y, p = labels[generators == name], probs[generators == name]
        row = table.loc[name]
        assert row["auc"] == pytest.approx(skm.roc_auc_score(y, p))
        assert row["ap"] == pytest.approx(skm.average_precision_score(y, p))
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(y, p >= 0.4))
        assert row["f1"] == pytest.approx(skm.f1_score(y, p >= 0.4))
        assert row["real_acc"] == pytest.approx(((p < 0.4) & (y == 0)).sum() / (y == 0).sum())
        assert (row["images"], row["real"], row["fake"]) == (len(y), (y == 0).sum(), y.sum())
    assert np.isnan(table.loc["c", "auc"]) and np.isnan(table.loc["c", "ap"])
    assert table.loc[MEAN_ROW, "auc"] == pytest.approx(table.loc[["a", "b"], "auc"].mean())
    assert table.loc[MEAN_ROW, "f1"] == pytest.approx(table.loc[["a", "b", "c"], "f1"].mean())
    assert table.loc[POOLED_ROW, "auc"] == pytest.approx(skm.roc_auc_score(labels, probs))


def test_inspect_shows_the_mapping_and_counts_per_generator(cnndetection, capsys):
    assert main(["inspect", "--data-dir", str(cnndetection)]) == 0
    printed = capsys.readouterr().out
    assert "class folders real = 0_real; fake = 1_fake" in printed
    assert "deepfake" in printed and "progan" in printed
    assert "test: 12 images (real 7, fake 5)" in printed


def test_predict_on_a_folder_above_one_data_folder_scores_its_test_split(cnndetection):
    """Kaggle's ``/kaggle/input/<name>/<folder>/``: the test split, not every class folder."""
    table = data.load_prediction_images(cnndetection.parent)
    assert len(table) == 12 and all("/test/" in p for p in table.frame["path"])


def test_training_says_which_column_and_folders_it_read(faces_140k, tmp_path, capsys):
    from dflib.train.inputs import prepare

    config = get_recipe("rgb_fft", data_dir=str(faces_140k), label_column="label_str", img_size=64)
    data_ = prepare(config, progress=False)
    printed = capsys.readouterr().out
    assert "data: train.csv: ids from column 'path'" in printed
    assert "data: valid.csv: labels from column 'label_str'" in printed
    assert data_.validation.startswith("given by the data: 4 images")


def test_predict_reads_the_140k_test_csv_with_the_label_column_its_error_names(faces_140k):
    """The dataset's ``test.csv`` is its test split; its label sources disagree as train's
    do, and ``predict --label-column`` (which the refusal names) settles them."""
    from dflib.data import load_prediction_images

    images = faces_140k / "real_vs_fake" / "real-vs-fake"
    rows = []
    for i, (word, numeric) in enumerate((("real", 1), ("fake", 0), ("real", 1))):
        write_rgb(images / "test" / word / f"t{i}.jpg", i, size=24, fmt="JPEG")
        rows.append((f"/kaggle/input/x/t{i}.jpg", f"t{i}", numeric, word, f"test/{word}/t{i}.jpg"))
    columns = ["original_path", "id", "label", "label_str", "path"]
    pd.DataFrame(rows, columns=columns).to_csv(faces_140k / "test.csv")
    with pytest.raises(DataError, match="--label-column label_str"):
        load_prediction_images(faces_140k)
    test = load_prediction_images(faces_140k, label_column="label_str")
    assert test.labels.tolist() == [0, 1, 0] and len(test) == 3
