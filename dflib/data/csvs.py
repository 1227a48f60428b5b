"""Labels CSVs: ids as text, the id / label / split columns, files located safely, label
sources that must agree.

Ids are read as strings and never re-typed: competition ids such as ``0194010033`` keep
their leading zeros, and ``0007`` and ``07`` stay two images. An id is a file name with
or without its extension, or a path relative to the data folder, to the image folder or
to a folder nested below the data folder (``real_vs_fake/real-vs-fake/`` + ``train/real/1.jpg``);
a path that leaves the data folder is rejected and reported, and a path keeps its spelling
as the image's id (``test_data/ab12.jpg``). Of several id-like columns, the one whose
values name files is used.

A table may say each row's class more than once: a numeric ``label``, a text
``label_str``, class folders in its paths. A loader that trusted the first would train on
swapped labels without a word wherever one of them follows another convention (1 = real),
so every source is compared and any disagreement stops with the choice to make.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.data.layouts import (
    CLASS_NAMES,
    CLASS_WORDS,
    ID_COLUMNS,
    LABEL_COLUMNS,
    SPLIT_COLUMNS,
    SPLIT_NAMES,
    Classes,
    DataError,
    DataOptions,
    DataReport,
    folder_class,
    subfolders,
)
from dflib.imageio import is_image_file

LABEL_VALUES = {
    **{name: 0 for name in CLASS_WORDS[0] + ("0", "false", "0.0")},
    **{name: 1 for name in CLASS_WORDS[1] + ("1", "true", "1.0")},
}
# how many rows of each id-like column are tried against the files to choose the id column
ID_PROBE_ROWS = 50
MISSING = ["", "NA", "N/A", "NaN", "nan", "null", "None"]


def read_csv_text_ids(path: Path, id_column: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV with its id-like columns read as text (nothing parsed as a number or as NaN).

    Returns:
        The frame and the name of its id column: ``id_column``, else the first id-like
        one (:func:`choose_id_column` may pick another whose values name files).
    """
    try:
        columns = list(pd.read_csv(path, nrows=0).columns)
        id_col = pick_column(columns, id_column, ID_COLUMNS, "id", path)
        text = [id_col] + [c for c in id_columns(columns) if c != id_col]
        missing = {c: MISSING for c in columns if c not in text}
        frame = pd.read_csv(
            path, dtype=dict.fromkeys(text, str), keep_default_na=False, na_values=missing
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not a readable CSV: {error}") from error
    return frame, id_col


def id_columns(columns) -> list[str]:
    """The id-like columns among ``columns``, in order of preference."""
    return matching_columns(columns, ID_COLUMNS)


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


def matching_columns(columns, candidates) -> list[str]:
    """The ``columns`` named by ``candidates`` (any case), in the candidates' order."""
    lower = {c.lower(): c for c in columns}
    return [lower[name] for name in candidates if name in lower]


def find_column(columns, candidates) -> str | None:
    """The first of ``candidates`` among ``columns`` (any case), or ``None``."""
    return next(iter(matching_columns(columns, candidates)), None)


def parse_labels(values: pd.Series, classes: Classes | None = None) -> np.ndarray:
    """Map label values (0/1, "real"/"fake", "nature"/"ai", True/False, any case; a
    user's ``classes`` mapping first) to 0/1.

    Raises:
        DataError: for values outside that vocabulary, listing them.
    """
    mapped = _label_values(values, classes)
    unknown = sorted(set(values[mapped.isna()].astype(str)))
    if unknown:
        hint = (" or name them with --classes real=NAME fake=NAME (classes=)" if classes is None
                else f" and the classes given ({classes})")  # fmt: skip
        raise DataError(
            f"Unknown label values {unknown[:10]} ({int(mapped.isna().sum())} rows). Expected 0/1, "
            f"real/fake or true/false (accepted: {sorted(LABEL_VALUES)}){hint}."
        )
    return mapped.to_numpy(dtype=np.int64)


def _label_values(values: pd.Series, classes: Classes | None) -> pd.Series:
    """Each value's class, NaN where it names none."""
    vocabulary = {name: label for label, names in (classes or {}).items() for name in names}
    vocabulary = {**LABEL_VALUES, **vocabulary}
    return values.map(lambda v: str(v).strip().lower()).map(vocabulary)


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
    options: DataOptions | None = None,
    csv_name: str = "the CSV",
) -> pd.DataFrame:
    """``id, path, label`` (+ the CSV's other columns) for the rows whose file exists.

    Rows without a label (when ``label_col`` is given and ``unlabeled_ok`` is not: a
    test split's unknown labels are -1), naming no file, or naming a file outside the
    data folder are reported; a file listed twice keeps its first row. Of several id-like
    columns the one naming files is used unless ``options.id_column`` says; every label
    source must agree (:func:`check_label_sources`) unless ``options.label_column`` says.

    Raises:
        DataError: label sources that disagree, unknown label values.
    """
    options = options or DataOptions()
    labels = np.full(len(frame), -1, dtype=np.int64)
    by_name = index_folder(images)
    id_col, bases = choose_id_column(
        frame, id_col, root, images, by_name, options, report, csv_name
    )
    if label_col is not None:
        missing = frame[label_col].isna().to_numpy()
        if not unlabeled_ok:
            for value in frame.loc[missing, id_col]:
                report.add(value, "missing label in CSV")
            frame, labels, missing = frame.loc[~missing], labels[~missing], missing[~missing]
        labels[~missing] = parse_labels(frame.loc[~missing, label_col], options.classes)
        check_label_sources(frame, id_col, label_col, labels, options, report, csv_name)
    keep, paths, ids = [], [], []
    # a column of paths keeps their spelling as the ids (a submission's ids must match its
    # test.csv's); bare names, or a mix, give the file's stem
    root_resolved = root.resolve()
    spelled = bool(len(frame)) and all(is_path(v) for v in frame[id_col].astype(str))
    for position, value in enumerate(frame[id_col].astype(str)):
        path, reason = locate(value, root_resolved, bases, by_name)
        if path is None:
            report.add(value, reason)
            continue
        keep.append(position)
        paths.append(str(path))
        ids.append(value.strip() if spelled else path.stem)
    extra = (
        frame.iloc[keep].drop(columns=[c for c in (id_col, label_col) if c]).reset_index(drop=True)
    )
    # the CSV's own columns named like the table's (an unused ``label``, ``path`` or ``id``)
    extra = extra.rename(columns={c: f"csv_{c}" for c in ("id", "path", "label") if c in extra})
    table = pd.DataFrame({"id": ids, "path": paths, "label": labels[keep]})
    table = pd.concat([table, extra], axis=1)
    duplicated = table["path"].duplicated()
    for path in table.loc[duplicated, "path"]:
        report.add(path, "listed twice in CSV (first row kept)")
    return table.loc[~duplicated]


