"""The training notebooks 04-09, written from one template (``make notebooks``).

The six notebooks run the same code: only their title, prose, architecture and CI size
differ (the note on the learned floor follows the CI size). The code and the parts they
share live in ``notebooks/templates/training.py`` (jupytext text with ``{{field}}`` slots); what each
notebook says of its own architecture lives in :data:`TRAINING` below. Edit those, never
a generated notebook: ``make notebooks`` rewrites the six ``.py`` files and their
``.ipynb`` twins, and ``tests/test_notebooks.py`` fails when a committed notebook differs
from what this writes. It also writes the ``expect_*`` values of every notebook's nbmake
mock (the CI size's expected answers) from ``scripts/expectations.py``.

    python scripts/notebooks.py            # write notebooks/04-09_*.py from the template
    python scripts/notebooks.py --check    # exit 1 naming the notebooks that differ
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from expectations import CI

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATE = NOTEBOOKS / "templates" / "training.py"
# the parameters cell's header line, with its nbmake metadata
PARAMETERS = re.compile(r'^# %% tags=\["parameters"\] nbmake=(.*)$', re.MULTILINE)


@dataclass(frozen=True)
class Training:
    """What one training notebook says of its own architecture."""

    title: str  # the heading, with the notebook's number
    arch: str  # the `arch` parameter's default (dflib.models.list_models())
    mock: dict = field(default_factory=dict)  # the CI size: nbmake's mock (expect_*: CI)
    intro: str = ""  # markdown: the recipe, what the write-up reported, papermill commands
    discussion: str = ""  # markdown: how to read the results


# what the checks section and the floor's parameter say, with a learned floor at the CI
# size (nbmake's mock sets expect_val_auc_min) and without one
FLOOR = {
    True: (
        "the CI size sets one",
        """\
This notebook's answers, asserted: the history's length, one probability in [0, 1] per
validation image, and - where `expect_val_auc_min` is set (the CI size sets one, `make
test-demo` another) - a validation AUC that a model which learned nothing does not reach
(the floor itself must clear the AUC of shuffled labels).""",
    ),
    False: (
        "the CI size sets none: one CPU epoch at smoke size leaves this model within chance; make test-demo sets one",
        """\
This notebook's answers, asserted: the history's length, one probability in [0, 1] per
validation image, and - where `expect_val_auc_min` is set - a validation AUC that a model
which learned nothing does not reach (the floor itself must clear the AUC of shuffled
labels). The CI size sets no floor here: one CPU epoch at smoke size leaves this model
within chance. `make test-demo` sets the demo size's where one holds (64 px, 3 epochs), from
`scripts/expectations.py`.""",
    ),
}

TRAINING = {
    "04_train_xception": Training(
        title="04 · Train XceptionResNet50 with the CoherentNoiseFilter (write-up 1's final model)",
        arch="xception_resnet50",
        mock={
            "synthetic_size": "tiny",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 0,
            "batch_size": 16,
        },
        intro="""\
Write-up 1's recipe (`docs/writeups.md#recipes`): 196 px, batch 32, AdamW (lr 1e-3, weight decay 1e-3),
ReduceLROnPlateau (factor 0.5, patience 2), class-weighted cross-entropy, 25 epochs,
the CoherentNoiseFilter (tol 30) applied once when the images are cached, random
horizontal flips. The write-up reports F1 0.87 / 0.91 / 0.91 after 20 / 25 / 40+ epochs.

```bash
papermill notebooks/04_train_xception.ipynb out.ipynb -p epochs 25
papermill notebooks/04_train_xception.ipynb out.ipynb -p data_dir /kaggle/input/my-data
```""",
        discussion="""\
Read the curves before the numbers: a validation F1 that climbs while the loss still
falls says more epochs will help (the write-up's 20 -> 25 epochs gain); a flat F1 with
a falling learning rate says the recipe has converged. The gap between F1 at 0.5 and
at the tuned threshold is the threshold-tuning gain that notebook 10 measures properly.
`reports/training.md` compares every architecture at the same data size, image size and
epochs.""",
    ),
    "05_train_deepfakenet": Training(
        title="05 · Train DeepFakeNet (write-up 2's final model): balanced batches, BCE + Focal, two stages",
        arch="deepfakenet",
        mock={
            "synthetic_size": "tiny",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 1,
            "batch_size": 16,
        },
        intro="""\
Write-up 2's recipe (`docs/writeups.md#recipes`): 256 px, batch 16, AdamW (lr 1e-4, weight decay 1e-4),
ReduceLROnPlateau, a balanced sampler (50/50 batches), loss 0.6 x class-weighted BCE +
0.4 x Focal (gamma 2), 20 epochs on an 88/12 stratified split, then fine-tuning on 100%
of the labelled data at lr 5e-5 for 5 epochs. Augmentation on the device, per sample:
RandomResizedCrop (scale 0.8-1.0), horizontal flip, colour jitter, Gaussian blur (p 0.3);
ImageNet normalisation; no noise filter.

```bash
papermill notebooks/05_train_deepfakenet.ipynb out.ipynb -p epochs 20 -p finetune_epochs 5
```""",
        discussion="""\
The threshold is tuned before fine-tuning (the fine-tuning stage trains on the
validation images, so nothing held out is left to tune on afterwards); the final
weights are the fine-tuned ones. Whether the second stage helps shows in the
hidden-test rows, which nothing here has trained on. Note that balanced batches and a
class-weighted loss both push towards the fake class: the tuned threshold corrects the
resulting over-prediction.""",
    ),
    "06_train_hrnet": Training(
        title="06 · Train the Artifact-Sensitive HRNet (and write-up 2's comparison models)",
        arch="hrnet_artifact",
        mock={
            "synthetic_size": "tiny",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 1,
            "batch_size": 16,
        },
        intro="""\
Write-up 2's hypothesis (`docs/writeups.md#architectures`): generator traces are a few pixels wide and early
pooling destroys them, so this network has a no-pooling stem and keeps a
high-resolution branch through its whole depth; it augments with RandomAdjustSharpness
instead of blur. Write-up 2 reports val F1 about 0.80 for it, about 0.65 for a custom
ResNet with ordinary early pooling and about 0.60 for an RGB + FFT input model; the
same notebook trains those two:

```bash
papermill notebooks/06_train_hrnet.ipynb out.ipynb
papermill notebooks/06_train_hrnet.ipynb out.ipynb -p arch custom_resnet
papermill notebooks/06_train_hrnet.ipynb out.ipynb -p arch rgb_fft
```""",
        discussion="""\
The three models share write-up 2's recipe, so their difference is the architecture:
if early pooling erases the evidence, custom_resnet should trail hrnet_artifact at the
same data and epochs. `reports/training.md` holds the three side by side.""",
    ),
    "07_train_freqnet": Training(
        title="07 · Train FreqNet: residual blocks with FFT high-pass layers between them",
        arch="freqnet",
        mock={
            "synthetic_size": "smoke",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 0,
            "batch_size": 16,
        },
        intro="""\
About 2M parameters; each frequency layer takes the FFT of the feature map, removes
the low frequencies and transforms back, so the network learns from fine detail only.
The write-up states no recipe for it: write-up 1's defaults apply (196 px, batch 32,
AdamW 1e-3, class-weighted cross-entropy, CoherentNoiseFilter). Reported F1: 0.48.""",
        discussion="""\
