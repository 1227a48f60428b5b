"""The vocabulary of data folders: which names mean a split, a class, a labels CSV.

The layouts are documented in ``data/README.md``; :func:`dflib.data.load_split` is the
entry point. Every name is matched in any case, at every level (Kaggle's real-vs-fake
datasets ship ``Train/Real``, competitions ship ``train.csv``), and every file found but
not used is recorded with its reason in a :class:`DataReport`, so nothing is dropped
silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ID_COLUMNS = ("id", "image_id", "image", "file", "filename", "file_name", "path",
              "image_path", "img", "name")  # fmt: skip
LABEL_COLUMNS = ("label", "target", "class", "is_fake", "fake", "y")
SPLIT_COLUMNS = ("split", "subset", "set", "partition")
# The folders (and CSV stems) that name each split, in order of preference.
SPLIT_NAMES = {
    "train": ("train", "training"),
    "val": ("valid", "val", "validation", "dev", "validate"),
    "test": ("test", "testing", "test_images"),
}
SPLIT_CSVS = {
    "train": ("train.csv", "labels.csv", "train_labels.csv", "metadata.csv", "training.csv"),
    "val": tuple(
        f"{name}{tail}" for name in SPLIT_NAMES["val"] for tail in (".csv", "_labels.csv")
    ),
    "test": ("test.csv",),
}
IMAGE_DIR_NAMES = ("train", "training", "images", "train_images", "imgs")
CLASS_FOLDERS = {
    0: ("real", "0", "genuine", "original", "pristine"),
    1: ("fake", "1", "deepfake", "manipulated", "synthetic", "generated"),
}
CLASS_NAMES = ("real", "fake")
# CSVs that never hold training labels: submissions and the other splits' tables.
NOT_TRAIN_CSV = ("submission", "test", "val", "dev")


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


def child(folder: Path, names, *, is_dir: bool = True) -> Path | None:
    """The first entry of ``folder`` whose name is one of ``names``, in any case."""
    if not folder.is_dir():
        return None
    entries = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() == is_dir and not entry.name.startswith("."):
            entries.setdefault(entry.name.lower(), entry)
    return next((entries[n] for n in names if n in entries), None)


def split_folder(root: Path, split: str) -> Path | None:
    """The folder of a given split (``Train/``, ``valid/``, ``TEST/``...), if any."""
    return child(root, SPLIT_NAMES[split])


def split_csv(root: Path, split: str) -> Path | None:
    """The CSV of a given split beside the folders (``train.csv``, ``Valid.csv``...)."""
    return child(root, SPLIT_CSVS[split], is_dir=False)


def class_folders(base: Path | None) -> dict[int, Path]:
    """``{0: real folder, 1: fake folder}`` when ``base`` holds both, else ``{}``."""
    if base is None:
        return {}
    found = {label: child(base, names) for label, names in CLASS_FOLDERS.items()}
    return found if all(found.values()) else {}


def holds_layout(folder: Path) -> bool:
    """Whether ``folder`` itself looks like a data folder (a split, classes or a CSV)."""
    return bool(
        any(split_folder(folder, s) for s in SPLIT_NAMES)
        or class_folders(folder)
        or any(p.suffix.lower() == ".csv" for p in folder.iterdir() if p.is_file())
    )


def find_layout_root(root: Path) -> Path:
    """``root``, or the one sub-folder that holds the layout when ``root`` is a level
    above it (Kaggle nests a dataset in ``/kaggle/input/<name>/<folder>/``).

    Raises:
        DataError: several sub-folders hold a layout; the message names each.
    """
    if holds_layout(root):
        return root
    inside = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
              and holds_layout(p)]  # fmt: skip
    if len(inside) == 1:
        return inside[0]
    if len(inside) > 1:
        names = ", ".join(p.name for p in inside)
        raise DataError(
            f"{root} holds no data layout itself but several sub-folders do ({names}). Point "
            f"data_dir (--data / --data-dir) at one of them, e.g. {inside[0]}."
        )
    return root
