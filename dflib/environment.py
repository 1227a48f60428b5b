"""Where dflib runs: the project root, the platform (Kaggle, Colab, local) and its paths.

Notebooks are started from different folders by Jupyter, nbmake and papermill, so every
path a user types is resolved here, relative to the project root, never to the cwd.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

from filelock import FileLock

ROOT_ENV = "DFLIB_ROOT"
CACHE_ENV = "DFLIB_CACHE"
RUNS_ENV = "DFLIB_RUNS"
STUDIES_ENV = "DFLIB_STUDIES"
# where Colab keeps a session's files: its VM's own disk, wiped when the runtime is recycled
COLAB_CONTENT = Path("/content")
COLAB_DRIVE_RUNS = "/content/drive/MyDrive/dflib/runs"


def platform_name() -> str:
    """Return ``"kaggle"``, ``"colab"`` or ``"local"``."""
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE") or Path("/kaggle/working").is_dir():
        return "kaggle"
    if (
        os.environ.get("COLAB_RELEASE_TAG")
        or Path("/content").is_dir()
        and _has_module("google.colab")
    ):
        return "colab"
    return "local"


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def project_root() -> Path:
    """The folder holding ``notebooks/`` and ``dflib/``.

    Order: ``$DFLIB_ROOT``; the nearest parent of the cwd that holds ``notebooks/`` and
    ``pyproject.toml``; the parent of the installed package (editable installs); the cwd.
    """
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).expanduser().resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "notebooks").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    package_parent = Path(__file__).resolve().parent.parent
    if (package_parent / "pyproject.toml").is_file():
        return package_parent
    return cwd


def split_names(value: str | list | tuple) -> list[str]:
    """The items of a comma list as a notebook parameter or a flag gives it
    (``"freqnet, rgb_fft"``), or of a list, as stripped text; blanks dropped (``""`` is none).
    Every comma list a user types is read here."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def resolve_path(path: str | os.PathLike) -> Path:
    """Resolve a user path: absolute paths and ``~`` as given, others from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (project_root() / p).resolve()


def cache_dir(create: bool = True) -> Path:
    """Where generated data and preprocessed arrays live (``$DFLIB_CACHE`` overrides).

    Kaggle's ``/kaggle/working`` is a 20 GB output quota, so caches go to ``/tmp``
    there; Colab uses ``/content``; locally ``$XDG_CACHE_HOME/dflib`` (``~/.cache/dflib``).
    The folder is made unless ``create`` is ``False`` (a report that only names it).
    """
    if os.environ.get(CACHE_ENV):
        path = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        path = {
            "kaggle": Path("/tmp/dflib-cache"),
            "colab": Path("/content/dflib-cache"),
        }.get(platform_name())
        if path is None:
            xdg = os.environ.get("XDG_CACHE_HOME")
            path = (Path(xdg) if xdg else Path.home() / ".cache") / "dflib"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def output_dir() -> Path:
    """Where run folders go (``$DFLIB_RUNS`` overrides).

    Kaggle: ``/kaggle/working/runs``, saved with the notebook's output. Colab:
    ``/content/runs``, chosen here rather than left to the working folder or the install
    mode, and on a disk Colab wipes: :func:`where_outputs_go` says so and how to keep runs
    on Drive. Elsewhere ``<root>/runs``.
    """
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV]).expanduser()
    where = platform_name()
    if where == "kaggle":
        return Path("/kaggle/working/runs")
    if where == "colab":
        return COLAB_CONTENT / "runs"
    return project_root() / "runs"


def studies_dir() -> Path:
    """Where the notebooks that read finished runs (10-16) write what they make
    (``$DFLIB_STUDIES`` overrides): ``studies/`` beside the runs folder.

    A finished run folder is read-only input - on Kaggle it is another notebook's output,
    mounted under ``/kaggle/input`` - so thresholds, submissions, figures and tables go
    here, one folder per study and run (:func:`study_folder`).
    """
    if os.environ.get(STUDIES_ENV):
        return Path(os.environ[STUDIES_ENV]).expanduser()
    return output_dir().parent / "studies"


def study_folder(study: str, name: str, create: bool = True) -> Path:
    """``<studies>/<study>/<name>``: one study's outputs for one run (or one set of runs),
    e.g. ``study_folder("threshold", "demo-freqnet")``; made unless ``create`` is False."""
    folder = studies_dir() / study / name
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def where_outputs_go() -> str:
    """One line a notebook prints first: where runs, studies and caches go here, and on
    Colab that its disk is wiped with the runtime and how to keep runs on Drive."""
    where, runs = platform_name(), output_dir()
    line = (
        f"dflib {_version()} ({where}): runs go to {runs}, "
        f"study outputs to {studies_dir()}, caches to {cache_dir(create=False)}"
    )
    if where == "kaggle" and not os.environ.get(RUNS_ENV):
        return line + " (/kaggle/working is saved with the notebook's output)"
    on_vm = runs.is_relative_to(COLAB_CONTENT) and not runs.is_relative_to(COLAB_CONTENT / "drive")
    if where == "colab" and on_vm:
        return line + (
            ". Colab wipes this VM's disk when it recycles the runtime: to keep runs, mount "
            "Drive (from google.colab import drive; drive.mount('/content/drive')) and set "
            f"os.environ['{RUNS_ENV}'] = '{COLAB_DRIVE_RUNS}' before training (or pass "
            "-p out <a folder on Drive>)"
        )
    return line


def _version() -> str:
    from dflib import __version__

    return __version__


class RestartNeeded(RuntimeError):
    """pip changed a package this kernel had already imported: the running kernel holds
    the old one, so only a restart makes the two agree."""


def check_install(report: str | os.PathLike, imported_before: set[str]) -> list[str]:
    """After a notebook's setup cell installed dflib: what pip installed (its ``--report``
    JSON), as ``name==version`` lines, or :class:`RestartNeeded` naming each package this
    kernel had imported before pip replaced it.

    Args:
        report: pip's installation report (``pip install --report FILE``).
        imported_before: ``set(sys.modules)`` just before pip ran.
    """
    import importlib.metadata
    import json

    installed = json.loads(Path(report).read_text()).get("install", [])
    changed = {item["metadata"]["name"]: item["metadata"]["version"] for item in installed}
    modules = importlib.metadata.packages_distributions()
    stale = sorted(
        {
            f"{name} (now {version})"
            for module, names in modules.items()
            if module in imported_before
            for name in names
            for wanted, version in changed.items()
            if _same_name(name, wanted)
        }
    )
    if stale:
        raise RestartNeeded(
            f"pip installed {', '.join(stale)}, which this kernel had already imported in "
            "an older version; the running kernel keeps the old one. Restart it (Colab: "
            "Runtime > Restart session; Kaggle: Run > Restart & clear cell outputs), then "
            "run all again: the setup cell then finds dflib installed and installs nothing."
        )
    return [f"{name}=={version}" for name, version in sorted(changed.items())]


def _same_name(a: str, b: str) -> bool:
    """Distribution names as pip compares them (PEP 503: case, ``-``, ``_``, ``.``)."""
    import re

    return re.sub(r"[-_.]+", "-", a).lower() == re.sub(r"[-_.]+", "-", b).lower()


def existing_parent(path: str | os.PathLike) -> Path:
    """``path`` if it exists, else its nearest existing parent: the folder whose
    permission decides whether ``path`` can be made."""
    folder = Path(path).expanduser().absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def writable(path: str | os.PathLike) -> bool:
    """Whether this process may create ``path`` (or write in it): the permission of
    :func:`existing_parent`. A read-only mount (Kaggle's ``/kaggle/input``) says no even
    to root."""
    folder = existing_parent(path)
    return folder.is_dir() and os.access(folder, os.W_OK)


def kaggle_input_dirs() -> list[Path]:
    """Datasets attached to a Kaggle notebook (``/kaggle/input/*``), empty elsewhere."""
    base = Path("/kaggle/input")
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def num_workers(requested: int | None = None) -> int:
    """DataLoader / pool workers: the request, else one per core the process may use."""
    if requested is not None and requested >= 0:
        return requested
    return available_cores()


def available_cores(cgroup: str | os.PathLike = "/sys/fs/cgroup") -> int:
    """The cores this process may use: its affinity mask (``taskset``, a scheduler's
    cpuset), capped by its cgroup's CPU quota rounded up (a container's ``--cpus``).

    Neither is the host's core count, which is what a container with a quota sees from
    ``os.cpu_count()``: threads beyond the quota only wait for each other.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    quota = cpu_quota(cgroup)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def cpu_quota(cgroup: str | os.PathLike = "/sys/fs/cgroup") -> float | None:
    """CPUs' worth of time per period the cgroup allows (``cpu.max`` under cgroup v2,
    ``cpu/cpu.cfs_quota_us`` over ``cpu.cfs_period_us`` under v1), ``None`` without one."""
    root = Path(cgroup)
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not quota.lstrip("-").isdigit() or not period.isdigit():
        return None
    return int(quota) / max(int(period), 1)


def cpu_name() -> str:
    """The CPU model, for benchmark reports (``/proc/cpuinfo``, else ``platform``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def file_lock(what: str | os.PathLike) -> FileLock:
    """An inter-process lock on the folder ``what`` (which need not exist), for ``with``:
    two processes asking for the same benchmark, cache or run (two notebooks, two test
    workers) make it once, the second waiting and then reusing it. The lock file lives in
    the cache folder (``locks/``), never beside ``what``, which may be read-only."""
    import hashlib

    key = hashlib.sha1(str(Path(what).resolve()).encode()).hexdigest()[:20]
    path = cache_dir() / "locks" / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path))