A network that sees only high frequencies also sees the salt-and-pepper noise at full
strength: compare this run with `-p filter none` to see how much the filter matters to
it. The write-up's low score is a claim to test, not to assume.""",
    ),
    "08_train_hybrid": Training(
        title="08 · Train the hybrid Xception + FreqNet + Transformer",
        arch="hybrid_xception_freq_transformer",
        mock={
            "synthetic_size": "tiny",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 0,
            "batch_size": 16,
        },
        intro="""\
About 5M parameters: an Xception-style CNN, a FreqNet branch for FFT artefacts, and a
Transformer encoder with a CLS token over the CNN's patches (skip connections carry the
frequency features into them). No recipe is stated: write-up 1's defaults apply, with
the gradients clipped at norm 1 (`clip_grad_norm`), as Transformers are usually trained:
without it, at lr 1e-3, its training loss climbed back from 0.35 to 0.63 after epoch 5
of a 64-px run and its validation AUC fell from 0.905 to 0.70. Reported F1: about 0.75.""",
        discussion="""\
Transformers need more data than CNNs to pay off; on a few thousand images this model
may trail the plain CNNs for that reason alone. Compare it at the same data size in
`reports/training.md` before reading anything into its architecture.""",
    ),
    "09_train_resnet50": Training(
        title="09 · Train ResNet-50 from scratch (write-up 1's baseline)",
        arch="resnet50",
        mock={
            "synthetic_size": "tiny",
            "img_size": 64,
            "epochs": 1,
            "finetune_epochs": 0,
            "batch_size": 16,
        },
        intro="""\
The standard torchvision ResNet-50 with 2 outputs (23.5M parameters), trained from
scratch with no preprocessing (no noise filter) for 30 epochs, write-up 1's optimiser.
Reported F1: 0.87.""",
        discussion="""\
The baseline's question is whether XceptionResNet50's depthwise-separable blocks and
the CoherentNoiseFilter earn their place: the write-up credits them with +0.04 F1
(0.91 vs 0.87). Run `-p filter coherent_noise_filter` to separate the two effects.""",
    ),
}


def markdown(text: str) -> str:
    """Markdown as a jupytext percent cell writes it: each line behind ``# ``."""
    return "\n".join(f"# {line}" if line else "#" for line in text.split("\n"))


def render(name: str, template: str | None = None) -> str:
    """The ``.py`` text of training notebook ``name`` (a key of :data:`TRAINING`)."""
    text = TEMPLATE.read_text() if template is None else template
    notebook = TRAINING[name]
    mock = notebook.mock | CI.get(name, {})
    floor, checks = FLOOR["expect_val_auc_min" in mock]
    fields = {
        "title": notebook.title, "arch": notebook.arch, "mock": json.dumps(mock),
        "floor": floor, "intro": markdown(notebook.intro),
        "discussion": markdown(notebook.discussion), "checks": markdown(checks),
    }  # fmt: skip
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def with_expectations(text: str, expected: dict) -> str:
    """A notebook's ``.py`` text with its nbmake mock's ``expect_*`` values replaced by
    ``expected`` (its row of :data:`expectations.CI`), the other mock values kept."""
    match = PARAMETERS.search(text)
    metadata = json.loads(match.group(1))
    mock = {k: v for k, v in metadata["mock"].items() if not k.startswith("expect_")}
    line = match.group(0).replace(match.group(1), json.dumps(metadata | {"mock": mock | expected}))
    return text[: match.start()] + line + text[match.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any differs")
    args = parser.parse_args(argv)
    differ = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        if path.stem in TRAINING:
            text = render(path.stem)
        else:
            text = with_expectations(path.read_text(), CI.get(path.stem, {}))
        if path.read_text() != text:
            differ.append(path.name)
            if not args.check:
                path.write_text(text)
    verb = "differ from the template and scripts/expectations.py" if args.check else "written"
    print(f"{len(differ)} notebook(s) {verb}: {', '.join(differ) or 'none'}")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
