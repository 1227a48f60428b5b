"""Where each split's images and labels are in a data folder, whatever its layout.

A split (``train``, ``val``, ``test``) comes from the first of:

1. its own folder (``Train/``, ``valid/``, ``TEST/``, any case) with class sub-folders;
2. its folder with a CSV beside it (``train.csv``, ``valid.csv``, ``test.csv``);
3. a ``split`` column in the one labels CSV;
4. for ``train`` only: class sub-folders at the top (``real/`` + ``fake/``) or a labels
   CSV whose ids name images in ``train/``, ``images/`` or the data folder itself;
5. for ``test`` only: its folder's images, unlabeled.

A given validation split is optional (training makes a stratified one without it); a
test split is labelled when its class sub-folders, its CSV or the split column say so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dflib.data.csvs import find_column, pick_column, read_csv_text_ids, rows_to_table, split_rows
from dflib.data.folders import from_class_folders, from_folder
from dflib.data.layouts import (
    IMAGE_DIR_NAMES,
    LABEL_COLUMNS,
    SPLIT_CSVS,
    SPLIT_NAMES,
    DataError,
    DataReport,
    child,
    class_folders,
    split_csv,
    split_folder,
)


def find_train(root: Path, labels_csv, id_column, label_column, image_dir, report) -> pd.DataFrame:
    """The labelled training rows (``id, path, label`` + the CSV's other columns)."""
    if labels_csv is None and image_dir is None:
        for base in (split_folder(root, "train"), root):
            folders = class_folders(base)
            if folders:
                return from_class_folders(folders, report)
    csv_path = labels_csv_path(root, labels_csv)
    if csv_path is None:
        raise DataError(_no_training_data(root))
    frame, id_col = read_csv_text_ids(csv_path, id_column)
    label_col = pick_column(frame.columns, label_column, LABEL_COLUMNS, "label", csv_path)
    rows = split_rows(frame, "train", csv_path)
    images = _folder(root, image_dir) if image_dir is not None else _image_folder(root)
    return rows_to_table(frame if rows is None else rows, id_col, label_col, root, images, report)


def find_val(root: Path, labels_csv, id_column, label_column, report) -> pd.DataFrame | None:
    """The given validation rows, or ``None`` when the data has no validation split."""
    folder, csv_path = split_folder(root, "val"), split_csv(root, "val")
    folders = class_folders(folder)
    if folders:
        return from_class_folders(folders, report)
    if csv_path is not None:
        frame, id_col = read_csv_text_ids(csv_path, id_column)
        label_col = pick_column(frame.columns, label_column, LABEL_COLUMNS, "label", csv_path)
        return rows_to_table(frame, id_col, label_col, root, folder or root, report)
    if folder is not None:
        raise DataError(
            f"{folder} looks like a validation split but has neither class sub-folders "
            f"(real/ + fake/) nor a CSV beside it ({', '.join(SPLIT_CSVS['val'][:4])}). Add "
            "one, or rename the folder to train on a stratified random split instead."
        )
    return _from_split_column(root, labels_csv, id_column, label_column, "val", report)


def find_test(root: Path, image_dir, report: DataReport, id_column=None) -> pd.DataFrame:
    """The test rows; ``label`` is -1 unless the test split carries labels."""
    if image_dir is not None:
        return from_folder(_folder(root, image_dir), report)
    folder, csv_path = split_folder(root, "test"), split_csv(root, "test")
    if folder is not None:
        if not class_folders(folder) and csv_path is not None:
            frame, id_col = read_csv_text_ids(csv_path, id_column)
            label_col = find_column(frame.columns, LABEL_COLUMNS)
            if label_col is not None and frame[label_col].notna().any():
                return rows_to_table(
                    frame, id_col, label_col, root, folder, report, unlabeled_ok=True
                )
        return from_folder(folder, report)
    rows = _from_split_column(root, None, id_column, None, "test", report)
    if rows is not None and len(rows):
        return rows
    raise DataError(
        f"No test split in {root}: expected a test/ folder (any case) with the images to "
        "predict, or a 'split' column in the labels CSV. To predict on other images, pass "
        "--data <a folder of images, one image or a glob> (image_dir= in Python)."
    )


def labels_csv_path(root: Path, labels_csv=None) -> Path | None:
    """The labels CSV: ``labels_csv`` if given, else the usual names (any case), else
    the one CSV that is not a submission or another split's table."""
    if labels_csv is not None:
        path = Path(labels_csv)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DataError(f"labels CSV {str(labels_csv)!r} not found (looked at {path}).")
        return path
    found = split_csv(root, "train")
    if found is not None:
        return found
    others = tuple(SPLIT_NAMES["val"] + SPLIT_NAMES["test"])
    csvs = [p for p in sorted(root.iterdir()) if p.is_file() and p.suffix.lower() == ".csv"
            and "submission" not in p.name.lower() and not p.stem.lower().startswith(others)]  # fmt: skip
    return csvs[0] if len(csvs) == 1 else None


def _from_split_column(root, labels_csv, id_column, label_column, split, report):
    csv_path = labels_csv_path(root, labels_csv)
    if csv_path is None:
        return None
    frame, id_col = read_csv_text_ids(csv_path, id_column)
    rows = split_rows(frame, split, csv_path)
    if rows is None:
        return None
    label_col = (pick_column(frame.columns, label_column, LABEL_COLUMNS, "label", csv_path)
                 if split != "test" else find_column(frame.columns, LABEL_COLUMNS))  # fmt: skip
    images = split_folder(root, split) or _image_folder(root)
    return rows_to_table(
        rows, id_col, label_col, root, images, report, unlabeled_ok=split == "test"
    )


def _image_folder(root: Path) -> Path:
    return child(root, IMAGE_DIR_NAMES) or root


def _folder(root: Path, image_dir) -> Path:
    folder = Path(image_dir) if Path(image_dir).is_absolute() else root / image_dir
    if not folder.is_dir():
        raise DataError(
            f"image folder {str(image_dir)!r} is not a folder (looked at {folder}); give it with "
            "--image-dir on the command line (image_dir= in Python)."
        )
    return folder


def _no_training_data(root: Path) -> str:
    listing = ", ".join(sorted(p.name for p in root.iterdir())[:20]) or "nothing"
    return (
        f"No labelled training data in {root}. Expected class sub-folders Train/Real + "
        "Train/Fake (any case; or real/ + fake/, 0/ + 1/), or a labels CSV (train.csv, "
        f"labels.csv, ...) beside an image folder. Found: {listing}. A CSV with another name: "
        "--labels-csv NAME (labels_csv= in Python)."
    )
