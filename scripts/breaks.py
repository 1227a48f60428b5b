"""Each notebook's checks against a wrong answer: the library broken once per notebook.

A check that cannot fail proves nothing. Each entry of :data:`BREAKS` changes one line of
``dflib`` so that a notebook still runs but answers its question wrongly (the labels of a
probe swapped, a calibration that returns its input, a held-out family leaked into
training, ...). The notebook then runs at the CI size (its nbmake mock, the values of
``scripts/expectations.py``'s CI table; one training notebook at the demo size of
``make test-demo``, where its floor is set) on a copy of the library with that one change,
in folders of its own (runs, studies), and must stop in its checks with ``CheckFailed`` on
the row named beside the break. The table of what happened is written to
``reports/notebook_breaks.md``.

    make breaks                                     # every break (about 15 min on 2 cores)
    make breaks BREAKS="10_threshold_tuning 12_ensemble"

The unbroken library passes every one of these checks: that is ``make test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from expectations import DEMO, DEMO_TIER

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "notebook_breaks.md"


@dataclass(frozen=True)
class Break:
    """One line of ``dflib`` changed so that ``notebook`` answers wrongly."""

    notebook: str  # stem under notebooks/
    file: str  # under the project root
    old: str  # occurs exactly once in ``file``
    new: str
    what: str  # the wrong answer it causes, in a few words
    row: str  # the checks row expected to fail (a part of its label)
    size: str = "ci"  # "ci": the nbmake mock; "demo": make test-demo's size and floors


# the training template's break (notebooks 04-09 share their code cells)
INVERTED_LABELS = ("dflib/train/loop.py", "loss = loss_fn(logits, labels)",
                   "loss = loss_fn(logits, 1 - labels)")  # fmt: skip

BREAKS: list[Break] = [
    Break(
        "01_eda",
        "dflib/filters/noise_stats.py",
        'return int(enough["tol"].min())',
        'return int(enough["tol"].max())',
        "the tolerance recommended: the largest that catches enough noise, not the smallest",
        "recommended tolerance",
    ),
    Break(
        "02_filter_comparison",
        "dflib/filters/kernels.py",
        "lowest = _min(lowest, shifted[..., ch : ch + 1])",
        "lowest = _max(lowest, shifted[..., ch : ch + 1])",
        "the coherent filter's channel masks AND-ed, not OR-ed (a pixel repaired only when all three channels are hit)",
        "filters by PSNR, best first",
    ),
    Break(
        "03_fft_visualisation",
        "dflib/spectral/profile_probe.py",
        "model = _pipeline(c, seed).fit(x[train], y[train])",
        "model = _pipeline(c, seed).fit(x[train], 1 - y[train])",
        "the profile probe trained on swapped labels",
        "profile-probe AUC, unfiltered",
    ),
    Break(
        "07_train_freqnet",
        *INVERTED_LABELS,
        "training against inverted labels (the template of 04-09)",
        "val AUC",
    ),
    Break(
        "05_train_deepfakenet",
        *INVERTED_LABELS,
        "training against inverted labels, at the demo size (its floor: make test-demo)",
        "val AUC",
        size="demo",
    ),
    Break(
        "10_threshold_tuning",
        "dflib/decide/threshold.py",
        "return expit(_logits(prob) / self.temperature)",
        "return expit(_logits(prob))",
        "temperature scaling returns its input",
        "ECE removed by temperature scaling, hidden test",
    ),
    Break(
        "11_pseudo_labeling",
        "dflib/decide/pseudo.py",
        "label[fakes], label[reals] = 1, 0",
        "label[fakes], label[reals] = 0, 1",
        "the pseudo-labels swapped",
        "true purity - accuracy at 0.5 on every test image",
    ),
    Break(
        "12_ensemble",
        "dflib/decide/ensemble.py",
        "return str(self.table[column].astype(float).idxmax())",
        "return str(self.table[column].astype(float).idxmin())",
        "the method chosen by the lowest validation F1",
        "the best single run's",
    ),
    Break(
        "13_explain",
        "dflib/study/explain.py",
        "LayerGradCam(lambda inputs: fake_logit(",
        "LayerGradCam(lambda inputs: -fake_logit(",
        "Grad-CAM of the real logit, not the fake one",
        "fakes' CAM mass inside the region / its share of the image",
    ),
    Break(
        "14_cross_generator",
        "dflib/train/inputs.py",
        'frame["family"].astype(str).isin(families)',
        'frame["family"].astype(str).isin(families) | fakes',
        "every fake kept by select_families: the held-out family leaks into training",
        "fakes of the held-out family in the held-out runs' validation",
    ),
    Break(
        "15_leaderboard",
        "dflib/study/claims.py",
        "return run.img_size == level.img_size",
        "return True or run.img_size == level.img_size",
        "a reported level judged by runs of any regime",
        "verdicts expected at this size",
    ),
    Break(
        "16_robustness",
        "dflib/study/robustness.py",
        '("blur", blur_sigmas, {})',
        '("blur", [s / 10 for s in numbers(blur_sigmas)], {})',
        "blur at a tenth of its sigma",
        "least AUC fall of",
    ),
]


def broken_library(brk: Break, folder: Path) -> None:
    """A copy of ``dflib`` under ``folder`` with the break applied; refuses a break whose
    text is not found exactly once (the library moved on: update the break)."""
    copy = folder / "dflib"
    shutil.copytree(ROOT / "dflib", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / brk.file
    text = target.read_text()
    if text.count(brk.old) != 1:
        raise SystemExit(
            f"break of {brk.notebook}: {brk.old!r} occurs {text.count(brk.old)} times in "
            f"{brk.file}, not once; update it in scripts/breaks.py"
        )
    target.write_text(text.replace(brk.old, brk.new))


def parameters(brk: Break) -> dict:
    """The notebook's parameters at the break's size: the CI size is the nbmake mock of its
    parameters cell; the demo size is what ``make test-demo`` passes (its expectations
    from the DEMO table)."""
    if brk.size == "demo":
        return DEMO_TIER | DEMO.get(brk.notebook, {})
    nb = nbformat.read(ROOT / "notebooks" / f"{brk.notebook}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return dict(cell.metadata["nbmake"]["mock"])


def run_broken(brk: Break, folder: Path) -> tuple[str, str, float]:
    """Run the notebook on the broken copy; (outcome, the error's text, seconds)."""
    broken_library(brk, folder)
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
        "DFLIB_RUNS": str(folder / "runs"),
        "DFLIB_STUDIES": str(folder / "studies"),
        "OMP_NUM_THREADS": "1",  # as make test trains
    }
    out = folder / f"{brk.notebook}.ipynb"
    command = [sys.executable, "-m", "papermill", "--no-progress-bar", "--cwd", "notebooks",
               f"notebooks/{brk.notebook}.ipynb", str(out),
               "-y", json.dumps(parameters(brk))]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if not out.exists():
        return "did not start", "", seconds
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    failing = next((c for c in cells for o in c.get("outputs", [])
                    if o.get("output_type") == "error"), None)  # fmt: skip
    if failing is None:
        return "passed its checks", "", seconds
    error = next(o for o in failing.outputs if o.get("output_type") == "error")
    named = " ".join(error.get("evalue", "").split())
    if error.get("ename") != "CheckFailed":
        return f"failed with {error.get('ename')}", named, seconds
    # the failed row's line of the checks table the cell printed (its value and bounds)
    printed = "".join(
        o.get("text", "") for o in failing.outputs if o.get("output_type") == "stream"
    )
    lines = [" ".join(x.split()) for x in printed.splitlines() if brk.row in x]
    line = next((x for x in lines if x.endswith("FAILED")), lines[0] if lines else named)
    return ("failed its row" if brk.row in named else "failed another row"), line, seconds


