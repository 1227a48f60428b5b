"""A competition's ``sample_submission.csv``, followed exactly.

A leaderboard checks the submission against its template: the same columns, ids spelt
the same way (``0194010033`` or ``0194010033.png``), the same rows in the same order,
and values of the same kind (0/1 labels, ``real``/``fake`` words or probabilities). So
when a template is beside the test data (or given), the submission is the template with
its value column filled in; ids in the template without an image, and images without a
template row, are named instead of silently changing the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dflib.data.csvs import find_column, read_csv_text_ids
from dflib.data.layouts import (
    ID_COLUMNS,
    LABEL_COLUMNS,
    SPLIT_NAMES,
    DataError,
    child,
    split_csv,
    split_folder,
)
from dflib.imageio import is_image_file

TEMPLATE_NAMES = ("sample_submission.csv", "samplesubmission.csv", "sample_submission_file.csv",
                  "submission_format.csv", "sample.csv")  # fmt: skip
VALUE_COLUMNS = (*LABEL_COLUMNS, "prob", "probability", "score", "pred", "prediction")
WORDS = ("real", "fake")


@dataclass
class Template:
    """A submission template: its rows, its id and value columns, the kind of value."""

    path: Path
    frame: pd.DataFrame
    id_column: str
    value_column: str
    kind: str  # "label" (0/1), "word" (real/fake) or "prob"

    def describe(self) -> str:
        what = {"label": "0/1 labels", "word": "real/fake words", "prob": "probabilities"}
        return (f"followed {self.path.name}: columns {','.join(self.frame.columns)}, "
                f"{len(self.frame):,} rows in its order, {what[self.kind]} in {self.value_column!r}")  # fmt: skip


@dataclass
class Filled:
    """The submission made from a template, with what did not match."""

    frame: pd.DataFrame
    without_image: list[str] = field(default_factory=list)
    without_row: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        lines = []
        if self.without_image:
            lines.append(f"{len(self.without_image)} template id(s) have no image, filled with the "
                         f"training share of fakes: {', '.join(self.without_image[:10])}")  # fmt: skip
        if self.without_row:
            lines.append(f"{len(self.without_row)} image(s) have no template row and are not in the "
                         f"submission: {', '.join(self.without_row[:10])}")  # fmt: skip
        return lines


def find_template(root: Path) -> Path | None:
    """``sample_submission.csv`` (any case) in the data folder or its test folder, or
    beside the test folder when ``root`` is that folder itself."""
    above = root.parent if root.name.lower() in SPLIT_NAMES["test"] else None
    for folder in (root, split_folder(root, "test"), above):
        if folder is not None:
            found = child(folder, TEMPLATE_NAMES, is_dir=False)
            if found is not None:
                return found
    return None


def template_from_test_csv(root: Path, kind: str = "label") -> Template | None:
    """Without a sample submission, a ``test.csv`` (in the data folder, or beside the test
    folder given) gives the submission's ids as it spells them and its row order; the
    value column is ``label`` (0/1) or ``prob`` (``kind="prob"``)."""
    above = root.parent if root.name.lower() in SPLIT_NAMES["test"] else None
    path = next(
        (p for p in (split_csv(root, "test"), above and split_csv(above, "test")) if p), None
    )
    if path is None:
        return None
    try:
        frame, id_col = read_csv_text_ids(path)
    except DataError:
        return None
    value = "prob" if kind == "prob" else "label"
    return Template(path, frame[[id_col]].assign(**{value: 0}), id_col, value, kind)


def read_template(path: str | os.PathLike) -> Template:
    """Read a template: ids as text, the value column and its kind.

    Raises:
        DataError: not a file, no id column, or no column to fill; the message says which
            columns were found.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"submission template {str(path)!r} is not a file (--template FILE).")
    columns = list(pd.read_csv(path, nrows=0).columns)
    id_col = find_column(columns, ID_COLUMNS) or (columns[0] if columns else None)
    frame, id_col = read_csv_text_ids(path, id_col)
    others = [c for c in frame.columns if c != id_col]
    value = find_column(others, VALUE_COLUMNS) or (others[0] if len(others) == 1 else None)
    if value is None:
        raise DataError(
            f"{path.name} has columns {list(frame.columns)}: cannot tell which one to fill "
            f"(expected the id column and one of {list(VALUE_COLUMNS)})."
        )
    return Template(path, frame, id_col, value, _kind(frame[value]))


def _kind(values: pd.Series) -> str:
    text = values.dropna().astype(str).str.strip().str.lower()
    if len(text) and text.isin(WORDS).all():
        return "word"
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if (
        len(numbers) == len(values.dropna())
        and numbers.isin([0, 1]).all()
        and not (text.str.contains(r"\.").any())
    ):
        return "label"
    return "prob"


def template_key(image_id: str) -> str:
    """The id without an image extension: ``0194010033.png`` and ``0194010033`` match."""
    return Path(image_id).stem if is_image_file(image_id) else image_id


def fill(template: Template, ids, probs, threshold: float, prior: float) -> Filled:
    """The template with its value column computed from ``probs`` (one per id in ``ids``).

    Template ids without a prediction get ``prior`` (the training share of fakes), so
    the file stays complete; labels are ``prob >= threshold``.
    """
    lookup = pd.Series(np.asarray(probs, dtype=float), index=[template_key(str(i)) for i in ids])
    lookup = lookup[~lookup.index.duplicated()]
    keys = template.frame[template.id_column].map(template_key)
    found = keys.isin(lookup.index).to_numpy()
    prob = np.where(found, lookup.reindex(keys).to_numpy(), prior)
    frame = template.frame.copy()
    if template.kind == "prob":
        frame[template.value_column] = np.round(prob, 6)
    else:
        labels = (prob >= threshold).astype(int)
        frame[template.value_column] = (
            np.array(WORDS)[labels] if template.kind == "word" else labels
        )
    extra = sorted(set(lookup.index) - set(keys))
    missing = template.frame.loc[~found, template.id_column].tolist()
    return Filled(frame, missing, extra)


def write_filled(
    template: Template, ids, probs, threshold: float, prior: float, out: str | os.PathLike
) -> Path:
    """Write the template filled from ``probs`` into ``out`` and say which format it
    followed and what did not match (the one writer for ``predict`` and the notebooks)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    filled = fill(template, ids, probs, threshold, prior)
    filled.frame.to_csv(out, index=False)
    print(f"{out}: {template.describe()}")
    for line in filled.notes():
        print(line)
    return out
