"""The vocabulary of data folders: which names mean a split, a class, a labels CSV.

The layouts are documented in ``data/README.md``; :func:`dflib.data.load_split` is the
entry point. Every name is matched in any case, at every level (Kaggle's real-vs-fake
datasets ship ``Train/Real``, competitions ship ``train.csv``), and every file found but
not used is recorded with its reason in a :class:`DataReport`, so nothing is dropped
silently.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dflib.environment import split_names

ID_COLUMNS = ("id", "image_id", "image", "file", "filename", "file_name", "path",
              "image_path", "img", "name")  # fmt: skip
LABEL_COLUMNS = ("label", "target", "class", "is_fake", "fake", "y")
SPLIT_COLUMNS = ("split", "subset", "set", "partition")
# The folders (and CSV stems) that name each split, in order of preference.
SPLIT_NAMES = {
    "train": ("train", "training", "train_data"),
    "val": ("valid", "val", "validation", "dev", "validate"),
    "test": ("test", "testing", "test_images", "test_data"),
}
SPLIT_CSVS = {
    "train": ("train.csv", "labels.csv", "train_labels.csv", "metadata.csv", "training.csv"),
    "val": tuple(
        f"{name}{tail}" for name in SPLIT_NAMES["val"] for tail in (".csv", "_labels.csv")
    ),
    "test": ("test.csv",),
}
IMAGE_DIR_NAMES = ("train", "training", "images", "train_images", "imgs")
# The words that name a class, inside a folder name (as a whole token: ``0_real``,
# ``training_fake``, ``fake_images``, ``REAL``, ``AiGenerated``) or as a label value. Never a
# word that generators' own names use (``gan``, ``diffusion``), so that a generator folder is
# not taken for a class; and a folder is a class only beside a sibling of the other class.
CLASS_WORDS = {
    0: ("real", "genuine", "original", "pristine", "authentic", "nature", "natural", "human",
        "photo", "photos"),
    1: ("fake", "fakes", "deepfake", "deepfakes", "manipulated", "synthetic", "generated", "ai",
        "tampered"),
}  # fmt: skip
# CNNDetection's convention: the class's digit as the whole name or its first token (``1_fake``).
CLASS_DIGITS = {"0": 0, "1": 1}
CLASS_NAMES = ("real", "fake")
# The metadata column that says where a class-folder pair sits below its split
# (``progan/airplane`` for ``test/progan/airplane/{0_real,1_fake}``): its first part is the
# generator when a folder holds one sub-folder per generator.
GROUP_COLUMN = "group"
# CSVs that never hold training labels: submissions and the other splits' tables.
NOT_TRAIN_CSV = ("submission", "test", "val", "dev")


class DataError(ValueError):
    """A data folder does not hold what dflib expects; the message says what to change."""


@dataclass(frozen=True)
class DataOptions:
    """What a user told the loader where detection may not guess right (``None`` =
    detect): the labels CSV, its id and label columns, the image folder, which names
    mean which class (:func:`parse_classes`)."""

    labels_csv: str | os.PathLike | None = None
    id_column: str | None = None
    label_column: str | None = None
    image_dir: str | os.PathLike | None = None
    classes: dict[int, tuple[str, ...]] | None = None


@dataclass
class DataReport:
    """Files that were found but not used, each with the reason."""

    root: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # what the loader decided where a layout left a choice (which column, which folders
    # mean which class), said by ``inspect`` and by training
    notes: list[str] = field(default_factory=list)

    def add(self, item: str | os.PathLike, reason: str) -> None:
        self.skipped.append((str(item), reason))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

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


Classes = dict[int, tuple[str, ...]]


def parse_classes(spec) -> Classes | None:
    """A user's mapping of names to classes, ``{0: real names, 1: fake names}`` in lower case.

    Accepts ``None`` / ``""`` (no mapping: the vocabulary decides), the command line's text
    ``"real=nature,photos fake=ai"`` (``--classes``; ``real:nature`` alike), or a dict ``{"real": ["nature"], "fake":
    "ai"}`` (keys ``real``/``fake`` or 0/1). The names are folder names or label values, any
    case; ``real=1 fake=0`` turns a label column of the opposite convention around.

    Raises:
        DataError: a malformed mapping, a class missing, or a name given to both classes.
    """
    if spec is None or spec == "" or spec == {}:
        return None
    example = "expected e.g. --classes real=nature,photos fake=ai (classes='real=nature fake=ai')"
    if isinstance(spec, str):
        pairs = [re.split(r"[=:]", part, maxsplit=1) for part in spec.replace(";", " ").split()]
        if any(len(p) != 2 for p in pairs):
            raise DataError(f"classes {spec!r} is not CLASS=NAME,NAME ...: {example}.")
        spec = dict(pairs)
    if not isinstance(spec, dict):
        raise DataError(f"classes must be text or a dict, got {type(spec).__name__}: {example}.")
    keys = {"real": 0, "0": 0, "fake": 1, "1": 1}
    mapping: dict[int, list[str]] = {0: [], 1: []}
    for key, names in spec.items():
        label = keys.get(str(key).strip().lower())
        if label is None:
            raise DataError(f"classes: {key!r} is not a class (real or fake): {example}.")
        mapping[label] += [n.lower() for n in split_names(names)]
    if not mapping[0] or not mapping[1]:
        raise DataError(f"classes {spec!r} must name both real and fake: {example}.")
    both = sorted(set(mapping[0]) & set(mapping[1]))
    if both:
        raise DataError(f"classes: {both} given to both real and fake.")
    return {label: tuple(names) for label, names in mapping.items()}


def format_classes(classes: Classes) -> str:
    """The ``--classes`` text of a mapping (``real=nature,photos fake=ai``)."""
    return " ".join(f"{CLASS_NAMES[k]}={','.join(v)}" for k, v in sorted(classes.items()))


def name_tokens(name: str) -> list[str]:
    """The words of a folder name: ``0_real`` -> ``0, real``; ``AiGenerated`` -> ``ai,
    generated``; ``real-vs-fake`` -> ``real, vs, fake``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def folder_class(name: str, classes: Classes | None = None) -> int | None:
    """The class a folder's name says, or ``None`` when it says none or both.

    A user's mapping (:func:`parse_classes`) is looked up first, by the whole name; then
    the name's tokens against :data:`CLASS_WORDS`, and a leading ``0``/``1`` token.
    """
    key = name.strip().lower()
    for label, names in (classes or {}).items():
        if key in names:
            return label
    tokens = name_tokens(name)
    said = {label for label, words in CLASS_WORDS.items() if set(tokens) & set(words)}
    if tokens and tokens[0] in CLASS_DIGITS:
        said.add(CLASS_DIGITS[tokens[0]])
    return said.pop() if len(said) == 1 else None


