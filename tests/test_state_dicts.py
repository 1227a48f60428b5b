"""Every model's state-dict names and shapes, pinned (as timm checks its configs against
the real state dicts).

A renamed or reshaped layer changes the keys every saved ``best.pt`` / ``last.pt`` holds,
so those checkpoints would no longer load. If the change is meant, rewrite the fixture
and commit it with the change (saved runs of that architecture must then be retrained)::

    python tests/test_state_dicts.py      # rewrites tests/fixtures/state_dicts.json

Models are built at their default config (``create_model(name)``); no forward pass.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dflib.models import create_model, list_models

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "state_dicts.json"


def state_dict_shapes(name: str) -> dict[str, str]:
    """``{parameter or buffer name: "d0xd1x..."}`` ("-" for a scalar), in state-dict order."""
    return {key: "x".join(map(str, value.shape)) or "-"
            for key, value in create_model(name).state_dict().items()}  # fmt: skip


def pinned() -> dict[str, dict[str, str]]:
    return json.loads(FIXTURE.read_text())


def test_every_registered_model_is_pinned():
    assert sorted(pinned()) == sorted(list_models()), (
        "a model was added or removed: run `python tests/test_state_dicts.py` and commit "
        f"{FIXTURE.relative_to(FIXTURE.parents[2])}"
    )


@pytest.mark.parametrize("name", list_models())
def test_state_dict_names_and_shapes_are_pinned(name):
    want, got = pinned().get(name, {}), state_dict_shapes(name)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    reshaped = sorted(f"{k}: {want[k]} -> {got[k]}" for k in set(want) & set(got)
                      if want[k] != got[k])  # fmt: skip
    assert not (missing or extra or reshaped), (
        f"{name}'s state dict changed, so saved checkpoints no longer load: "
        f"{len(missing)} names gone {missing[:5]}, {len(extra)} new {extra[:5]}, "
        f"{len(reshaped)} reshaped {reshaped[:5]}. If meant, run "
        "`python tests/test_state_dicts.py` and commit the fixture."
    )
    assert list(got) == list(want), f"{name}: same names in another order"


if __name__ == "__main__":
    FIXTURE.parent.mkdir(exist_ok=True)
    shapes = {name: state_dict_shapes(name) for name in list_models()}
    FIXTURE.write_text(json.dumps(shapes, indent=1) + "\n")
    counts = ", ".join(f"{n} {len(s)}" for n, s in shapes.items())
    print(f"wrote {FIXTURE}: {counts}", file=sys.stderr)
