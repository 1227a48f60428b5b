"""Finding a user's images and labels, whatever the layout: the image tables.

Accepted layouts (see ``data/README.md``; every name in any case):

* given splits: ``train/``, ``valid/`` (or ``val``, ``validation``, ``dev``) and
  ``test/`` folders, each with class folders at any depth (``real/`` + ``fake/``,
  ``<category>/{0_real,1_fake}``, ``ai/`` + ``nature/``; :data:`~dflib.data.layouts.CLASS_WORDS`,
  or a user's ``classes=`` mapping) or a CSV beside it (``train.csv``, ``valid.csv``,
  ``test.csv``), or one CSV with a ``split`` column;
* a labels CSV (``train.csv``, ``labels.csv``, ...) with an id/path column and a label
  column beside an image folder (``train/``, ``images/`` or the data folder itself);
* without a ``test/`` folder, a ``test.csv`` whose ids are paths into a folder of any
  name (``test_data_v2/ab12.jpg``) lists the test split, in its order;
* class sub-folders ``real/`` + ``fake/`` (or ``0``/``1``) without the ``train/`` level;
* any of these one level down (Kaggle's ``/kaggle/input/<name>/<folder>/``), or two;
  a folder of several such layouts (one per generator, GenImage) is scored per generator
  by :func:`load_prediction_images` with ``split=``.

``data_dir="synthetic"`` means the embedded benchmark (:mod:`dflib.synthetic`), written
to disk in the CSV layout, so both go through the same code. Files that cannot be used
are never silently dropped: each lands in the split's :class:`DataReport` with a reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.data.folders import GLOB_CHARS, collect_images
from dflib.data.layouts import (
    CLASS_NAMES,
    GROUP_COLUMN,
    SPLIT_NAMES,
    DataError,
    DataOptions,
    DataReport,
    class_folder_pairs,
    find_layout_root,
    holds_layout,
    layout_roots,
    parse_classes,
    split_csv,
    split_folder,
)
from dflib.data.sources import find_test, find_train, find_val
from dflib.environment import kaggle_input_dirs, resolve_path

SYNTHETIC = "synthetic"


@dataclass
class ImageTable:
    """The usable images of one split: ``frame`` has ``id``, ``path``, ``label`` (-1 when
    unlabeled) and any extra metadata columns of the source CSV."""

    frame: pd.DataFrame
    root: Path
    split: str
    report: DataReport

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)

    @property
    def paths(self) -> list[Path]:
        return [Path(p) for p in self.frame["path"]]

    @property
    def generators(self) -> np.ndarray | None:
        """Which generator made each image, where the data says: the embedded benchmark's
        ``family`` column, else the first folder of ``group`` (``test/<generator>/...``);
        ``""`` for an image without one (the benchmark's reals). ``None`` when the data
        names fewer than two generators."""
        if "family" in self.frame.columns:
            found = self.frame["family"].fillna("").astype(str)
        elif GROUP_COLUMN in self.frame.columns:
            found = self.frame[GROUP_COLUMN].fillna("").astype(str).str.split("/").str[0]
        else:
            return None
        return found.to_numpy(dtype=object) if found[found != ""].nunique() >= 2 else None

    @property
    def is_labeled(self) -> bool:
        return bool((self.frame["label"] >= 0).all()) and len(self.frame) > 0


def resolve_data_dir(data_dir: str | os.PathLike = SYNTHETIC, synthetic_size: str = "full") -> Path:
    """Turn the ``data_dir`` parameter into an existing folder.

    ``"synthetic"`` builds (or reuses) the embedded benchmark of the given size; anything
    else is a path, relative to the project root unless absolute.
    """
    if str(data_dir) == SYNTHETIC:
        from dflib.synthetic.io import ensure_dataset

        return ensure_dataset(synthetic_size)
    root = resolve_path(data_dir)
    if not root.is_dir():
        hint = ""
        attached = kaggle_input_dirs()
        if attached:
            hint = " Datasets attached to this Kaggle notebook: " + ", ".join(map(str, attached))
        raise DataError(
            f"data_dir {str(data_dir)!r} resolved to {root}, which is not a folder. Give a "
            "folder holding your images (absolute, or relative to the project root), or "
            f"'synthetic' for the embedded benchmark.{hint}"
        )
    return find_layout_root(root)


def load_split(
    data_dir: str | os.PathLike = SYNTHETIC,
    split: str = "train",
    *,
    synthetic_size: str = "full",
    labels_csv: str | os.PathLike | None = None,
    id_column: str | None = None,
    label_column: str | None = None,
    image_dir: str | os.PathLike | None = None,
    classes: str | dict | None = None,
) -> ImageTable:
    """Find the images (and labels) of ``split`` in ``data_dir``.

    Args:
        data_dir: a folder in one of the accepted layouts, or "synthetic".
        split: "train" (labelled), "val" (a given validation split, labelled) or "test"
            (labels -1 unless the test split carries them).
        synthetic_size: benchmark size when ``data_dir == "synthetic"``.
        labels_csv: the labels CSV, if its name is not one of the usual ones.
        id_column, label_column: CSV column names, if detection picks the wrong ones (a
            ``label_column`` given also settles label sources that disagree).
        image_dir: the folder the CSV's ids refer to, if not ``train/`` or ``images/``
            (for "test": the folder of the images to predict).
        classes: which folder names (or label values) mean which class, when the
            vocabulary does not say: ``"real=nature,photos fake=ai"`` or
            ``{"real": ["nature"], "fake": ["ai"]}``; it wins over the vocabulary.

    Raises:
        DataError: nothing usable was found (or no such split), a single class, unknown
            label values or columns, label sources that disagree; the message names what
            was found and what was expected.
    """
    root = resolve_data_dir(data_dir, synthetic_size)
    report = DataReport(root)
    options = DataOptions(labels_csv, id_column, label_column, image_dir, parse_classes(classes))
    if split == "test":
        frame = find_test(root, options, report)
    elif split == "train":
        frame = find_train(root, options, report)
    elif split == "val":
        frame = find_val(root, options, report)
        if frame is None:
            raise DataError(
                f"No validation split in {root}: expected a valid/ (val/, validation/, dev/) "
                "folder, a valid.csv, or a 'split' column in the labels CSV."
            )
    else:
        raise DataError(f"split must be 'train', 'val' or 'test', got {split!r}")
    return _table(frame, root, split, report)


def _table(frame: pd.DataFrame, root: Path, split: str, report: DataReport) -> ImageTable:
    """The split's table; a labelled split must hold both classes."""
    table = ImageTable(frame.reset_index(drop=True), root, split, report)
    if split in ("train", "val"):
        _check_classes(table)
    return table


def _check_classes(table: ImageTable) -> None:
    if len(table) == 0:
        raise DataError(
            f"No usable {table.split} images in {table.root}.\n{table.report.summary()}"
        )
    present = sorted(set(table.labels.tolist()))
    if present != [0, 1]:
        name = CLASS_NAMES[present[0]]
        need = ("a detector needs both real (0) and fake (1) examples" if table.split == "train"
                else "its F1, AUC and tuned threshold need both real (0) and fake (1) images")  # fmt: skip
        raise DataError(
            f"The {table.split} split of {table.root} holds only class {present[0]} ({name}, "
            f"{len(table)} images): {need}."
        )


def sample_images(
    table: ImageTable, n: int, seed: int = 42, label: int | None = None
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Decode ``n`` random images of ``table`` at full resolution (of one class if
    ``label`` is given). Unreadable ones are skipped and added to ``table.report``.

    Returns:
        The HxWx3 uint8 images and the table rows they came from.
    """
    from dflib.imageio import try_read_image

    frame = table.frame if label is None else table.frame[table.frame["label"] == label]
    rows = frame.sample(n=min(n, len(frame)), random_state=seed)
    images, kept = [], []
    for position, path in enumerate(rows["path"]):
        image, reason = try_read_image(path)
        if image is None:
            table.report.add(path, reason)
        else:
            images.append(image)
            kept.append(position)
    return images, rows.iloc[kept]


def load_test_if_present(data_dir: str | os.PathLike, **kwargs) -> ImageTable | None:
    """The test split, or ``None`` when the data folder has none."""
    try:
        return load_split(data_dir, "test", **kwargs)
    except DataError:
        return None


def load_prediction_images(
    source: str | os.PathLike,
    *,
    synthetic_size: str = "full",
    image_dir=None,
    split: str = "test",
    classes: str | dict | None = None,
    label_column: str | None = None,
) -> ImageTable:
    """What ``predict --data`` scores: a data folder's ``split`` (test by default), a
    folder of images (searched recursively; class folders at any depth give labels to
    score against, and where they sit, their ``group``), one image file, a glob
    (``shots/**/*.jpg``; relative to the project root), or a folder of several data
    folders (one per generator, GenImage): each one's ``split``, its name first in ``group``.

    Raises:
        DataError: nothing to predict; the message names the ``--data`` forms accepted.
    """
    text = str(source)
    kw = {"synthetic_size": synthetic_size, "classes": classes, "label_column": label_column}
    if text == SYNTHETIC or image_dir is not None:
        return load_split(source, split, image_dir=image_dir, **kw)
    path = resolve_path(text)
    mapping = parse_classes(classes)
    if path.is_dir() and not GLOB_CHARS & set(text):
        if holds_layout(path, mapping):
            return _split_of(path, text, split, **kw)
        with_splits = [
            r for r in layout_roots(path) if any(split_folder(r, s) for s in SPLIT_NAMES)
        ]
        if len(with_splits) > 1:
            return _several_layouts(path, with_splits, split, **kw)
        if with_splits:  # one data folder below (Kaggle's /kaggle/input/<name>/<folder>/)
            return _split_of(with_splits[0], text, split, **kw)
        if not class_folder_pairs(path, mapping):  # else a folder of class folders at any
            return _split_of(find_layout_root(path), text, split, **kw)  # depth: listed below
    elif not path.exists() and not GLOB_CHARS & set(text):
        raise DataError(
            f"--data {text!r} resolved to {path}, which does not exist. Give a data folder "
            "(with test/), a folder of images, one image file, or a glob such as 'shots/*.jpg'."
        )
    report = DataReport(path if path.is_dir() else path.parent)
    return ImageTable(collect_images(str(path), report, mapping), report.root, "test", report)


def _split_of(root: Path, text: str, split: str, **kw) -> ImageTable:
    """``split`` of one data folder for ``predict``: the test split (its folder, the images
    its ``test.csv`` lists, or a split column's test rows), or the split asked for."""
    if split != "test" or split_folder(root, "test") or split_csv(root, "test"):
        return load_split(root, split, **kw)
    test = load_test_if_present(root, **kw)  # a split column's test rows
    if test is not None:
        return test
    given = [split_folder(root, s).name for s in ("train", "val") if split_folder(root, s)]
    if given:
        raise DataError(
            f"--data {text} holds {' and '.join(given)} but no test split ({'/'.join(SPLIT_NAMES['test'])}). "
            f"Pass the folder to score, e.g. --data {root / given[-1]}, --split val, or add a test/ folder."
        )
    report = DataReport(root)
    mapping = parse_classes(kw.get("classes"))
    return ImageTable(collect_images(str(root), report, mapping), root, "test", report)


def _several_layouts(root: Path, layouts: list[Path], split: str, **kw) -> ImageTable:
    """``split`` of every data folder below ``root`` in one table, each image's ``group``
    starting with its generator folder (``BigGAN/...``) and its id with the same path."""
    frames, report = [], DataReport(root)
    for sub in layouts:
        table = load_split(sub, split, **kw)
        generator = sub.relative_to(root).parts[0]
        group = table.frame.get(GROUP_COLUMN, pd.Series("", index=table.frame.index))
        frame = table.frame.assign(
            id=generator + "/" + table.frame["id"].astype(str),
            **{GROUP_COLUMN: [f"{generator}/{g}".rstrip("/") for g in group]},
        )
        frames.append(frame)
        report.skipped += table.report.skipped
        report.notes += [f"{generator}: {note}" for note in table.report.notes]
    return ImageTable(pd.concat(frames, ignore_index=True), root, split, report)


def load_val_if_present(
    data_dir: str | os.PathLike,
    *,
    synthetic_size: str = "full",
    labels_csv: str | os.PathLike | None = None,
    label_column: str | None = None,
    classes: str | dict | None = None,
) -> ImageTable | None:
    """The given validation split, or ``None`` when the data folder has none (a malformed
    one still raises)."""
    root = resolve_data_dir(data_dir, synthetic_size)
    report = DataReport(root)
    options = DataOptions(labels_csv, None, label_column, None, parse_classes(classes))
    frame = find_val(root, options, report)
    return None if frame is None else _table(frame, root, "val", report)


def load_hidden_test_labels(root: Path) -> pd.DataFrame | None:
    """The benchmark's held-back test labels (``test_labels.csv``), ``None`` for real data."""
    path = Path(root) / "test_labels.csv"
    return pd.read_csv(path, dtype={"id": str}) if path.is_file() else None
