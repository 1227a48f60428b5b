"""The run ledger ``reports/runs/`` (``dflib.train.runs``): add run folders, pack and import archives.

    python scripts/ledger.py add runs/claims-arch-freqnet-s42 runs/demo-freqnet   # entries from run folders
    python scripts/ledger.py import claims_runs*.tar.gz                           # archives a GPU machine returned
    python scripts/ledger.py pack out.tar.gz runs/claims-*                        # entries of run folders, one archive

An entry holds a finished run's params.json, metrics.json, history.csv, environment.json
and gzipped predictions, never weights. For a machine that returns few files,
:func:`write_archive` packs entries into one ``.tar.gz``; :func:`import_archive` unpacks
one into the ledger, refusing members that could write outside it (absolute path, ``..``,
a link, a device) or that are not ledger files. Then ``make results`` re-renders
reports/leaderboard.md and reports/claims.md from the ledger.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from dflib.environment import resolve_path
from dflib.train.runs import ENTRY_FILES, FILES, LEDGER, RunFolder, is_finished, ledger_root


class LedgerError(ValueError):
    """An archive or a run folder that cannot go into the ledger."""


def write_entry(
    run: RunFolder | str | os.PathLike, ledger: str | os.PathLike | None = None
) -> Path:
    """The ledger entry ``<ledger>/<run-name>/`` of a finished run folder, rewritten whole.

    Copies :data:`FILES` (those present) and gzips the predictions (an entry given as the
    source is copied as it is). Weights (``*.pt``), figures and the data report stay out.

    Raises:
        LedgerError: the run has not finished (no ``metrics.json`` or predictions).
    """
    run = run if isinstance(run, RunFolder) else RunFolder(Path(run))
    if not is_finished(run):
        raise LedgerError(
            f"{run.root} is not a finished run (expected params.json, metrics.json and "
            "predictions_val.csv): let its training end, or resume it, before adding it"
        )
    dest = ledger_root(ledger) / run.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run.name}.", dir=dest.parent))
    try:
        for name in FILES:
            if (run.root / name).is_file():
                shutil.copyfile(run.root / name, tmp / name)
        for split in ("val", "test"):
            source = getattr(run, f"predictions_{split}")
            if not source.is_file():
                continue
            target = tmp / f"predictions_{split}.csv.gz"
            if source.name.endswith(".gz"):
                shutil.copyfile(source, target)
            else:  # mtime=0: the same predictions give the same bytes (a stable git diff)
                with open(source, "rb") as src, open(target, "wb") as raw:
                    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
                        shutil.copyfileobj(src, out)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def write_archive(runs: list[RunFolder | str | os.PathLike], target: str | os.PathLike) -> Path:
    """One ``.tar.gz`` of the ledger entries of ``runs`` (the finished ones), written
    atomically: ``<run-name>/<file>`` members, as :func:`import_archive` takes them."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        names = []
        for run in runs:
            run = run if isinstance(run, RunFolder) else RunFolder(Path(run))
            if is_finished(run):
                names.append(write_entry(run, staging).name)
        tmp = target.with_name(target.name + ".tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            for name in sorted(names):
                for f in sorted((Path(staging) / name).iterdir()):
                    tar.add(f, arcname=f"{name}/{f.name}")
        os.replace(tmp, target)
    return target


def _check_member(member: tarfile.TarInfo) -> tuple[str, str]:
    """``(run-name, file)`` of a safe archive member, else :class:`LedgerError`."""
    path = PurePosixPath(member.name)
    if member.name.startswith(("/", "\\")) or path.is_absolute() or ".." in path.parts:
        raise LedgerError(f"unsafe archive member {member.name!r}: absolute or '..' path")
    if not (member.isfile() or member.isdir()):
        raise LedgerError(f"unsafe archive member {member.name!r}: links and devices are refused")
    parts = [p for p in path.parts if p not in ("", ".")]
    if member.isdir():
        if len(parts) > 1:
            raise LedgerError(f"archive member {member.name!r}: a ledger entry has no sub-folders")
        return (parts[0] if parts else ""), ""
    if len(parts) != 2 or parts[1] not in ENTRY_FILES:
        raise LedgerError(
            f"archive member {member.name!r} is not a ledger file (expected "
            f"<run-name>/<one of {', '.join(ENTRY_FILES)}>)"
        )
    return parts[0], parts[1]


def import_archive(
    archive: str | os.PathLike, ledger: str | os.PathLike | None = None
) -> list[str]:
    """Unpack a ``.tar.gz`` of ledger entries into ``ledger`` (default ``reports/runs``).

    Every member is checked before anything is written: an absolute path, ``..``, a link,
    a device or a file that is not a ledger file refuses the whole archive. Each entry in
    it replaces the ledger's entry of that name. Returns the run names imported.

    Raises:
        LedgerError: an unsafe or unexpected member (named in the message).
    """
    root = ledger_root(ledger)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        files = [(m, *_check_member(m)) for m in members]
        names = sorted({run for _, run, name in files if name})
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root) as staging:
            picked = [m for m, _, name in files if name]
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and patched 3.8+)
                tar.extractall(staging, members=picked, filter="data")
            else:  # the members were checked above
                tar.extractall(staging, members=picked)  # noqa: S202
            for name in names:
                entry = RunFolder(Path(staging) / name)
                if not is_finished(entry):
                    raise LedgerError(
                        f"archive entry {name!r} is not a finished run (expected params.json, "
                        "metrics.json and predictions_val.csv.gz)"
                    )
            for name in names:
                dest = root / name
                if dest.exists():
                    shutil.rmtree(dest)
                os.replace(Path(staging) / name, dest)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", default=LEDGER, help="the ledger folder (default: %(default)s)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="write the ledger entries of finished run folders")
    add.add_argument("runs", nargs="+", help="run folders")
    imp = sub.add_parser("import", help="unpack .tar.gz files of ledger entries into the ledger")
    imp.add_argument("archives", nargs="+", help=".tar.gz files written by claims_runs.py "
                     "--export (one per process with --jobs) or pack")  # fmt: skip
    pack = sub.add_parser("pack", help="one .tar.gz of the ledger entries of run folders")
    pack.add_argument("archive", help="the .tar.gz to write")
    pack.add_argument("runs", nargs="+", help="run folders")
    args = parser.parse_args(argv)
    try:
        if args.action == "add":
            for run in args.runs:
                print(f"{run} -> {write_entry(resolve_path(run), args.ledger)}")
        elif args.action == "import":
            for archive in args.archives:
                names = import_archive(resolve_path(archive), args.ledger)
                print(f"{archive}: imported {len(names)} entries into {args.ledger}: "
                      f"{', '.join(names)}")  # fmt: skip
        else:
            path = write_archive([resolve_path(r) for r in args.runs], resolve_path(args.archive))
            print(f"wrote {path}")
    except (LedgerError, FileNotFoundError) as error:
        print(f"ledger: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