def subfolders(folder: Path) -> list[Path]:
    """The visible sub-folders of ``folder``, sorted (none when it is not a folder)."""
    if folder is None or not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        found = [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]
    return sorted(found)


def class_folders(base: Path | None, classes: Classes | None = None) -> dict[int, list[Path]]:
    """``{0: [real folders], 1: [fake folders]}`` among the sub-folders of ``base`` when
    they hold both classes, else ``{}``: a class folder is one half of a pair of siblings,
    so a generator folder named ``deepfake`` beside ``progan`` is not a class."""
    found: dict[int, list[Path]] = {0: [], 1: []}
    for folder in subfolders(base):
        label = folder_class(folder.name, classes)
        if label is not None:
            found[label].append(folder)
    return found if found[0] and found[1] else {}


def class_folder_pairs(
    base: Path | None, classes: Classes | None = None, max_depth: int = 5
) -> list[tuple[str, dict[int, list[Path]]]]:
    """Every pair of class folders at or below ``base``, up to ``max_depth`` levels down,
    as ``(group, {0: [...], 1: [...]})``; ``group`` is where the pair sits below ``base``
    (``""`` directly in it, ``progan/airplane`` further down). Class folders are not
    searched further (their own sub-folders are their images' business)."""
    pairs, todo = [], [(base, 0)] if base is not None else []
    while todo:
        folder, depth = todo.pop(0)
        found = class_folders(folder, classes)
        if found:
            pairs.append((folder.relative_to(base).as_posix().strip("."), found))
        if depth < max_depth:
            inside = {p for paths in found.values() for p in paths}
            todo += [(sub, depth + 1) for sub in subfolders(folder) if sub not in inside]
    return sorted(pairs, key=lambda pair: pair[0])


def holds_layout(folder: Path, classes: Classes | None = None) -> bool:
    """Whether ``folder`` itself looks like a data folder (a split, classes or a CSV)."""
    return bool(
        any(split_folder(folder, s) for s in SPLIT_NAMES)
        or class_folders(folder, classes)
        or any(p.suffix.lower() == ".csv" for p in folder.iterdir() if p.is_file())
    )


def layout_roots(root: Path) -> list[Path]:
    """The sub-folders of ``root`` that hold a layout, one level down, or two where a
    level-one folder holds none itself (GenImage's ``<generator>/<name>/{train,val}``)."""
    found = []
    for sub in subfolders(root):
        found += [sub] if holds_layout(sub) else [s for s in subfolders(sub) if holds_layout(s)]
    return found


def find_layout_root(root: Path) -> Path:
    """``root``, or the one sub-folder that holds the layout when ``root`` is a level
    above it (Kaggle nests a dataset in ``/kaggle/input/<name>/<folder>/``).

    Raises:
        DataError: several sub-folders hold a layout (one per generator, as GenImage
            ships); the message names each, how to train on one and how to score them all.
    """
    if holds_layout(root):
        return root
    inside = layout_roots(root)
    if len(inside) == 1:
        return inside[0]
    if len(inside) > 1:
        names = ", ".join(p.relative_to(root).as_posix() for p in inside[:12])
        raise DataError(
            f"{root} holds no data layout itself but several sub-folders do ({names}"
            f"{', ...' if len(inside) > 12 else ''}). Point data_dir (--data / --data-dir) at "
            f"one of them to train, e.g. --data {inside[0]}; to score a run on each of them, "
            f"one row per generator: python -m dflib predict --run RUN --data {root} --split val."
        )
    return root
