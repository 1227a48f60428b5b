"""Every list that names TrainConfig settings names real fields.

The settings are written once, in :class:`dflib.train.config.TrainConfig`; the command
line derives its flags from it, but other places name settings by hand: the training
notebooks' parameters cells (a papermill ``-p epochs 25`` must mean ``TrainConfig.epochs``),
the recipe overrides the other notebooks pass to the helpers that make their upstream runs,
the README's list of what a resume may change and ``dflib.study.leaderboard.CONFIG_KEYS``.
A field renamed in one place only fails here, not at the end of a training run.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import jupytext
import pytest

from dflib.models import list_models, model_cfg
from dflib.study import leaderboard
from dflib.study.crossgen import plan_runs
from dflib.train.config import RESUME_KINDS, TrainConfig, field_docs, get_recipe, resume_settings
from dflib.train.plan import ensure_run, ensure_runs

FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
# the parameters of a training notebook that are not settings of the run
RUN_CONTROLS = {"out", "resume"}
# the setup cell's (every notebook's), never the run's
SETUP = {"dflib_source"}
# a notebook's checks section reads these (dflib.checks), never the recipe
CHECKS_PREFIX = "expect_"
# what receives settings as keywords: keywords its signature does not name go to the recipe
TAKES_SETTINGS = {f.__name__: f for f in (get_recipe, ensure_run, ensure_runs,
                                          plan_runs)}  # fmt: skip


def _notebook(path: Path) -> tuple[list[str], ast.Module]:
    """The parameters cell's names and the whole notebook's code, parsed."""
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    params = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    names = [s.targets[0].id for s in ast.parse(params.source).body if isinstance(s, ast.Assign)]
    code = "\n".join(line for c in cells for line in c.source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))  # fmt: skip
    return names, ast.parse(code)


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    def called(node: ast.Call) -> str:
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")

    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and called(n) == name]


def test_every_field_has_its_docstring_entry():
    docs = field_docs()
    assert set(docs) == FIELDS, f"undocumented {FIELDS - set(docs)}, stale {set(docs) - FIELDS}"
    assert all(docs.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_settings_passed_by_notebooks_are_fields(path):
    names, tree = _notebook(path)
    for func_name, func in TAKES_SETTINGS.items():
        own = set(inspect.signature(func).parameters)
        for call in _calls(tree, func_name):
            settings = {k.arg for k in call.keywords if k.arg is not None} - own
            assert settings <= FIELDS, (
                f"{path.name}: {func_name}({', '.join(sorted(settings - FIELDS))}=...) names no "
                "TrainConfig field"
            )
    recipes = _calls(tree, "get_recipe")
    if not recipes:
        return
    # a training notebook: each parameter is a setting passed under its own name
    passed = {k.arg for c in recipes for k in c.keywords
              if isinstance(k.value, ast.Name) and k.value.id == k.arg}  # fmt: skip
    passed |= {a.id for c in recipes for a in c.args[:1] if isinstance(a, ast.Name)}  # the arch
    settings = {n for n in names if not n.startswith(CHECKS_PREFIX)} - RUN_CONTROLS - SETUP
    unpassed = settings - passed
    assert not unpassed, f"{path.name}: parameters {sorted(unpassed)} never reach get_recipe"
    assert settings <= FIELDS, (
        f"{path.name}: parameters {sorted(settings - FIELDS)} are not TrainConfig fields"
    )


def test_every_setting_is_fixed_or_free_on_resume():
    """A new TrainConfig field must be declared: does a resume keep it, or may it change?"""
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata.get("resume") in RESUME_KINDS, (
            f"TrainConfig.{f.name}: declare it _fixed(...) or _free(...) (may a resume change it?)"
        )
    fixed, free = resume_settings("fixed"), resume_settings("free")
    assert set(fixed) | set(free) == FIELDS and not set(fixed) & set(free)
    # what a resume changes and what it must not: the epochs and how steps run, never the data
    assert {"epochs", "finetune_epochs", "device", "workers", "amp"} <= set(free)
    assert {"arch", "data_dir", "img_size", "lr", "seed", "augment", "classes"} <= set(fixed)
    with pytest.raises(ValueError, match="expected one of"):
        resume_settings("kept")


def test_readme_names_the_settings_a_resume_may_change():
    text = " ".join((ROOT / "README.md").read_text().split())
    found = re.search(r"A resume may change only these settings: (.*?) - ", text)
    assert found, "README.md: the sentence 'A resume may change only these settings: ...' is gone"
    named = re.findall(r"`(\w+)`", found.group(1))
    assert sorted(named) == sorted(resume_settings("free")), (
        "README.md names other settings than TrainConfig's free ones: "
        f"{sorted(set(named) ^ set(resume_settings('free')))}"
    )


def test_leaderboard_config_keys_name_fields():
    keys = set(leaderboard.CONFIG_KEYS)
    assert set(leaderboard.KEY_FIELDS) <= keys
    for key in keys - set(leaderboard.KEY_FIELDS):
        assert key in FIELDS, f"leaderboard.CONFIG_KEYS: {key!r} is not a TrainConfig field"
    for key, fields in leaderboard.KEY_FIELDS.items():
        assert set(fields) <= FIELDS, f"leaderboard.KEY_FIELDS[{key!r}]: {set(fields) - FIELDS}"


@pytest.mark.parametrize("arch", list_models())
def test_model_input_size_is_the_recipes(arch):
    """The model's input contract and its recipe's image size are one number."""
    assert model_cfg(arch).input_size[1:] == (get_recipe(arch).img_size,) * 2


# a value of another kind for each kind of setting
WRONG_KIND = {str: 3, int: "3", float: "0.1", bool: "yes", tuple: 3}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_setting_refuses_a_value_of_the_wrong_kind(name):
    """``get_recipe(..., amp="fp16")`` once trained fp32 without a word: a setting of the
    wrong kind is refused, the message naming it, what was expected and what came."""
    f = next(f for f in dataclasses.fields(TrainConfig) if f.name == name)
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    kind = type(default)
    with pytest.raises(ValueError, match=rf"{name}=.*expected {kind.__name__}"):
        TrainConfig(**{name: WRONG_KIND[kind]})


def test_amp_names_a_precision_and_reads_the_old_booleans():
    assert (TrainConfig(amp=True).amp, TrainConfig(amp=False).amp) == ("auto", "off")
    assert TrainConfig(amp=True) == TrainConfig()
    assert get_recipe("freqnet", amp="fp16").amp == "fp16"
    with pytest.raises(ValueError, match=r"amp='fp32' \(expected one of \('auto', 'bf16'"):
        TrainConfig(amp="fp32")
