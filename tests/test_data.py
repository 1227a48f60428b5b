"""The data layer: layouts, odd files, clear errors, splits and class weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dflib import data
from dflib.data import DataError
from dflib.imageio import read_image, try_read_image


def test_class_weights_match_the_write_up():
    labels = np.array([0] * 41_500 + [1] * 8_500)
    assert np.round(data.class_weights(labels), 4).tolist() == [0.6024, 2.9412]
    assert data.class_counts(labels).tolist() == [41_500, 8_500]


def test_class_weights_balanced_and_single_class():
    assert data.class_weights(np.array([0, 1, 0, 1])).tolist() == [1.0, 1.0]
    with pytest.raises(DataError, match="both classes"):
        data.class_weights(np.array([0, 0, 0]))


def test_stratified_split_keeps_ratio_and_is_seeded():
    labels = np.array([0] * 830 + [1] * 170)
    train, val = data.stratified_split(labels, 0.12, seed=42)
    assert len(val) == 120 and len(train) == 880
    assert not set(train) & set(val)
    assert labels[val].mean() == pytest.approx(0.17, abs=0.01)
    again_train, again_val = data.stratified_split(labels, 0.12, seed=42)
    assert np.array_equal(val, again_val) and np.array_equal(train, again_train)
    assert not np.array_equal(val, data.stratified_split(labels, 0.12, seed=1)[1])


def test_balanced_sampler_draws_classes_equally():
    labels = np.array([0] * 900 + [1] * 100)
    drawn = labels[list(data.balanced_sampler(labels, num_samples=20_000))]
    assert drawn.mean() == pytest.approx(0.5, abs=0.02)


def test_messy_csv_folder_loads_with_a_report(messy_csv_folder):
    table = data.load_split(messy_csv_folder, "train")
    reasons = dict(table.report.skipped)
    assert "../outside.png" in reasons and "escapes" in reasons["../outside.png"]
    assert "missing" in reasons and "empty" in next(
        r for f, r in table.report.skipped if "empty" in f
    )
    # Everything else is listed: nothing silently lost.
    assert len(table) + len(table.report.skipped) == 15
    assert set(table.frame["id"]) >= {
        "gray",
        "rgba",
        "palette",
        "upper",
        "deep",
        "cmyk",
        "corrupt",
        "truncated",
    }
    assert (
        table.labels.sum() == 5
    )  # fakes among the listed files: ok_1, ok_3, palette, corrupt, truncated
    assert "skipped" in table.report.summary()


def test_odd_modes_decode_to_rgb(messy_csv_folder):
    folder = messy_csv_folder / "train"
    for name in ("gray.png", "rgba.png", "palette.png", "upper.PNG", "deep.png", "cmyk.jpg"):
        image = read_image(folder / name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, name
    assert read_image(folder / "deep.png").max() == round(40000 / 257)
    for name, reason in (
        ("corrupt.png", "not a readable image"),
        ("empty.png", "empty file"),
        ("truncated.png", "decode error"),
    ):
        image, why = try_read_image(folder / name)
        assert image is None and why.startswith(reason), (name, why)
    with pytest.raises(ValueError, match="cannot read image"):
        read_image(folder / "corrupt.png")


def test_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    array = np.zeros((10, 30, 3), dtype=np.uint8)
    array[:, :5] = 255  # a bright band on the left
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    image.save(tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    decoded = read_image(tmp_path / "rotated.jpg")
    assert decoded.shape[:2] == (30, 10)
    assert decoded[:5].mean() > 200  # the band is now on top


def test_class_folder_layout(class_folder_root):
    table = data.load_split(class_folder_root, "train")
    assert data.class_counts(table.labels).tolist() == [5, 2]
    assert [f for f, _ in table.report.skipped][0].endswith("notes.txt")
    test = data.load_split(class_folder_root, "test")
    assert len(test) == 1 and (test.labels == -1).all() and not test.is_labeled


def test_test_folder_case_insensitive_extensions(messy_csv_folder):
    (messy_csv_folder / "test" / "t0.jpg").rename(messy_csv_folder / "test" / "T0.JPG")
    assert len(data.load_split(messy_csv_folder, "test")) == 3


def test_wrong_path_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="not a folder.*synthetic"):
        data.load_split(tmp_path / "nope")


def test_empty_folder_names_expected_layouts(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"No labelled training data.*readme.txt"):
        data.load_split(tmp_path)
    with pytest.raises(DataError, match="No test split"):
        data.load_split(tmp_path, "test")


def test_unknown_labels_and_single_class(class_folder_root, tmp_path):
    root = class_folder_root
    pd.DataFrame({"id": ["r0", "r1"], "label": ["real", "maybe"]}).to_csv(
        root / "odd.csv", index=False
    )
    with pytest.raises(DataError, match=r"Unknown label values \['maybe'\]"):
        data.load_split(root, labels_csv="odd.csv", image_dir="train/REAL")
    pd.DataFrame({"id": ["r0", "r1"], "label": [0, 0]}).to_csv(root / "one.csv", index=False)
    with pytest.raises(DataError, match="only class 0"):
        data.load_split(root, labels_csv="one.csv", image_dir="train/REAL")


def test_column_detection_and_overrides(class_folder_root):
    root = class_folder_root
    pd.DataFrame({"pic": ["r0", "r1"], "y_true": [0, 1]}).to_csv(root / "custom.csv", index=False)
    with pytest.raises(DataError, match="which column.*id_column"):
        data.load_split(root, labels_csv="custom.csv", image_dir="train/REAL")
    table = data.load_split(
        root,
        labels_csv="custom.csv",
        image_dir="train/REAL",
        id_column="pic",
        label_column="y_true",
    )
    assert table.labels.tolist() == [0, 1]


def test_malformed_csv_gives_clear_error(class_folder_root):
    (class_folder_root / "bad.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x81")
    with pytest.raises(DataError):
        data.load_split(class_folder_root, labels_csv="bad.csv", image_dir="train/REAL")


def test_report_saves_csv(messy_csv_folder, tmp_path):
    table = data.load_split(messy_csv_folder)
    saved = pd.read_csv(table.report.save(tmp_path / "report.csv"))
    assert list(saved.columns) == ["file", "reason"] and len(saved) == len(table.report.skipped)
