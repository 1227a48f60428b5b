"""Images found by listing folders: class sub-folders, a test folder, anything to predict.

``predict`` accepts a data folder, a folder of images (searched recursively; its class
folders, at any depth, give labels to score against), a single image file or a glob, so
:func:`collect_images` turns each of those into one ``id, path, label`` table. Class
folders found below a split (``test/progan/airplane/{0_real,1_fake}``) keep where they sat
in a ``group`` column, whose first part is the generator.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pandas as pd

from dflib.data.layouts import GROUP_COLUMN, Classes, DataError, DataReport, class_folder_pairs
from dflib.imageio import IMAGE_EXTENSIONS, is_image_file

GLOB_CHARS = frozenset("*?[")


def list_images(folder: Path, report: DataReport, recursive: bool = False) -> list[Path]:
    """The image files of ``folder`` (sorted); other files are reported, hidden ones ignored."""
    entries = folder.rglob("*") if recursive else folder.iterdir()
    files = []
    for path in sorted(entries):
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if not is_image_file(path):
            report.add(path, "not an image extension")
        elif path.stat().st_size == 0:
            report.add(path, "empty file")
        else:
            files.append(path)
    return files


def image_frame(files: list[Path], labels, base: Path | None = None) -> pd.DataFrame:
    """``id, path, label`` rows; the id is the file's stem, or its path relative to
    ``base`` where stems repeat (``real/001.png`` and ``fake/001.png``)."""
    ids = [p.stem for p in files]
    if base is not None and len(set(ids)) < len(ids):
        ids = [p.relative_to(base).as_posix() for p in files]
    labels = labels if isinstance(labels, list) else [labels] * len(files)
    return pd.DataFrame({"id": ids, "path": [str(p) for p in files], "label": labels})


def from_class_folders(
    pairs: list[tuple[str, dict[int, list[Path]]]],
    report: DataReport,
    base: Path,
    recursive: bool = False,
) -> pd.DataFrame:
    """Labelled rows from the class-folder pairs below ``base``
    (:func:`~dflib.data.layouts.class_folder_pairs`); pairs below ``base`` itself keep
    where they sit in the ``group`` column."""
    files, labels, groups = [], [], []
    for group, folders in pairs:
        for label in (0, 1):
            for folder in folders[label]:
                found = list_images(folder, report, recursive)
                files += found
                labels += [label] * len(found)
                groups += [group] * len(found)
    frame = image_frame(files, labels, base=base)
    if any(groups):
        frame[GROUP_COLUMN] = groups
    return frame


def from_folder(folder: Path, report: DataReport, classes: Classes | None = None) -> pd.DataFrame:
    """The images of a split folder: labelled when it holds class folders (at any depth)."""
    pairs = class_folder_pairs(folder, classes)
    if pairs:
        return from_class_folders(pairs, report, folder)
    files = list_images(folder, report)
    if not files:
        raise DataError(
            f"{folder} holds no images (looked for {', '.join(sorted(IMAGE_EXTENSIONS))}, and "
            "for real/ + fake/ sub-folders)."
        )
    return image_frame(files, -1)


def collect_images(source: str, report: DataReport, classes: Classes | None = None) -> pd.DataFrame:
    """Every image ``source`` names: one file, a glob (``**`` recursive), or a folder
    searched recursively (its class folders, at any depth, labelled).

    Raises:
        DataError: nothing matched, or the file is not an image; the message says what
            ``--data`` accepts.
    """
    path = Path(source).expanduser()
    if GLOB_CHARS & set(str(source)):
        files = [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]
        images = [p for p in files if p.is_file() and is_image_file(p)]
        for p in files:
            if p.is_file() and not is_image_file(p):
                report.add(p, "not an image extension")
        if not images:
            raise DataError(f"--data {source!r} matches no image file.")
        return image_frame(images, -1, base=_glob_base(path))
    if path.is_file():
        if not is_image_file(path):
            raise DataError(
                f"--data {source!r} is a file but not an image ({', '.join(sorted(IMAGE_EXTENSIONS))})."
            )
        return image_frame([path], -1)
    pairs = class_folder_pairs(path, classes)
    if pairs:
        return from_class_folders(pairs, report, path, recursive=True)
    files = list_images(path, report, recursive=True)
    if not files:
        raise DataError(
            f"--data {source!r} holds no images, even in its sub-folders. Give a data folder "
            "(with test/), a folder of images, one image file, or a glob such as 'shots/*.jpg'."
        )
    return image_frame(files, -1, base=path)


def _glob_base(pattern: Path) -> Path:
    """The folder above a glob's first wildcard (ids are relative to it)."""
    parts = []
    for part in pattern.parts:
        if GLOB_CHARS & set(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")
