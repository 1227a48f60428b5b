"""Labels CSVs: ids as text, the id / label / split columns, files located safely.

Ids are read as strings and never re-typed: competition ids such as ``0194010033`` keep
their leading zeros, and ``0007`` and ``07`` stay two images. An id is a file name with
or without its extension, or a path relative to the data folder; a path that leaves the
data folder is rejected and reported.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.data.layouts import (
    CLASS_FOLDERS,
    ID_COLUMNS,
    SPLIT_COLUMNS,
    SPLIT_NAMES,
    DataError,
    DataReport,
)
from dflib.imageio import is_image_file

LABEL_VALUES = {
    **{name: 0 for name in CLASS_FOLDERS[0] + ("false", "0.0")},
    **{name: 1 for name in CLASS_FOLDERS[1] + ("true", "1.0")},
}
MISSING = ["", "NA", "N/A", "NaN", "nan", "null", "None"]


def read_csv_text_ids(path: Path, id_column: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV with its id column read as text (nothing parsed as a number or as NaN).

    Returns:
        The frame and the name of its id column.
    """
    try:
        columns = list(pd.read_csv(path, nrows=0).columns)
        id_col = pick_column(columns, id_column, ID_COLUMNS, "id", path)
        missing = {c: MISSING for c in columns if c != id_col}
        frame = pd.read_csv(path, dtype={id_col: str}, keep_default_na=False, na_values=missing)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not a readable CSV: {error}") from error
    return frame, id_col


def pick_column(columns, wanted: str | None, candidates, role: str, csv_path: Path) -> str:
    """The column holding ``role``: ``wanted`` if given, else the first candidate (any case)."""
    columns = list(columns)
    if wanted is not None:
        if wanted not in columns:
            raise DataError(
                f"{role} column {wanted!r} not in {csv_path.name}; columns are {columns}."
            )
        return wanted
    lower = {c.lower(): c for c in columns}
    found = next((lower[name] for name in candidates if name in lower), None)
    if found is None:
        raise DataError(
            f"Cannot tell which column of {csv_path.name} holds the {role}: columns are "
            f"{columns}, expected one of {list(candidates)}. Rename that column to one of "
            f"those, or pass {role}_column= to dflib.data.load_split."
        )
    return found


def find_column(columns, candidates) -> str | None:
    """The first of ``candidates`` among ``columns`` (any case), or ``None``."""
    lower = {c.lower(): c for c in columns}
    return next((lower[name] for name in candidates if name in lower), None)


def parse_labels(values: pd.Series) -> np.ndarray:
    """Map label values (0/1, "real"/"fake", True/False, any case) to 0/1.

    Raises:
        DataError: for values outside that vocabulary, listing them.
    """
    keys = values.map(lambda v: str(v).strip().lower())
    mapped = keys.map(LABEL_VALUES)
    unknown = sorted(set(values[mapped.isna()].astype(str)))
    if unknown:
        raise DataError(
            f"Unknown label values {unknown[:10]} ({int(mapped.isna().sum())} rows). Expected 0/1, "
            f"real/fake or true/false (accepted: {sorted(LABEL_VALUES)})."
        )
    return mapped.to_numpy(dtype=np.int64)


def split_rows(frame: pd.DataFrame, split: str, csv_path: Path) -> pd.DataFrame | None:
    """The rows of ``split`` when the CSV has a split column, else ``None``.

    Raises:
        DataError: a split value that names no split, listing the accepted ones.
    """
    column = find_column(frame.columns, SPLIT_COLUMNS)
    if column is None:
        return None
    names = {n: s for s, ns in SPLIT_NAMES.items() for n in ns}
    keys = frame[column].astype(str).str.strip().str.lower()
    unknown = sorted(set(keys[~keys.isin(names)]))
    if unknown:
        raise DataError(
            f"Column {column!r} of {csv_path.name} holds {unknown[:10]}, which name no split; "
            f"expected one of {sorted(names)}."
        )
    return frame.loc[keys.map(names) == split].drop(columns=[column])


def rows_to_table(
    frame: pd.DataFrame,
    id_col: str,
    label_col: str | None,
    root: Path,
    images: Path,
    report: DataReport,
    unlabeled_ok: bool = False,
) -> pd.DataFrame:
    """``id, path, label`` (+ the CSV's other columns) for the rows whose file exists.

    Rows without a label (when ``label_col`` is given and ``unlabeled_ok`` is not: a
    test split's unknown labels are -1), naming no file, or naming a file outside the
    data folder are reported; a file listed twice keeps its first row.
    """
    labels = np.full(len(frame), -1, dtype=np.int64)
    if label_col is not None:
        missing = frame[label_col].isna().to_numpy()
        if not unlabeled_ok:
            for value in frame.loc[missing, id_col]:
                report.add(value, "missing label in CSV")
            frame, labels, missing = frame.loc[~missing], labels[~missing], missing[~missing]
        labels[~missing] = parse_labels(frame.loc[~missing, label_col])
    by_name = index_folder(images)
    root_resolved = root.resolve()
    keep, paths = [], []
    for position, value in enumerate(frame[id_col].astype(str)):
        path, reason = locate(value, root_resolved, images, by_name)
        if path is None:
            report.add(value, reason)
            continue
        keep.append(position)
        paths.append(str(path))
    extra = (
        frame.iloc[keep].drop(columns=[c for c in (id_col, label_col) if c]).reset_index(drop=True)
    )
    table = pd.DataFrame(
        {"id": [Path(p).stem for p in paths], "path": paths, "label": labels[keep]}
    )
    table = pd.concat([table, extra], axis=1)
    duplicated = table["path"].duplicated()
    for path in table.loc[duplicated, "path"]:
        report.add(path, "listed twice in CSV (first row kept)")
    return table.loc[~duplicated]


def index_folder(folder: Path) -> dict[str, Path]:
    """Every image of ``folder`` by its name and by its stem (both as written)."""
    index = {}
    for entry in os.scandir(folder):
        if entry.is_file() and is_image_file(entry.name):
            index.setdefault(Path(entry.name).stem, Path(entry.path))
            index.setdefault(entry.name, Path(entry.path))
    return index


def locate(
    value: str, root: Path, images: Path, by_name: dict[str, Path]
) -> tuple[Path | None, str]:
    """The file a CSV entry names, or why none: bare ids are looked up in the image
    folder; paths are taken relative to the data folder and may not leave it."""
    value = value.strip()
    if not value:
        return None, "empty id in CSV"
    found = by_name.get(value)
    is_path = any(sep in value for sep in ("/", "\\")) or Path(value).is_absolute()
    if found is None and is_path:
        for base in (root, images.resolve()):
            candidate = (base / value).resolve()
            if not candidate.is_relative_to(root):
                return None, "path escapes the data folder (rejected)"
            if candidate.is_file():
                found = candidate
                break
    if found is None:
        return None, f"listed in CSV but no such image in {images}"
    if found.stat().st_size == 0:
        return None, "empty file"
    return found, ""
