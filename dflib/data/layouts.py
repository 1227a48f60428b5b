"""Discovering images and labels in a data folder, whatever its layout.

The layouts are documented in ``data/README.md``; :func:`dflib.data.load_split` is the
entry point. Every file found but not used is recorded with its reason in a
:class:`DataReport`, so nothing is dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.imageio import IMAGE_EXTENSIONS, is_image_file

ID_COLUMNS = (
    "id",
    "image_id",
    "image",
    "file",
    "filename",
    "file_name",
    "path",
    "image_path",
    "img",
    "name",
)
LABEL_COLUMNS = ("label", "target", "class", "is_fake", "fake", "y")
LABEL_CSV_NAMES = ("train.csv", "labels.csv", "train_labels.csv", "metadata.csv")
IMAGE_DIR_NAMES = ("train", "images", "train_images", "imgs")
TEST_DIR_NAMES = ("test", "test_images")
CLASS_FOLDERS = {
    0: ("real", "0", "genuine", "original", "pristine"),
    1: ("fake", "1", "deepfake", "manipulated", "synthetic", "generated"),
}
LABEL_VALUES = {
    **{name: 0 for name in CLASS_FOLDERS[0] + ("false", "0.0")},
    **{name: 1 for name in CLASS_FOLDERS[1] + ("true", "1.0")},
}
CLASS_NAMES = ("real", "fake")


class DataError(ValueError):
    """A data folder does not hold what dflib expects; the message says what to change."""


@dataclass
class DataReport:
    """Files that were found but not used, each with the reason."""

    root: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, item: str | os.PathLike, reason: str) -> None:
        self.skipped.append((str(item), reason))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.skipped, columns=["file", "reason"])

    def summary(self, limit: int = 20, full_list: str | os.PathLike | None = None) -> str:
        """Counts per reason, then the first ``limit`` skipped files by name with their
        reason, and where the whole list is (``full_list``, or how to get it)."""
        if not self.skipped:
            return f"{self.root}: every file usable"
        counts = self.to_frame()["reason"].str.split(":").str[0].value_counts()
        lines = [f"{self.root}: {len(self.skipped)} file(s) skipped"]
        lines += [f"  {count:>6}  {reason}" for reason, count in counts.items()]
        shown = self.skipped[:limit]
        lines.append(f"  first {len(shown)}:" if len(self.skipped) > len(shown) else "  files:")
        lines += [f"    {_relative(item, self.root)}: {reason}" for item, reason in shown]
        where = full_list or "pass --report FILE (or call report.save(FILE)) to write them all"
        lines.append(f"  full list: {where}")
        return "\n".join(lines)

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(path, index=False)
        return path


def _relative(item: str, root: Path) -> str:
    """A skipped file's path relative to the data folder when it is inside it."""
    try:
        return str(Path(item).relative_to(root))
    except ValueError:
        return item


def find_labelled(root, labels_csv, id_column, label_column, image_dir, report) -> pd.DataFrame:
    if labels_csv is None and image_dir is None:
        for base in (root / "train", root):
            folders = _class_folders(base)
            if folders:
                return _from_class_folders(folders, report)
    csv_path = _find_labels_csv(root, labels_csv)
    return _from_csv(root, csv_path, id_column, label_column, image_dir, report)


def _class_folders(base: Path) -> dict[int, Path]:
    if not base.is_dir():
        return {}
    subdirs = {p.name.lower(): p for p in base.iterdir() if p.is_dir()}
    found = {}
    for label, names in CLASS_FOLDERS.items():
        for name in names:
            if name in subdirs:
                found[label] = subdirs[name]
                break
    return found if len(found) == 2 else {}


def _list_images(folder: Path, report: DataReport) -> list[Path]:
    files = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() or path.name.startswith("."):
            continue
        if not is_image_file(path):
            report.add(path, "not an image extension")
        elif path.stat().st_size == 0:
            report.add(path, "empty file")
        else:
            files.append(path)
    return files


def _from_class_folders(folders: dict[int, Path], report: DataReport) -> pd.DataFrame:
    rows = []
    for label, folder in sorted(folders.items()):
        rows += [(p.stem, str(p), label) for p in _list_images(folder, report)]
    return pd.DataFrame(rows, columns=["id", "path", "label"])


