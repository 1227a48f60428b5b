""":class:`~dflib.train.config.TrainConfig` on a command line: one flag per field.

The flags are derived from ``dataclasses.fields(TrainConfig)``, their help from each
field's docstring entry (:func:`~dflib.train.config.field_docs`), so a new setting is a
flag without anyone writing one. :func:`config_from_args` turns the parsed flags into the
run's config: the recipe of ``--arch`` (or a replayed ``params.json``), then the flags given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

from dflib.runtime import AMP_MODES
from dflib.train.config import (
    MEMORY_FORMATS,
    TrainConfig,
    field_docs,
    get_recipe,
    resume_settings,
)
from dflib.train.runs import run_folder

# flag names kept from before the flags were derived from TrainConfig (first = shown)
FLAG_ALIASES = {"data_dir": ("--data", "--data-dir"),
                "synthetic_size": ("--size", "--synthetic-size")}  # fmt: skip
SETTINGS = tuple(f.name for f in dataclasses.fields(TrainConfig))
# settings whose value is written as several words (``--classes real=nature fake=ai``)
SEVERAL_WORDS = ("classes",)


def flag(name: str) -> str:
    """The command-line flag of the setting ``name`` (``img_size`` -> ``--img-size``)."""
    return FLAG_ALIASES.get(name, ("--" + name.replace("_", "-"),))[0]


def add_settings(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, default ``None`` ("not given"), help from its docs."""
    docs = field_docs()
    group = parser.add_argument_group(
        "settings (dflib.train.config.TrainConfig; left out: --config's, else the recipe's)"
    )
    for f in dataclasses.fields(TrainConfig):
        # help is %-formatted by argparse; the docstring's reST markup is dropped
        text = re.sub(r":\w+:`([^`]*)`", r"\1", docs[f.name]).replace("``", "").replace("%", "%%")
        flags = FLAG_ALIASES.get(f.name, (flag(f.name),))
        kind = type(f.default)
        if kind is bool:
            group.add_argument(*flags, dest=f.name, default=None,
                               action=argparse.BooleanOptionalAction, help=text)  # fmt: skip
        elif f.name == "amp":  # a bool before: --amp (auto) and --no-amp (off) still work
            group.add_argument(*flags, dest=f.name, default=None, nargs="?", const="auto",
                               choices=AMP_MODES, help=text)  # fmt: skip
            group.add_argument("--no-amp", dest=f.name, action="store_const", const="off",
                               help="the same as --amp off")  # fmt: skip
        elif f.name == "channels_last":  # a bool before: --channels-last / --no-... still work
            group.add_argument(*flags, dest=f.name, default=None, nargs="?", const="on",
                               choices=MEMORY_FORMATS, help=text)  # fmt: skip
            group.add_argument("--no-channels-last", dest=f.name, action="store_const",
                               const="off", help="the same as --channels-last off")  # fmt: skip
        elif kind is tuple:
            group.add_argument(*flags, dest=f.name, default=None, metavar="NAME,NAME",
                               help=f"{text} Comma-separated; 'none' for none.")  # fmt: skip
        else:
            metavar = {int: "N", float: "X"}.get(kind, f.name.upper())
            several = {"nargs": "+"} if f.name in SEVERAL_WORDS else {}
            group.add_argument(*flags, dest=f.name, default=None, type=kind, metavar=metavar,
                               help=text, **several)  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The config a parsed ``dflib train`` command line runs.

    Resuming a run folder (``args.resume`` and its ``params.json`` in ``args.out``): the
    run's own settings, with only the free ones given changed
    (:func:`~dflib.train.config.resume_settings`, what ``fit(resume=True)`` accepts too;
    the fixed ones given are named on stderr as ignored). Otherwise ``args.config`` (a run's ``params.json`` to replay) or the
    recipe of ``arch``, then every setting given.
    """
    given = {name: getattr(args, name) for name in SETTINGS
             if getattr(args, name, None) is not None}  # fmt: skip
    given.update({name: " ".join(given[name]) for name in SEVERAL_WORDS if name in given})
    if args.resume and args.out and run_folder(args.out).params.is_file():
        free = resume_settings("free")
        ignored = sorted(set(given) - set(free))
        if ignored:
            print(f"resuming {args.out}: its own settings are kept, ignoring "
                  f"{', '.join(flag(n) for n in ignored)}", file=sys.stderr)  # fmt: skip
        saved = TrainConfig.from_dict(run_folder(args.out).read_json("params"))
        return saved.replace(**{k: v for k, v in given.items() if k in free})
    if args.config:
        return TrainConfig.from_dict(read_params(args.config)).replace(**given)
    return get_recipe(given.pop("arch", "xception_resnet50"), **given)


def read_params(path: str) -> dict:
    """The settings of a ``params.json``, or of a run folder's."""
    file = Path(path)
    file = file / "params.json" if file.is_dir() else file
    if not file.is_file():
        raise FileNotFoundError(f"--config {path}: no such file (expected a run's params.json "
                                "or its run folder)")  # fmt: skip
    values = json.loads(file.read_text())
    if not isinstance(values, dict):
        raise ValueError(f"--config {file}: expected a JSON object of settings, got "
                         f"{type(values).__name__}")  # fmt: skip
    return values
