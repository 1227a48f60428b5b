"""What a run is trained with: every architecture's training recipe as data, in one place
(described in ``docs/writeups.md#recipes``), the write-ups' numbers it is judged against
(:func:`reference`) and which settings a resume may change (:func:`resume_settings`).

The notebooks' parameters (``None`` = "the recipe's value"), the command line's defaults
and the leaderboard all read :func:`get_recipe`, so no number is copied anywhere else.
A :class:`TrainConfig` is the whole description of a run: it is written to the run's
``params.json`` and read back to resume or to predict.

Write-up 1 (XceptionResNet50, ResNet-50, FreqNet, hybrid) trains 2-logit heads with a
class-weighted cross-entropy at 196 px; write-up 2 (DeepFakeNet, the artifact HRNet and
its two comparison models) trains 1-logit heads at 256 px with 50/50 batches and
``0.6 x BCE + 0.4 x Focal``, then fine-tunes on all the labelled data.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dflib.data.layouts import DataError, parse_classes
from dflib.environment import split_names
from dflib.runtime import AMP_MODES
from dflib.train.loggers import LOGGERS

LOSSES = ("ce", "bce", "bce_focal")
AUGMENTS = ("hflip", "resized_crop", "color_jitter", "gaussian_blur", "sharpness")
RESIDENT_MODES = ("auto", "on", "off")
# channels_last: from the device ("auto"), always, never
MEMORY_FORMATS = ("auto", "on", "off")
# the validation scores early stopping may watch (TrainConfig.early_stopping_metric)
STOP_METRICS = ("f1", "auc")
# what a resumed run does with a setting (each field's ``metadata["resume"]``)
RESUME_KINDS = ("fixed", "free")


def _fixed(default: Any) -> Any:
    """A setting that shaped the run's data or its steps: a resume must keep it."""
    return field(default=default, metadata={"resume": "fixed"})