def _find_labels_csv(root: Path, labels_csv) -> Path:
    if labels_csv is not None:
        path = Path(labels_csv)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DataError(f"labels_csv {str(labels_csv)!r} not found (looked at {path}).")
        return path
    for name in LABEL_CSV_NAMES:
        if (root / name).is_file():
            return root / name
    csvs = [
        p
        for p in root.glob("*.csv")
        if "test" not in p.name.lower() and "submission" not in p.name.lower()
    ]
    if len(csvs) == 1:
        return csvs[0]
    listing = ", ".join(sorted(p.name for p in root.iterdir())[:20]) or "nothing"
    raise DataError(
        f"No labelled training data in {root}. Expected a labels CSV ({', '.join(LABEL_CSV_NAMES)}) "
        "beside an image folder, or class sub-folders train/real + train/fake (or 0/ + 1/). "
        f"Found: {listing}. Pass labels_csv=... if the CSV has another name."
    )


def _pick_column(frame: pd.DataFrame, wanted: str | None, candidates, role: str, csv_path) -> str:
    if wanted is not None:
        if wanted not in frame.columns:
            raise DataError(
                f"{role} column {wanted!r} not in {csv_path.name}; columns are {list(frame.columns)}."
            )
        return wanted
    lower = {c.lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise DataError(
        f"Cannot tell which column of {csv_path.name} holds the {role}: columns are "
        f"{list(frame.columns)}, expected one of {list(candidates)}. Pass {role}_column=..."
    )


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


def _from_csv(root, csv_path, id_column, label_column, image_dir, report) -> pd.DataFrame:
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{csv_path} is not a readable CSV: {error}") from error
    id_col = _pick_column(frame, id_column, ID_COLUMNS, "id", csv_path)
    label_col = _pick_column(frame, label_column, LABEL_COLUMNS, "label", csv_path)
    missing = frame[label_col].isna()
    for value in frame.loc[missing, id_col]:
        report.add(value, "missing label in CSV")
    frame = frame.loc[~missing]
    labels = parse_labels(frame[label_col])
    images = _image_folder(root, image_dir)
    by_stem = _index_folder(images)
    root_resolved = root.resolve()
    keep, paths = [], []
    for position, value in enumerate(frame[id_col].astype(str)):
        path, reason = _locate(value, root_resolved, images, by_stem)
        if path is None:
            report.add(value, reason)
            continue
        keep.append(position)
        paths.append(str(path))
    extra = frame.iloc[keep].drop(columns=[id_col, label_col]).reset_index(drop=True)
    table = pd.DataFrame(
        {"id": [Path(p).stem for p in paths], "path": paths, "label": labels[keep]}
    )
    table = pd.concat([table, extra], axis=1)
    duplicated = table["path"].duplicated()
    for path in table.loc[duplicated, "path"]:
        report.add(path, "listed twice in CSV (first row kept)")
    return table.loc[~duplicated]


def _image_folder(root: Path, image_dir) -> Path:
    if image_dir is not None:
        folder = Path(image_dir) if Path(image_dir).is_absolute() else root / image_dir
        if not folder.is_dir():
            raise DataError(f"image_dir {str(image_dir)!r} is not a folder (looked at {folder}).")
        return folder
    for name in IMAGE_DIR_NAMES:
        if (root / name).is_dir():
            return root / name
    return root


def _index_folder(folder: Path) -> dict[str, Path]:
    index = {}
    for entry in os.scandir(folder):
        if entry.is_file() and is_image_file(entry.name):
            index.setdefault(Path(entry.name).stem, Path(entry.path))
            index.setdefault(entry.name, Path(entry.path))
    return index


def _locate(
    value: str, root: Path, images: Path, by_stem: dict[str, Path]
) -> tuple[Path | None, str]:
    """The file a CSV entry names, or why none: bare ids are looked up in the image
    folder; paths are taken relative to the data folder and may not leave it."""
    found = by_stem.get(value)
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


def find_test(root: Path, image_dir, report: DataReport) -> pd.DataFrame:
    folder = None
    if image_dir is not None:
        folder = Path(image_dir) if Path(image_dir).is_absolute() else root / image_dir
    else:
        folder = next((root / n for n in TEST_DIR_NAMES if (root / n).is_dir()), None)
    if folder is None or not folder.is_dir():
        raise DataError(
            f"No test folder in {root}: expected {' or '.join(TEST_DIR_NAMES)}/ with the unlabeled "
            "images to predict, or pass image_dir=..."
        )
    files = _list_images(folder, report)
    if not files:
        raise DataError(
            f"Test folder {folder} holds no images (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})."
        )
    return pd.DataFrame(
        {"id": [p.stem for p in files], "path": [str(p) for p in files], "label": -1}
    )
