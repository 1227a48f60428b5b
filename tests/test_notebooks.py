"""Notebook hygiene (parameters cell first, thin and paired twins) and a papermill run of each notebook with overrides.

``pytest --nbmake notebooks/`` runs every notebook at its declared smoke size; these
tests check the rules that keep notebooks thin, paired and parameterisable.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
from papermill.translators import PythonTranslator

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in PAIRS]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def parameters_cell(nb):
    return next(c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", []))


def test_every_notebook_has_its_twin():
    stems = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    assert PAIRS, "no notebooks found"
    assert stems == set(IDS), f"unpaired: {stems ^ set(IDS)}"


@pytest.mark.parametrize("path", PAIRS, ids=IDS)
def test_pair_in_sync(path):
    stored = nbformat.read(path, as_version=4)
    twin = jupytext.read(path.with_suffix(".py"))
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in twin.cells
    ], f"{path.name} differs from its .py twin: run `make sync`"
    for a, b in zip(stored.cells, twin.cells, strict=True):
        assert a.metadata.get("tags") == b.metadata.get("tags") and a.metadata.get(
            "nbmake"
        ) == b.metadata.get("nbmake")


@pytest.mark.parametrize("path", PAIRS, ids=IDS)
def test_no_outputs_and_kernelspec_kept(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in code_cells(nb):
        assert not cell.outputs and cell.execution_count is None, (
            f"{path.name} has outputs: strip them"
        )


@pytest.mark.parametrize("path", PAIRS, ids=IDS)
def test_parameters_cell_first_flat_and_commented(path):
    nb = nbformat.read(path, as_version=4)
    cells = code_cells(nb)
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and cells[0] is tagged[0], (
        "the first code cell must be the only `parameters` cell"
    )
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    names = []
    for line in lines:
        statement = ast.parse(line).body[0]
        assert isinstance(statement, ast.Assign), f"not an assignment: {line}"
        ast.literal_eval(statement.value)  # a flat literal, nothing derived
        assert "#" in line, f"parameter without a comment: {line}"
        assert line.split("=")[0].strip().islower()
        names.append(statement.targets[0].id)
    parsed = [p.name for p in PythonTranslator.inspect(tagged[0])]
    assert parsed == names, "papermill cannot read every parameter (avoid '=' in comments)"
    mock = tagged[0].metadata.get("nbmake", {}).get("mock", {})
    assert mock, "declare the CI smoke size in the parameters cell's nbmake mock metadata"
    assert set(mock) <= set(names)


@pytest.mark.parametrize("path", PAIRS, ids=IDS)
def test_no_definitions_or_loops(path):
    nb = nbformat.read(path, as_version=4)
    forbidden = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While)
    for cell in code_cells(nb):
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, forbidden), (
                f"{path.name}: {type(node).__name__} in a notebook; move it into dflib with a test"
            )


def run_with_papermill(
    path: Path, out: Path, parameters: dict, prepare_only: bool = False
) -> nbformat.NotebookNode:
    import papermill

    papermill.execute_notebook(str(path), str(out), parameters=parameters, cwd=str(path.parent),
                               progress_bar=False, prepare_only=prepare_only)  # fmt: skip
    return nbformat.read(out, as_version=4)


# notebooks that read finished runs, run here on read-only copies of them (11 is left out:
# its retrained run is keyed by its source's path, so a copy would train it again)
READS_RUNS = {"10_threshold_tuning": "run", "12_ensemble": "runs", "13_explain": "run",
              "16_robustness": "runs"}  # fmt: skip
READ_ONLY_GUARD = Path(__file__).resolve().parent / "fixtures" / "read_only"
# the training notebooks 04-09 run the same code cells (their template; a test below holds
# them to it): one of them runs on the user's folder, the others only take papermill's -p
TRAINING = [p for p in PAIRS if p.stem[:2] in {"04", "05", "06", "07", "08", "09"}]
RUNS_THE_TEMPLATE = "07_train_freqnet"
# on read-only runs a study's answers are not checked again (its nbmake run asserts them);
# what is checked is that it writes into none of its runs, so it does the least work that
# still reads each of them
LIGHTER = {"10_threshold_tuning": {"n_bootstrap": 10}, "12_ensemble": {"tta": False},
           "13_explain": {"max_images": 20, "n_show": 1}, "16_robustness": {"max_images": 16}}  # fmt: skip


def without_expectations(parameters: dict) -> dict:
    """The parameters without the ``expect_*`` answers of the CI size."""
    return {k: v for k, v in parameters.items() if not k.startswith("expect_")}


def read_only_copies(path: Path, values: dict, folder: Path) -> list[Path]:
    """The notebook's upstream runs (made first, as its nbmake run makes them), the first
    two copied into ``folder``: a study of several runs needs no more to show it writes into
    none of them (12 compares two; 16's third run would only add time)."""
    from dflib.train.plan import ensure_runs

    archs = values.get("make_archs", values.get("make_arch"))
    made = ensure_runs(values[READS_RUNS[path.stem]], archs, make_missing=True,
                       synthetic_size=values["make_size"], train_images=values["make_train_images"],
                       img_size=values["make_img_size"], epochs=values["make_epochs"],
                       finetune_epochs=0)  # fmt: skip
    return [
        Path(shutil.copytree(r.root, folder / r.name, ignore=shutil.ignore_patterns("tb")))
        for r in made[:2]
    ]


def file_hashes(folders: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha1(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("path", PAIRS, ids=IDS)
def test_papermill_with_overrides_on_user_data(path, tmp_path, messy_csv_folder, monkeypatch):
    """Each notebook runs headlessly with ``-p`` overrides, on a folder in a user's layout;
    one that reads finished runs reads them from a folder where every write fails (as root
    too: ``tests/fixtures/read_only``) and leaves every file of them as it was."""
    nb = nbformat.read(path, as_version=4)
    parameters = dict(parameters_cell(nb).metadata["nbmake"]["mock"])
    declared = __import__("papermill").translators.PythonTranslator.inspect(parameters_cell(nb))
    names = {p.name for p in declared}
    if "data_dir" in names:
        parameters["data_dir"] = str(messy_csv_folder)
        # a user's data is not held to the CI size's expected results, only to the invariants
        parameters = without_expectations(parameters)
    copies = []
    if path.stem in READS_RUNS:
        values = {p.name: ast.literal_eval(p.default) for p in declared} | parameters
        copies = read_only_copies(path, values, tmp_path / "input")
        parameters = without_expectations(parameters) | LIGHTER[path.stem]
        parameters |= {READS_RUNS[path.stem]: ",".join(map(str, copies)), "make_missing": False}
        monkeypatch.setenv("DFLIB_READ_ONLY", os.pathsep.join(map(str, copies)))
        monkeypatch.setenv("DFLIB_STUDIES", str(tmp_path / "studies"))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            filter(None, [str(READ_ONLY_GUARD), os.environ.get("PYTHONPATH")])))  # fmt: skip
    before = file_hashes(copies)
    # a notebook that reads neither a data folder nor runs would run here exactly as its
    # nbmake run does (the same CI values), and a training notebook other than the one that
    # runs the template would run the same code: only papermill's injection is checked
    same_as_nbmake = "data_dir" not in names and not copies
    same_code = path in TRAINING and path.stem != RUNS_THE_TEMPLATE
    executed = run_with_papermill(
        path, tmp_path / path.name, parameters, prepare_only=same_as_nbmake or same_code
    )
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "data_dir" in injected[0].source or "data_dir" not in names
    errors = [
        o
        for c in code_cells(executed)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert file_hashes(copies) == before
    if copies:  # what the study made went to its own folder
        assert any((tmp_path / "studies").rglob("*.png")) or any(
            (tmp_path / "studies").rglob("*.csv")
        )


def setup_cell(nb):
    """The second code cell: the setup cell (DESIGN.md's notebook rule 1)."""
    return code_cells(nb)[1]


def test_setup_cell_is_the_same_in_every_notebook():
    sources = {p.stem: setup_cell(nbformat.read(p, as_version=4)).source for p in PAIRS}
    first = sources[IDS[0]]
    assert "dflib_source" in first and "where_outputs_go()" in first
    assert [name for name, source in sources.items() if source != first] == []
    for path in PAIRS:
        names = [p.name for p in PythonTranslator.inspect(parameters_cell(nbformat.read(path, 4)))]
        assert "dflib_source" in names, f"{path.name}: the setup cell reads dflib_source"


def test_setup_cell_makes_no_pip_call_where_dflib_imports(monkeypatch, capsys):
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    source = setup_cell(nbformat.read(PAIRS[0], as_version=4)).source
    exec(compile(source, "setup cell", "exec"), {"dflib_source": ""})
    assert calls == []
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "runs go to" in printed[0]


def test_training_notebooks_are_written_from_their_template(script):
    """``make notebooks`` would change nothing: each training notebook is the template with
    its own fields, and a hand edit to one of them (or to the template alone) fails here."""
    notebooks = script("notebooks")
    assert sorted(notebooks.TRAINING) == [p.stem for p in TRAINING]
    assert RUNS_THE_TEMPLATE in notebooks.TRAINING, "the one run on a user's folder"
    assert notebooks.main(["--check"]) == 0
    edited = notebooks.TEMPLATE.read_text().replace("## Learning curves", "## Curves")
    assert all(
        notebooks.render(p.stem, edited) != p.with_suffix(".py").read_text() for p in TRAINING
    )
    code = [[c.source for c in code_cells(nbformat.read(p, as_version=4))[1:]] for p in TRAINING]
    assert all(cells == code[0] for cells in code), "the training notebooks' code cells differ"


def test_the_ci_size_expects_what_the_expectations_table_says(script):
    """Each notebook's nbmake mock holds exactly its row of ``scripts/expectations.py``'s
    CI table (``make notebooks`` writes it), and every value of either size's table is a
    parameter of its notebook, so no expectation is lost to a typo."""
    expectations = script("expectations")
    differ = {}
    for path in PAIRS:
        cell = parameters_cell(nbformat.read(path, as_version=4))
        mock = cell.metadata["nbmake"]["mock"]
        names = {p.name for p in PythonTranslator.inspect(cell)}
        expected = {k: v for k, v in mock.items() if k.startswith("expect_")}
        if expected != expectations.CI.get(path.stem, {}):
            differ[path.stem] = expected
        for table in expectations.SIZES.values():
            assert set(table.get(path.stem, {})) <= names, f"{path.stem}: not a parameter"
    assert differ == {}, "the nbmake mock differs from scripts/expectations.py: make notebooks"
    assert set(expectations.CI) | set(expectations.DEMO) <= set(IDS)
    notebooks = script("notebooks")
    edited = notebooks.with_expectations((NOTEBOOKS / "10_threshold_tuning.py").read_text(),
                                         {"expect_val_auc_min": 0.5})  # fmt: skip
    assert '"expect_val_auc_min": 0.5}}' in edited and '"run": "smoke-freqnet"' in edited


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_passes_the_demo_table(script):
    """``make demo`` (printed, not run: ``make -n``) passes each notebook the values of the
    expectations table's demo size and no others."""
    import json
    import shlex
    import subprocess
    import sys

    expectations = script("expectations")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "-n", "-C", str(NOTEBOOKS.parent), f"PYTHON={sys.executable}",
                          "demo"], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    commands = [shlex.split(c) for c in dry.stdout.replace("\\\n", " ").splitlines()
                if "papermill" in c]  # fmt: skip
    assert len(commands) == 3
    for words in commands:
        stem = Path(next(w for w in words if w.endswith(".ipynb"))).stem
        given = {}
        for flag, value in zip(words, words[1:], strict=False):
            if flag == "-y":
                given |= json.loads(value)
            elif flag == "-p" and value.startswith("expect_"):
                given[value] = "by hand"
        assert given == expectations.DEMO.get(stem, {}), stem


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_demo_holds_every_training_notebook_to_a_measured_floor(script):
    """``make test-demo`` (printed, not run: it takes an hour) runs each training notebook
    at the demo regime with the demo table's floor, and each floor lies between the 99th
    percentile of label-shuffled predictions and the AUC of the ledger's seed-42 run of
    that regime (the run the floor was read from), or is absent where that run did not
    learn."""
    import json
    import shlex
    import subprocess
    import sys

    import pandas as pd

    from dflib.metrics import learning

    expectations, notebooks = script("expectations"), script("notebooks")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "-n", "-C", str(NOTEBOOKS.parent), f"PYTHON={sys.executable}",
                          "test-demo"], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert dry.returncode == 0 and "scripts/expectations.py test-demo" in dry.stdout
    assert expectations.TEST_DEMO == [p.stem for p in TRAINING]
    ledger = NOTEBOOKS.parent / "reports" / "runs"
    for name in expectations.TEST_DEMO:
        words = shlex.split(expectations.demo_tier_args(name))
        given = dict(zip(words[::2], words[1::2], strict=True))
        assert json.loads(given["-y"]) == expectations.DEMO[name]
        run = ledger / f"claims-arch-{notebooks.TRAINING[name].arch}-s42"
        params = json.loads((run / "params.json").read_text())
        regime = {k: params[k] for k in ("synthetic_size", "img_size", "epochs", "finetune_epochs")}
        assert regime == {
            "synthetic_size": "demo",
            "img_size": 64,
            "epochs": 3,
            "finetune_epochs": 0,
        }
        val = pd.read_csv(run / "predictions_val.csv.gz")
        found, floor = (
            learning(val["label"], val["prob"]),
            expectations.DEMO[name]["expect_val_auc_min"],
        )
        if floor is None:
            assert found.auc <= found.floor, f"{name}: its run learned, so it needs a floor"
        else:
            assert found.floor < floor <= found.auc, name
