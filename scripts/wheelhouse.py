"""A folder of wheels that installs dflib where pip reaches no index (``make wheelhouse``).

Kaggle's code-competition notebooks run with the internet off, so ``pip install -r
requirements.txt`` cannot run there. This writes dflib's own wheel and a wheel of every
package its requirements need, except torch and torchvision (the platforms ship them,
built for their GPUs) and what only those two need (triton, the nvidia-* libraries,
sympy...), into one folder. Attached to a notebook as a dataset, it installs with::

    pip install --no-index --find-links /kaggle/input/<wheels> dflib

pip keeps every package already installed that meets dflib's floors (Kaggle's numpy,
pandas, scikit-learn...), so the other wheels are there only for what the platform lacks
or holds below a floor (kornia, captum, tabulate here, for instance).

The wheels are for CPython on manylinux x86_64 (glibc 2.35: Ubuntu 22.04, Kaggle's and
Colab's images) and the Python version(s) given: 3.11 by default, Kaggle's Python
(Colab's is 3.12; ``!python --version`` in a cell says which; ``--python-version`` may be
given more than once). How: build dflib's wheel; let pip resolve it for that target
(``pip install --dry-run --report``: metadata only, nothing installed); follow the
requirements from dflib, never past torch and torchvision, with environment markers read
for the target; ``pip download --no-deps`` each package reached at the version pip chose;
then check that no torch, torchvision, triton or nvidia wheel is in the folder.

    python scripts/wheelhouse.py                         # -> build/wheelhouse
    python scripts/wheelhouse.py --out /tmp/wheels --python-version 3.11 --python-version 3.12
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
# what the platforms ship, built for their own GPUs and CUDA: never in the wheelhouse
PROVIDED = ("torch", "torchvision")
# wheels that would mean a torch slipped in (its GPU libraries and compiler)
FORBIDDEN = ("torch", "torchvision", "torchaudio", "triton", "pytorch-triton")
FORBIDDEN_PREFIXES = ("nvidia-",)
DEFAULT_PYTHON = "3.11"  # Kaggle's
GLIBC = (2, 35)  # Ubuntu 22.04: Kaggle's and Colab's images


def platforms(glibc: tuple[int, int] = GLIBC, arch: str = "x86_64") -> list[str]:
    """Every manylinux tag a machine with ``glibc`` accepts (pip does not expand them)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc[1], 4, -1)]
    return tags + [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def target_options(python: str) -> list[str]:
    """pip's options that pick wheels for CPython ``python`` on manylinux x86_64."""
    abi = "cp" + python.replace(".", "")
    options = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    options += ["--abi", abi]
    for tag in platforms():
        options += ["--platform", tag]
    return options


def marker_environment(python: str) -> dict[str, str]:
    """Environment markers as they read on the target (CPython ``python``, Linux x86_64)."""
    return {
        "python_version": python, "python_full_version": f"{python}.0",
        "implementation_name": "cpython", "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython", "os_name": "posix",
        "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
        "platform_release": "", "platform_version": "",
    }  # fmt: skip


def needed(report: dict, root: str, python: str) -> dict[str, str]:
    """The packages ``root`` needs on the target, as ``{name: version}``, from a pip
    resolution report: its requirements followed, with markers read for ``python``,
    never past :data:`PROVIDED`.

    Raises:
        SystemExit: the target needs a package pip's resolution lacks (pip reads markers
            for the Python it runs on: run this script with the target's Python).
    """
    resolved = {canonicalize_name(item["metadata"]["name"]): item for item in report["install"]}
    environment = marker_environment(python)
    found: dict[str, str] = {}
    todo = [(canonicalize_name(root), frozenset())]
    seen = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name in PROVIDED:
            continue
        seen.add((name, extras))
        if name not in resolved:
            raise SystemExit(
                f"the target (Python {python}) needs {name}, which pip's resolution for "
                f"Python {platform.python_version()} left out (markers are read for the "
                f"running Python): run this script with Python {python}"
            )
        found[name] = resolved[name]["metadata"]["version"]
        for line in resolved[name]["metadata"].get("requires_dist", []):
            requirement = Requirement(line)
            if requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in ("", *extras)
            ):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return found


def forbidden(folder: Path) -> list[str]:
    """The wheels in ``folder`` that must not be there (torch, torchvision, nvidia...)."""
    names = []
    for wheel in sorted(folder.glob("*.whl")):
        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        if name in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES):
            names.append(wheel.name)
    return names


def pip(*args: str, quiet: bool = True) -> None:
    command = [sys.executable, "-m", "pip", *args, *(["--quiet"] if quiet else [])]
    print("$", " ".join(command[:8]), "..." if len(command) > 8 else "", flush=True)
    subprocess.run(command, check=True)


def build(out: Path, pythons: list[str]) -> list[Path]:
    """Write the wheelhouse into ``out`` (its old wheels removed first); its wheels."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.whl"):
        old.unlink()
    pip("wheel", "--no-deps", "--wheel-dir", str(out), str(ROOT))
    (own,) = out.glob("dflib-*.whl")
    for python in pythons:
        with tempfile.TemporaryDirectory() as scratch:
            report_path = Path(scratch) / "report.json"
            # --target: pip accepts target options only for an install elsewhere; with
            # --dry-run nothing is written there
            pip("install", "--dry-run", "--ignore-installed", "--report", str(report_path),
                "--target", str(Path(scratch) / "never-written"), *target_options(python),
                str(own))  # fmt: skip
            report = json.loads(report_path.read_text())
        packages = needed(report, "dflib", python)
        packages.pop("dflib")
        pins = [f"{name}=={version}" for name, version in sorted(packages.items())]
        print(f"Python {python}: {len(pins)} packages besides dflib: {' '.join(pins)}")
        pip("download", "--no-deps", "--dest", str(out), *target_options(python), *pins)
    slipped = forbidden(out)
    if slipped:
        raise SystemExit(f"{out} holds wheels the platforms ship (torch and its GPU "
                         f"libraries), removed nothing: {', '.join(slipped)}")  # fmt: skip
    return sorted(out.glob("*.whl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "wheelhouse"),
                        help="the folder to write (its *.whl are replaced)")  # fmt: skip
    parser.add_argument("--python-version", action="append", dest="pythons", metavar="X.Y",
                        help=f"the target's Python (default {DEFAULT_PYTHON}, Kaggle's); "
                        "repeat for several")  # fmt: skip
    args = parser.parse_args(argv)
    out = Path(args.out).expanduser().resolve()
    pythons = args.pythons or [DEFAULT_PYTHON]
    wheels = build(out, pythons)
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"{out}: {len(wheels)} wheels, {size:.0f} MiB, for CPython {', '.join(pythons)} on "
          f"manylinux x86_64 (glibc {GLIBC[0]}.{GLIBC[1]}); no torch, torchvision or nvidia wheel")  # fmt: skip
    print(f"install: pip install --no-index --find-links {out} dflib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