def _free(default: Any) -> Any:
    """A setting a resume may change: the run's length, how its steps execute, its label."""
    return field(default=default, metadata={"resume": "free"})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that makes a run (saved as ``params.json``).

    Each field is declared ``_fixed`` or ``_free`` on resume (:func:`resume_settings`):
    the one list the command line's ``--resume``, ``fit(resume=True)`` and the README read.

    Attributes:
        arch: registry name (:func:`dflib.models.list_models`).
        data_dir: ``"synthetic"`` (the embedded benchmark) or a data folder.
        synthetic_size: benchmark preset when ``data_dir == "synthetic"``.
        labels_csv: labels CSV name when it is not detected ("" = detect).
        label_column: the labels CSV's column to trust ("" = detect); settles label
            sources that disagree (a numeric ``label`` against a text ``label_str``).
        classes: which folder names or label values mean which class where the
            vocabulary does not say (``"real=nature,photos fake=ai"``; ``real=1 fake=0``
            turns a label column around); "" = the vocabulary (``data/README.md``).
        train_images: stratified subsample of the labelled images (0 = all of them).
        fake_families: train on the fakes of these generator families only (reals are all
            kept; ``()`` = every fake). Needs a ``family`` column in the labels (the
            embedded benchmark has one); applied before ``train_images`` subsamples.
            Validation is drawn from the same reduced set; the test set is untouched.
        img_size: side of the square images the model sees.
        batch_size: images per optimisation step.
        epochs: main-stage epochs.
        lr: AdamW's learning rate in the main stage.
        weight_decay: AdamW's weight decay.
        clip_grad_norm: scale each step's gradients down to this global L2 norm when they
            exceed it (0 = off). The hybrid's recipe clips at 1: its Transformer trained at
            lr 1e-3 without it climbs back out of a good minimum (training loss 0.35 to
            0.63 within three epochs).
        loss: ``"ce"`` (class-weighted cross-entropy), ``"bce"`` (class-weighted BCE) or
            ``"bce_focal"`` (0.6 x weighted BCE + 0.4 x Focal); any head size.
        focal_gamma: the focal loss's gamma.
        balanced_sampler: draw both classes equally often (50/50 batches).
        class_weighting: weight the loss by the class weights ``total / (2 * count)``;
            ``False`` gives the plain, unweighted loss (the "no class balancing" control
            of ``docs/writeups.md#findings``, with ``balanced_sampler=False``).
        augment: per-sample augmentations on the device, names from ``AUGMENTS``.
        filter: noise filter applied once when the images are cached
            (:func:`dflib.filters.list_filters`, ``"none"`` for raw images).
        tol: the filter's tolerance (30: ``docs/writeups.md#noise-filters``).
        val_fraction: stratified validation share (write-up 2: 12%).
        plateau_factor: ReduceLROnPlateau's factor on the validation loss.
        plateau_patience: ReduceLROnPlateau's patience in epochs.
        early_stopping: stop the main stage after this many epochs without a better
            validation score (``early_stopping_metric``; 0 = off). A resume keeps a run
            stopped so while the stop still holds (a larger ``epochs`` does not restart it).
        early_stopping_metric: the validation score early stopping watches, one of
            :data:`STOP_METRICS`: ``"f1"`` (F1 at 0.5, then AUC to break ties: the one that
            picks ``best.pt``) or ``"auc"`` (threshold-free: a sampler-trained model's F1
            at 0.5 can sit at the call-everything-fake level while its AUC still climbs).
        finetune_epochs: second stage on 100% of the labelled data (0 = none).
        finetune_lr: the second stage's learning rate.
        seed: one seed for the split, the initial weights and every epoch's randomness.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        amp: mixed precision: ``"auto"`` (bf16 on Ampere and newer GPUs, fp16 + GradScaler
            on older ones such as the T4, bf16 on a CPU with native bf16 instructions - AMX,
            AVX512-BF16 - and none on other CPUs), ``"bf16"``, ``"fp16"`` (with a
            GradScaler; on any device, a CPU included) or ``"off"``; ``True`` / ``False``
            are read as ``"auto"`` / ``"off"``.
        channels_last: NHWC memory format for the model and its batches: ``"auto"`` (on a
            GPU, and on a CPU with native bf16 where the benchmark's CPU table measured it
            faster; NCHW elsewhere), ``"on"`` or ``"off"``; ``True`` / ``False`` are read
            as ``"auto"`` / ``"off"``.
        compile: ``torch.compile`` the model.
        workers: batch-reading processes (-1 = automatic).
        resident_data: hold the whole uint8 cache on the device and gather each batch
            there (``"auto"``: on CUDA when it fits beside a measured step; ``"on"``,
            ``"off"``); the same batches in the same order either way.
        deterministic: deterministic kernels (slower; bit-identical GPU runs).
        log: loggers that receive every epoch's row besides ``history.csv``, names from
            :data:`dflib.train.loggers.LOGGERS` (``"tensorboard"``: event files in
            ``<run>/tb/``); ``()`` = none.
    """

    arch: str = _fixed("xception_resnet50")
    data_dir: str = _fixed("synthetic")
    synthetic_size: str = _fixed("full")
    labels_csv: str = _fixed("")
    label_column: str = _fixed("")
    classes: str = _fixed("")
    train_images: int = _fixed(0)
    fake_families: tuple[str, ...] = _fixed(())
    img_size: int = _fixed(196)
    batch_size: int = _fixed(32)
    epochs: int = _free(25)
    lr: float = _fixed(1e-3)
    weight_decay: float = _fixed(1e-3)
    clip_grad_norm: float = _fixed(0.0)
    loss: str = _fixed("ce")
    focal_gamma: float = _fixed(2.0)
    balanced_sampler: bool = _fixed(False)
    class_weighting: bool = _fixed(True)
    augment: tuple[str, ...] = _fixed(("hflip",))
    filter: str = _fixed("coherent_noise_filter")
    tol: int = _fixed(30)
    val_fraction: float = _fixed(0.12)
    plateau_factor: float = _fixed(0.5)
    plateau_patience: int = _fixed(2)
    early_stopping: int = _free(0)
    early_stopping_metric: str = _free("f1")
    finetune_epochs: int = _free(0)
    finetune_lr: float = _fixed(5e-5)
    seed: int = _fixed(42)
    device: str = _free("auto")
    amp: str = _free("auto")
    channels_last: str = _free("auto")
    compile: bool = _free(False)
    workers: int = _free(-1)
    resident_data: str = _free("auto")
    deterministic: bool = _free(False)
    log: tuple[str, ...] = _free(())

    def __post_init__(self) -> None:
        object.__setattr__(self, "augment", _as_names(self.augment))
        object.__setattr__(self, "fake_families", _as_names(self.fake_families))
        object.__setattr__(self, "log", _as_names(self.log))
        if isinstance(self.amp, bool):  # notebooks, --amp / --no-amp and older params.json
            object.__setattr__(self, "amp", "auto" if self.amp else "off")
        if isinstance(self.channels_last, bool):  # a bool before (True: where it helped)
            object.__setattr__(self, "channels_last", "auto" if self.channels_last else "off")
        wrong = _wrong_kinds(self)
        if wrong:
            raise ValueError("invalid training settings: " + "; ".join(wrong))
        problems = []
        if self.amp not in AMP_MODES:
            problems.append(f"amp={self.amp!r} (expected one of {AMP_MODES}, or True / False)")
        if self.loss not in LOSSES:
            problems.append(f"loss={self.loss!r} (expected one of {LOSSES})")
        unknown = sorted(set(self.augment) - set(AUGMENTS))
        if unknown:
            problems.append(f"augment {unknown} (expected names from {AUGMENTS})")
        unknown = sorted(set(self.log) - set(LOGGERS))
        if unknown:
            problems.append(f"log {unknown} (expected names from {tuple(LOGGERS)})")
        for name in ("img_size", "batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)} (must be >= 1)")
        if self.clip_grad_norm < 0:
            problems.append(f"clip_grad_norm={self.clip_grad_norm} (must be >= 0; 0 = off)")
        if self.epochs < 0 or self.finetune_epochs < 0:
            problems.append("epochs and finetune_epochs must be >= 0")
        if self.channels_last not in MEMORY_FORMATS:
            problems.append(f"channels_last={self.channels_last!r} (expected one of "
                            f"{MEMORY_FORMATS}, or True / False)")  # fmt: skip
        if self.early_stopping_metric not in STOP_METRICS:
            problems.append(f"early_stopping_metric={self.early_stopping_metric!r} (expected "
                            f"one of {STOP_METRICS})")  # fmt: skip
        if self.resident_data not in RESIDENT_MODES:
            problems.append(
                f"resident_data={self.resident_data!r} (expected one of {RESIDENT_MODES})"
            )
        if not 0.0 < self.val_fraction < 1.0:
            problems.append(f"val_fraction={self.val_fraction} (must be in (0, 1))")
        try:
            parse_classes(self.classes)
        except DataError as error:
            problems.append(str(error))
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))

    @property
    def total_epochs(self) -> int:
        """Main epochs plus fine-tuning epochs: the length of the history."""
        return self.epochs + self.finetune_epochs

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (lists for tuples)."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Read ``params.json`` back; keys that are not settings are ignored: what the run
        measured or what it is for (``n_train``, ``role``: :mod:`dflib.train.plan`), or a
        setting of a newer dflib."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def resume_settings(kind: str) -> tuple[str, ...]:
    """The settings a resumed run must keep (``"fixed"``) or may change (``"free"``).

    A changed fixed setting would silently make another run under the same name (a new
    lr, say, is overridden by the saved optimiser state while ``params.json`` claims it),
    so a resume refuses it; the free ones are the run's length (epochs, fine-tune epochs,
    early stopping), how its steps execute (device, precision, memory format, compile,
    workers, resident data, determinism, loggers).
    """
    if kind not in RESUME_KINDS:
        raise ValueError(f"resume_settings({kind!r}): expected one of {RESUME_KINDS}")
    return tuple(f.name for f in dataclasses.fields(TrainConfig)
                 if f.metadata.get("resume") == kind)  # fmt: skip


def field_docs() -> dict[str, str]:
    """Each :class:`TrainConfig` setting's description, read from its ``Attributes:``
    docstring (the one place they are written; the command line's help comes from here).

    An entry is ``name: text`` on one line, indented once, with its continuation lines
    indented deeper (Google style); ``tests/test_config_fields.py`` checks every field has one.
    """
    lines = inspect.cleandoc(TrainConfig.__doc__ or "").splitlines()
    start = lines.index("Attributes:") + 1
    docs: dict[str, str] = {}
    name = ""
    for line in lines[start:]:
        head, sep, text = line.strip().partition(": ")
        if line.startswith("    ") and not line.startswith("     ") and sep:
            name, docs[head] = head, text
        elif name and line.strip():
            docs[name] += " " + line.strip()
    return docs


def _wrong_kinds(config: TrainConfig) -> list[str]:
    """Each setting whose value is not of its default's kind (``amp="fp16"`` once passed
    as True, ``epochs=2.5`` would crash late or train something else without a word).

    An int is accepted for a float; a bool is not taken for a number.
    """
    problems = []
    for f in dataclasses.fields(config):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kind, value = type(default), getattr(config, f.name)
        if kind is float:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            problems.append(f"{f.name}={value!r} (expected {kind.__name__}, e.g. {default!r}; "
                            f"got {type(value).__name__})")  # fmt: skip
    return problems


def _as_names(value: Any) -> tuple[str, ...]:
    """``"hflip,color_jitter"`` (a notebook parameter), a list or a tuple -> tuple."""
    if isinstance(value, str):
        return tuple(v for v in split_names(value) if v != "none")
    return tuple(value) if isinstance(value, Iterable) else value  # else refused as a wrong kind


WRITEUP1 = TrainConfig()
WRITEUP2 = TrainConfig(
    img_size=256,
    batch_size=16,
    epochs=20,
    lr=1e-4,
    weight_decay=1e-4,
    loss="bce_focal",
    balanced_sampler=True,
    augment=("resized_crop", "hflip", "color_jitter", "gaussian_blur"),
    filter="none",
    finetune_epochs=5,
    finetune_lr=5e-5,
)


@dataclass(frozen=True)
class Reference:
    """What the write-ups reported for an architecture (``docs/writeups.md#findings``)."""

    f1: float | None
    note: str
    notebook: str
    recipe: TrainConfig = field(repr=False, default=WRITEUP1)


_REFERENCES: dict[str, Reference] = {
    "xception_resnet50": Reference(
        0.91, "write-up 1: F1 0.91 after 25 epochs (0.87 after 20)", "04_train_xception",
        WRITEUP1.replace(arch="xception_resnet50"),
    ),
    "resnet50": Reference(
        0.87, "write-up 1: F1 0.87, no preprocessing, 30 epochs", "09_train_resnet50",
        WRITEUP1.replace(arch="resnet50", epochs=30, filter="none"),
    ),
    "freqnet": Reference(
        0.48, "write-up 1: F1 0.48 (recipe not stated: write-up 1 defaults)", "07_train_freqnet",
        WRITEUP1.replace(arch="freqnet"),
    ),
    "hybrid_xception_freq_transformer": Reference(
        0.75, "write-up 1: F1 about 0.75 (recipe not stated: write-up 1 defaults, gradients clipped at norm 1)",
        "08_train_hybrid", WRITEUP1.replace(arch="hybrid_xception_freq_transformer", clip_grad_norm=1.0),
    ),
    "deepfakenet": Reference(
        None, "write-up 2's final model (no number reported)", "05_train_deepfakenet",
        WRITEUP2.replace(arch="deepfakenet"),
    ),
    "hrnet_artifact": Reference(
        0.80, "write-up 2: val F1 about 0.80, less stable", "06_train_hrnet",
        WRITEUP2.replace(
            arch="hrnet_artifact", augment=("resized_crop", "hflip", "color_jitter", "sharpness")
        ),
    ),
    "custom_resnet": Reference(
        0.65, "write-up 2: val F1 about 0.65 (early pooling)", "06_train_hrnet",
        WRITEUP2.replace(arch="custom_resnet"),
    ),
    "rgb_fft": Reference(
        0.60, "write-up 2: val F1 about 0.60 (RGB + FFT input)", "06_train_hrnet",
        WRITEUP2.replace(arch="rgb_fft"),
    ),
}  # fmt: skip


def list_recipes() -> list[str]:
    """Architectures with a recipe (every registered model)."""
    return sorted(_REFERENCES)


def reference(arch: str) -> Reference:
    """The write-ups' reported number and notes for ``arch``."""
    _check(arch)
    return _REFERENCES[arch]


def get_recipe(arch: str, **overrides: Any) -> TrainConfig:
    """The recipe of ``arch`` with ``overrides`` applied (``None`` values are ignored).

    Raises:
        ValueError: unknown architecture (the message lists the valid ones) or an
            invalid setting.
    """
    _check(arch)
    return _REFERENCES[arch].recipe.replace(**overrides)


def _check(arch: str) -> None:
    if arch not in _REFERENCES:
        close = difflib.get_close_matches(arch, _REFERENCES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown architecture {arch!r}. Valid names: {', '.join(list_recipes())}.{hint}"
        )