def report(results: list[tuple[Break, str, str, float]], command: str) -> str:
    lines = ["# Each notebook's checks against a wrong answer", "",
             "The library broken once per notebook (one line of `dflib`), the notebook run at "
             "the CI size on that copy: each must stop in its checks with `CheckFailed` on the "
             "row that states its answer. The training notebooks 04-09 share one template "
             "(`notebooks/templates/training.py`), so one break of training is run on 07 at "
             "the CI size, where it has a learned floor, and on 05 at the demo size of `make "
             "test-demo` (the others' floors are the same row of the same code at that size)."
             " Each notebook's outputs, runs and studies go to a folder of its own; notebook "
             "15 reads the project's `runs/smoke-claims` (its `runs_dir` is relative to the "
             "project root), trained once if missing: its break is in the judging.", "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
             "", "| notebook | break | expected row | outcome | the failed row | s |",
             "|---|---|---|---|---|---:|"]  # fmt: skip
    for brk, outcome, text, seconds in results:
        where = f"{brk.what} (`{brk.file}`)"
        shown = text[:200].replace("|", "\\|")
        lines.append(f"| {brk.notebook} | {where} | {brk.row} | {outcome} | {shown} | "
                     f"{seconds:.0f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    chosen = sorted((b for b in BREAKS if not argv or b.notebook in argv), key=lambda b: b.notebook)
    unknown = set(argv) - {b.notebook for b in BREAKS}
    if unknown:
        raise SystemExit(f"no break for {sorted(unknown)}; known: {[b.notebook for b in BREAKS]}")
    results = []
    for brk in chosen:
        with tempfile.TemporaryDirectory(prefix=f"dflib-break-{brk.notebook}-") as folder:
            outcome, text, seconds = run_broken(brk, Path(folder))
        print(f"{brk.notebook}: {outcome} ({seconds:.0f} s) {text[:300]}", flush=True)
        results.append((brk, outcome, text, seconds))
    if not argv:  # the whole table: the report
        REPORT.write_text(report(results, "make breaks"))
        print("wrote", REPORT.relative_to(ROOT))
    return 0 if all(r[1] == "failed its row" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
