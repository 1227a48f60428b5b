"""The package's shape: no import cycle between modules, one line per module in each
package's docstring, the layer contract.

The import graph counts every import statement, at module level and inside functions
(lazy imports run too, just later), and resolves ``from dflib.x import y`` to the module
``dflib.x.y`` when ``y`` is one, to ``dflib.x`` otherwise.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dflib"


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name of every ``.py`` file under ``package`` (``__init__`` names the package)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the graph (None: outside it)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: modules it imports}`` over the modules of ``package``."""
    modules = module_names(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(_resolve(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the containing package, up level - 1
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    targets.add(_resolve(f"{source}.{alias.name}", modules))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert len(graph) > 30
    # lazy imports inside functions
    assert "dflib.synthetic.fake" in graph["dflib.synthetic.rendering"]
    assert "dflib.synthetic.io" in graph["dflib.data.tables"]
    # `from dflib.filters import kernels` is the module, `from dflib import synthetic` the package
    assert "dflib.filters.kernels" in graph["dflib.filters.named"]
    assert "dflib.synthetic" in graph["dflib.filters.noise_stats"]
    # relative imports of the model registry
    assert "dflib.models._registry" in graph["dflib.models"]


def test_cycle_finder_reports_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg import c\n")
    (package / "c.py").write_text("from . import a\n")
    graph = import_graph(package)
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("import pkg.sub\n")
    assert find_cycle(import_graph(package)) is None


def test_no_import_cycle_between_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layer_contract():
    command = shutil.which("lint-imports")
    if command is None:
        pytest.skip("import-linter is not installed")
    run = subprocess.run(
        [command, "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout and "KEPT" in run.stdout, run.stdout


def test_each_package_docstring_names_its_modules():
    """A package's docstring lists every module it holds (one line each), and only those:
    a module added, moved or removed updates the line that names it."""
    import importlib
    import re

    for init in sorted(PACKAGE.glob("*/__init__.py")):
        package = f"dflib.{init.parent.name}"
        doc = importlib.import_module(package).__doc__ or ""
        held = {p.stem for p in init.parent.glob("*.py") if not p.stem.startswith("_")}
        named = set(re.findall(rf"{re.escape(package)}\.(\w+)", doc))
        assert held <= named, f"{package}'s docstring does not name {sorted(held - named)}"
        present = {p.stem for p in init.parent.glob("*.py")} | {
            p.name for p in init.parent.iterdir() if p.is_dir()
        }
        stale = named - present
        assert not stale, f"{package}'s docstring names modules it lacks: {sorted(stale)}"