def is_path(value: str) -> bool:
    """Whether a CSV entry is a path (``test_data/ab12.jpg``) rather than a bare name."""
    value = str(value).strip()
    return any(sep in value for sep in ("/", "\\")) or Path(value).is_absolute()


def choose_id_column(
    frame: pd.DataFrame,
    id_col: str,
    root: Path,
    images: Path,
    by_name: dict[str, Path],
    options: DataOptions,
    report: DataReport,
    csv_name: str = "the CSV",
) -> tuple[str, list[Path]]:
    """The id column and the folders its paths are relative to.

    Each id-like column (only ``options.id_column`` when given) is tried on its first
    rows: paths against the data folder, the image folder and a folder nested below the
    data folder that holds them; the column naming the most files wins, and the report
    says so when that is not the first one.
    """
    candidates = [id_col] if options.id_column else [id_col] + [
        c for c in id_columns(frame.columns) if c != id_col
    ]  # fmt: skip
    root = root.resolve()
    best, hits_of = None, {}
    for column in candidates:
        sample = [v for v in frame[column].astype(str).head(ID_PROBE_ROWS) if v.strip()]
        bases = [root, images.resolve()]
        nested = next((nested_base(root, v) for v in sample[:1] if is_path(v)), None)
        if nested is not None and nested not in bases:
            bases.append(nested)
        hits = hits_of[column] = sum(locate(v, root, bases, by_name)[0] is not None for v in sample)
        if best is None or hits > best[2]:
            best = (column, bases, hits)
    column, bases, hits = best
    if column != id_col:
        report.note(f"{csv_name}: ids from column {column!r}, whose values name image files "
                    f"({hits} of its first {ID_PROBE_ROWS} rows; {id_col!r}, the first id-like "
                    f"column, {hits_of[id_col]})")  # fmt: skip
    if len(bases) > 2 and hits:
        report.note(f"{csv_name}: the paths in {column!r} are relative to "
                    f"{bases[2].relative_to(root).as_posix()}/")  # fmt: skip
    return column, bases


def nested_base(root: Path, value: str, max_depth: int = 3) -> Path | None:
    """The folder below ``root`` (up to ``max_depth`` levels) that a relative path in a CSV
    starts from: ``real_vs_fake/real-vs-fake`` for ``train/real/1.jpg``, or ``None``."""
    todo = [(root, 0)]
    while todo:
        folder, depth = todo.pop(0)
        if (folder / value.strip()).is_file():
            return folder.resolve()
        if depth < max_depth:
            todo += [(sub, depth + 1) for sub in subfolders(folder)]
    return None


