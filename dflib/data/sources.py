"""Where each split's images and labels are in a data folder, whatever its layout.

A split (``train``, ``val``, ``test``) comes from the first of:

1. its own folder (``Train/``, ``valid/``, ``TEST/``, any case) with class folders at any
   depth below it (``train/<category>/{0_real,1_fake}``);
2. its folder with a CSV beside it (``train.csv``, ``valid.csv``, ``test.csv``);
3. a ``split`` column in the one labels CSV;
4. for ``train`` only: class folders at the top (``real/`` + ``fake/``) or a labels
   CSV whose ids name images in ``train/``, ``images/``, the data folder itself or a
   folder nested below it; when no column names a file but class folders exist below
   the data folder (outside validation and test), those;
5. for ``test`` only: its folder's images, unlabeled; without a folder named like a test
   split, the images ``test.csv`` lists (``test_data_v2/ab12.jpg``: a folder of any name),
   in its row order.

A given validation split is optional (training makes a stratified one without it); a
test split is labelled when its class folders, its CSV or the split column say so.
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
    DataOptions,
    DataReport,
    child,
    class_folder_pairs,
    format_classes,
    split_csv,
    split_folder,
    subfolders,
)


def find_train(root: Path, options: DataOptions, report: DataReport) -> pd.DataFrame:
    """The labelled training rows (``id, path, label`` + the CSV's other columns)."""
    if options.labels_csv is None and options.image_dir is None:
        for base, depth in ((split_folder(root, "train"), 5), (root, 0)):
            pairs = class_folder_pairs(base, options.classes, max_depth=depth)
            if pairs:
                _note_pairs(pairs, base, root, report)
                return from_class_folders(pairs, report, base)
    csv_path = labels_csv_path(root, options.labels_csv)
    if csv_path is None:
        raise DataError(_no_training_data(root, options))
    frame, id_col = read_csv_text_ids(csv_path, options.id_column)
    label_col = _label_column(frame, options, csv_path)
    rows = split_rows(frame, "train", csv_path)
    images = (
        _folder(root, options.image_dir) if options.image_dir is not None else _image_folder(root)
    )
    table = rows_to_table(frame if rows is None else rows, id_col, label_col, root, images,
                          report, options=options, csv_name=csv_path.name)  # fmt: skip
    if len(table) == 0 and options.image_dir is None:
        pairs = [(g, f) for g, f in class_folder_pairs(root, options.classes) if _trainable(g)]
        if pairs:
            report.note(f"{csv_path.name}: no column names an image file here, so the class "
                        "folders are used instead")  # fmt: skip
            _note_pairs(pairs, root, root, report)
            return from_class_folders(pairs, report, root)
    return table


def find_val(root: Path, options: DataOptions, report: DataReport) -> pd.DataFrame | None:
    """The given validation rows, or ``None`` when the data has no validation split."""
    folder, csv_path = split_folder(root, "val"), split_csv(root, "val")
    pairs = class_folder_pairs(folder, options.classes)
    if pairs:
        _note_pairs(pairs, folder, root, report)
        return from_class_folders(pairs, report, folder)
    if csv_path is not None:
        frame, id_col = read_csv_text_ids(csv_path, options.id_column)
        label_col = _label_column(frame, options, csv_path)
        return rows_to_table(frame, id_col, label_col, root, folder or root, report,
                             options=options, csv_name=csv_path.name)  # fmt: skip
    if folder is not None:
        raise DataError(
            f"{folder} looks like a validation split but has neither class sub-folders "
            f"(real/ + fake/) nor a CSV beside it ({', '.join(SPLIT_CSVS['val'][:4])}). Add "
            "one, or rename the folder to train on a stratified random split instead."
        )
    return _from_split_column(root, options, "val", report)


def find_test(root: Path, options: DataOptions, report: DataReport) -> pd.DataFrame:
    """The test rows; ``label`` is -1 unless the test split carries labels."""
    if options.image_dir is not None:
        return from_folder(_folder(root, options.image_dir), report, options.classes)
    folder, csv_path = split_folder(root, "test"), split_csv(root, "test")
    if folder is not None:
        if not class_folder_pairs(folder, options.classes) and csv_path is not None:
            frame, id_col, label_col = _read_test_csv(csv_path, options)
            if label_col is not None:
                return rows_to_table(frame, id_col, label_col, root, folder, report,
                                     unlabeled_ok=True, options=options, csv_name=csv_path.name)  # fmt: skip
        return from_folder(folder, report, options.classes)
    rows = _from_split_column(root, options, "test", report)
    if rows is not None and len(rows):
        return rows
    if csv_path is not None:
        return _from_test_csv(root, csv_path, options, report)
    raise DataError(
        f"No test split in {root}: expected a test/ folder (any case) with the images to "
        "predict, a test.csv whose ids are the images' paths (test_images/ab12.jpg), or a "
        "'split' column in the labels CSV. To predict on other images, pass --data <a folder "
        "of images, one image or a glob> (image_dir= in Python)."
    )


def _read_test_csv(csv_path: Path, options: DataOptions) -> tuple[pd.DataFrame, str, str | None]:
    """``test.csv``, its id column, and its label column when one holds any label."""
    frame, id_col = read_csv_text_ids(csv_path, options.id_column)
    label_col = (_label_column(frame, options, csv_path) if options.label_column
                 else find_column(frame.columns, LABEL_COLUMNS))  # fmt: skip
    labelled = label_col is not None and frame[label_col].notna().any()
    return frame, id_col, label_col if labelled else None


def _from_test_csv(
    root: Path, csv_path: Path, options: DataOptions, report: DataReport
) -> pd.DataFrame:
    """The test split that ``test.csv`` lists when no folder is named like one (Kaggle's
    AI-vs-human data: ``id`` = ``test_data_v2/ab12.jpg``): its rows in its order, ids as it
    spells them, whatever folder the paths lead to; labelled where it has a label column.

    Raises:
        DataError: none of its ids names an image; the message shows some and what an id
            must be.
    """
    frame, id_col, label_col = _read_test_csv(csv_path, options)
    table = rows_to_table(frame, id_col, label_col, root, root, report, unlabeled_ok=True,
                          options=options, csv_name=csv_path.name)  # fmt: skip
    if len(table) == 0:
        shown = ", ".join(frame[id_col].astype(str).head(3)) or "no rows"
        raise DataError(
            f"{csv_path} would be the test split (there is no test/ folder) but none of its "
            f"{len(frame):,} id(s) in column {id_col!r} names an image in {root} ({shown}). Its ids "
            "must be image paths relative to the data folder (test_images/ab12.jpg) or names of "
            "images in it; or put the images in a test/ folder, or pass --data <the folder of "
            "images> (image_dir= in Python)."
        )
    inside = root.resolve()  # where rows_to_table keeps every path
    folders = sorted(
        {Path(p).resolve().parent.relative_to(inside).as_posix() for p in table["path"]}
    )
    report.note(f"{csv_path.name}: the test split, {len(table):,} images in its row order "
                f"(in {', '.join(folders[:3])}{', ...' if len(folders) > 3 else ''})")  # fmt: skip
    return table


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


def _from_split_column(root: Path, options: DataOptions, split: str, report: DataReport):
    csv_path = labels_csv_path(root, options.labels_csv)
    if csv_path is None:
        return None
    frame, id_col = read_csv_text_ids(csv_path, options.id_column)
    rows = split_rows(frame, split, csv_path)
    if rows is None:
        return None
    label_col = (_label_column(frame, options, csv_path) if split != "test"
                 else find_column(frame.columns, LABEL_COLUMNS))  # fmt: skip
    images = split_folder(root, split) or _image_folder(root)
    return rows_to_table(rows, id_col, label_col, root, images, report,
                         unlabeled_ok=split == "test", options=options, csv_name=csv_path.name)  # fmt: skip


def _label_column(frame: pd.DataFrame, options: DataOptions, csv_path: Path) -> str:
    return pick_column(frame.columns, options.label_column, LABEL_COLUMNS, "label", csv_path)


def _note_pairs(pairs, base: Path, root: Path, report: DataReport) -> None:
    """Say which folders were taken for which class (``inspect`` and training print it)."""
    names = {label: sorted({p.name for _, f in pairs for p in f[label]}) for label in (0, 1)}
    where = base.relative_to(root).as_posix() if base != root else "."
    groups = [g for g, _ in pairs if g]
    report.note(
        f"{where}/: class folders real = {', '.join(names[0])}; fake = {', '.join(names[1])}"
        + (f"; in {len(groups)} sub-folders ({', '.join(groups[:4])}{', ...' if len(groups) > 4 else ''})"
           if groups else "")
    )  # fmt: skip


def _trainable(group: str) -> bool:
    """Whether class folders found below the data folder lie outside validation and test."""
    others = set(SPLIT_NAMES["val"] + SPLIT_NAMES["test"])
    return not any(part.lower() in others for part in Path(group).parts)


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


def _no_training_data(root: Path, options: DataOptions) -> str:
    listing = ", ".join(sorted(p.name for p in root.iterdir())[:20]) or "nothing"
    folders = [p.name for p in subfolders(split_folder(root, "train")) or subfolders(root)]
    mapping = (f" Folders whose names say no class are never guessed: if {folders[0]}/ holds the "
               f"real images and {folders[-1]}/ the fakes, say so with --classes real={folders[0]} "
               f"fake={folders[-1]} (classes= in Python)." if len(folders) >= 2 else "")  # fmt: skip
    given = f" (classes given: {format_classes(options.classes)})" if options.classes else ""
    return (
        f"No labelled training data in {root}{given}. Expected class folders Train/Real + "
        "Train/Fake (any case, at any depth below train/: 0_real + 1_fake, training_real + "
        "training_fake, nature + ai, ...; or real/ + fake/ at the top), or a labels CSV "
        f"(train.csv, labels.csv, ...) beside an image folder. Found: {listing}.{mapping} A CSV "
        "with another name: --labels-csv NAME (labels_csv= in Python)."
    )
