"""A notebook's own answers, asserted where a reader sees them.

Every numbered notebook ends with a checks section. Running is not enough: a change that
stops a model from learning, swaps the classes in a figure or breaks the threshold search
still runs. So each notebook states what must hold - invariants true on any data and any
size, and its own answers as expected at the sizes this project runs (parameters named
``expect_*``, empty by default so a user's own run is not held to smoke numbers; their
values per size live in ``scripts/expectations.py``, written into the nbmake ``mock``
metadata beside the smoke size) - and :meth:`Checks.done` prints them as a table and
raises if any failed, so ``pytest --nbmake`` fails on the answer, not on a traceback. A
row that no change of the code it checks could fail (an identity of the library) is a
unit test instead.

>>> checks = Checks()
>>> _ = checks.expect("fake share", 0.17, low=0.15, high=0.19).expect("nothing asked", 0.5)
>>> _ = checks.true("clean AUC equals the run's own", True)
>>> checks.failed()
[]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from dflib.metrics import learning


class CheckFailed(AssertionError):
    """A notebook's answer is not what it should be; the message names each check."""


@dataclass
class Checks:
    """The checks of one notebook, in the order they were stated."""

    rows: list[dict] = field(default_factory=list)

    def expect(
        self,
        name: str,
        value,
        low: float | None = None,
        high: float | None = None,
        *,
        equals=None,
        tol: float = 0.0,
    ) -> Checks:
        """``value`` within ``[low, high]`` (a bound left ``None`` is not checked), or equal
        to ``equals`` (within ``tol`` for numbers). With nothing to compare against (an
        ``expect_*`` parameter left empty) the row is shown as not checked."""
        if equals is not None:
            expected = f"= {equals}" + (f" ± {tol:g}" if tol else "")
            ok = _equal(value, equals, tol)
        elif low is None and high is None:
            expected, ok = "(not checked at this size)", None
        else:
            expected = _interval(low, high)
            ok = (
                _number(value) and (low is None or value >= low) and (high is None or value <= high)
            )
        ok = None if ok is None else bool(ok)  # a NumPy bool is not ``False``
        self.rows.append({"check": name, "value": _shown(value), "expected": expected, "ok": ok})
        return self

    def true(self, name: str, condition: bool) -> Checks:
        """An invariant: ``condition`` must hold."""
        self.rows.append({"check": name, "value": bool(condition), "expected": "True",
                          "ok": bool(condition)})  # fmt: skip
        return self

    def learned_auc(self, name: str, y_true, prob, floor: float | None) -> Checks:
        """A learned result: the AUC of ``prob`` at least ``floor``, and ``floor`` itself above
        the 99th percentile of the AUC that label-shuffled predictions reach on the same set
        (:func:`dflib.metrics.learning`, the rule the studies use for "not learned";
        printed), so that a model which learned nothing cannot pass: a floor at or below
        that percentile is itself a failed check."""
        found = learning(y_true, prob)
        print(f"{name} of label-shuffled predictions, 99th percentile: {found.floor:.3f}")
        self.expect(f"the {name} floor clears chance (shuffled 99th pct)", found.floor, high=floor)
        return self.expect(name, found.auc, low=floor)

    def table(self) -> pd.DataFrame:
        """check / value / expected / ok (``ok`` is ``-`` where nothing was checked)."""
        frame = pd.DataFrame(self.rows, columns=["check", "value", "expected", "ok"])
        frame["ok"] = frame["ok"].map({True: "ok", False: "FAILED", None: "-"})
        return frame

    def failed(self) -> list[str]:
        """The names of the checks that failed."""
        return [row["check"] for row in self.rows if row["ok"] is False]

    def done(self) -> pd.DataFrame:
        """Print the table; raise :class:`CheckFailed` naming each failed check.

        Raises:
            CheckFailed: at least one check failed.
        """
        table = self.table()
        print(table.to_string(index=False))
        failed = self.failed()
        if failed:
            raise CheckFailed(
                f"{len(failed)} of {len(self.rows)} checks failed: {'; '.join(failed)}"
            )
        return table


def _number(value) -> bool:
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _equal(value, expected, tol: float) -> bool:
    if _number(value) and _number(expected):
        return abs(float(value) - float(expected)) <= tol
    return value == expected


def _interval(low, high) -> str:
    if low is not None and high is not None:
        return f"in [{low:g}, {high:g}]"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def _shown(value):
    return round(float(value), 4) if _number(value) and not isinstance(value, bool | int) else value