def label_sources(
    frame: pd.DataFrame, id_col: str, classes: Classes | None = None
) -> dict[str, np.ndarray]:
    """Every source of a class in a table, ``name -> labels`` (-1 where a row says none):
    label-like columns (``label``, ``label_str``, ``class_name``...) whose values are all
    class names, and the class folders in the id column's paths (the nearest to the file)."""
    sources = {}
    for column in frame.columns:
        key = column.lower()
        if column == id_col or not (key in LABEL_COLUMNS or key.startswith(
                tuple(f"{c}_" for c in LABEL_COLUMNS))):  # fmt: skip
            continue
        present = frame[column].notna()
        mapped = _label_values(frame.loc[present, column], classes)
        if len(mapped) and mapped.notna().all():
            labels = np.full(len(frame), -1, dtype=np.int64)
            labels[present.to_numpy()] = mapped.to_numpy(dtype=np.int64)
            sources[f"column {column!r}"] = labels
    folders = np.array([_path_class(v, classes) for v in frame[id_col].astype(str)], dtype=np.int64)
    if {0, 1} <= set(folders.tolist()):
        sources[f"the class folders in {id_col!r}"] = folders
    return sources


def _path_class(value: str, classes: Classes | None) -> int:
    """The class of the nearest class-named folder in a path, -1 when none."""
    if not is_path(value):
        return -1
    parts = Path(value.replace("\\", "/")).parts[:-1]
    found = (folder_class(part, classes) for part in reversed(parts))
    return next((label for label in found if label is not None), -1)


def check_label_sources(
    frame: pd.DataFrame,
    id_col: str,
    label_col: str,
    labels: np.ndarray,
    options: DataOptions,
    report: DataReport,
    csv_name: str = "the CSV",
) -> None:
    """Compare ``labels`` (from ``label_col``) with every other label source of the table.

    Raises:
        DataError: a source disagrees on some rows and the user has not said which
            column to trust; the message gives the count, two examples and the choice.
    """
    sources = label_sources(frame, id_col, options.classes)
    sources.pop(f"column {label_col!r}", None)
    for source, other in sources.items():
        known = (labels >= 0) & (other >= 0)
        differ = np.flatnonzero(known & (labels != other))
        if not len(differ):
            report.note(f"{csv_name}: labels from column {label_col!r}, checked against {source}")
            continue
        if options.label_column is not None:
            report.note(f"{csv_name}: labels from column {label_col!r} as asked; {source} "
                        f"disagrees on {len(differ):,} rows")  # fmt: skip
            continue
        examples = "; ".join(
            f"{frame[id_col].iloc[i]}: {label_col}={frame[label_col].iloc[i]!r} -> "
            f"{CLASS_NAMES[labels[i]]}, {source} says {CLASS_NAMES[other[i]]}"
            for i in differ[:2]
        )  # fmt: skip
        columns = [c for c in frame.columns if f"column {c!r}" in sources]
        choose = f"--label-column {columns[0]}" if columns else f"--label-column {label_col}"
        flip = (f", or turn column {label_col!r} around with --classes real=1 fake=0"
                if len(differ) == int(known.sum()) else ", or map its values with --classes")  # fmt: skip
        raise DataError(
            f"{csv_name}: the labels disagree: column {label_col!r} and {source} differ on "
            f"{len(differ):,} of {int(known.sum()):,} rows (e.g. {examples}). Training on "
            f"either would be wrong for the other. Say which to trust: {choose} "
            f"(label_column= in Python){flip} (classes=)."
        )


def index_folder(folder: Path) -> dict[str, Path]:
    """Every image of ``folder`` by its name and by its stem (both as written)."""
    index = {}
    for entry in os.scandir(folder):
        if entry.is_file() and is_image_file(entry.name):
            index.setdefault(Path(entry.name).stem, Path(entry.path))
            index.setdefault(entry.name, Path(entry.path))
    return index


def locate(
    value: str, root: Path, bases: list[Path], by_name: dict[str, Path]
) -> tuple[Path | None, str]:
    """The file a CSV entry names, or why none: bare ids are looked up in the image
    folder; paths are taken relative to each of ``bases`` (the data folder first) and
    may not leave the data folder ``root``."""
    value = value.strip()
    if not value:
        return None, "empty id in CSV"
    found = by_name.get(value)
    if found is None and is_path(value):
        for base in bases:
            candidate = (base / value).resolve()
            if not candidate.is_relative_to(root):
                return None, "path escapes the data folder (rejected)"
            if candidate.is_file():
                found = candidate
                break
    if found is None:
        return None, f"listed in CSV but no such image in {bases[1] if len(bases) > 1 else root}"
    if found.stat().st_size == 0:
        return None, "empty file"
    return found, ""
