"""Leave one generator family out: does a detector find fakes of a generator it never saw?

The embedded benchmark's fakes come from three generator families (``tconv``,
``nearest``, ``bilinear``: :mod:`dflib.synthetic.generator_sim`), and its hidden test
labels (``test_labels.csv``) name each fake's family. For every architecture, one run
trains on the fakes of two families (and every real image) and one run, the baseline, on
all three (:attr:`dflib.train.TrainConfig.fake_families`). Each run's test predictions
are then scored on subsets that share the same real images:

- **in-family**: the reals plus the fakes of one family the run trained on;
- **out-of-family**: the reals plus the fakes of the held-out family;
- the baseline's score on that held-out family (what training on it would have given).

Each subset holds one family's fakes, so F1 compares like with like (F1 depends on the
share of fakes; AUC, recall and the reals' false-positive rate do not). Rows with
``family == "pooled"`` score the reals with every in-family fake together.
F1 is taken at the run's own decision threshold (:meth:`RunFolder.decision_threshold`,
tuned on its validation split, which holds no held-out fakes either).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dflib.data import load_hidden_test_labels, load_split, resolve_data_dir
from dflib.environment import split_names
from dflib.metrics import binary_metrics
from dflib.train.config import get_recipe
from dflib.train.inputs import data_options
from dflib.train.plan import PlannedRun
from dflib.train.runs import RunFolder

FAMILIES = ("tconv", "nearest", "bilinear")
ALL = "none"  # ``held_out`` of the baseline run (trained on every family)
STUDY = "crossgen"  # a run's role: crossgen/<arch>/<held-out family or "none">
COLUMNS = ["arch", "run", "held_out", "subset", "family", "n_real", "n_fake", "threshold",
           "f1", "auc", "recall", "fpr"]  # fmt: skip


def plan_runs(
    archs: str | list[str],
    families: str | tuple[str, ...] = FAMILIES,
    prefix: str = "xgen",
    **settings,
) -> list[PlannedRun]:
    """Every (architecture, held-out family) run plus one all-families baseline per
    architecture, named ``<prefix>-<arch>-no-<family>`` and ``<prefix>-<arch>-all``; train
    or find them with :func:`dflib.train.plan.ensure_planned`.

    Each is its architecture's recipe with ``settings`` and the fake families it trains on
    (:attr:`dflib.train.TrainConfig.fake_families`, ``()`` = all); a finished run of the
    name is taken only when it trained on those families (else a clear error: delete it or
    choose another prefix). Its role is ``crossgen/<arch>/<held-out family>``
    (:func:`held_out`).

    Args:
        archs: architectures, a list or a comma-separated string (a notebook parameter).
        families: the benchmark's generator families.
        prefix: first part of every run name.
        settings: :func:`dflib.train.get_recipe` settings for every run
            (``synthetic_size``, ``epochs``, ...).
    """
    archs, families = split_names(archs), split_names(families)
    if not archs or len(families) < 2:
        raise ValueError(
            f"need at least one architecture and two families, got archs={archs}, "
            f"families={families} (e.g. archs='freqnet,rgb_fft')"
        )
    plan = []
    for arch in archs:
        for family in (ALL, *families):
            kept = tuple(f for f in families if f != family) if family != ALL else ()
            name = f"{prefix}-{arch}-" + ("all" if family == ALL else f"no-{family}")
            config = get_recipe(arch, **{**settings, "fake_families": kept})
            plan.append(PlannedRun(name, config, f"{STUDY}/{arch}/{family}", ("fake_families",)))
    return plan


def held_out(planned: PlannedRun) -> str:
    """The family a planned run leaves out of training (:data:`ALL`: none), from its role."""
    return planned.role.rsplit("/", 1)[-1]


def test_truth(run: RunFolder) -> pd.DataFrame:
    """``id``, ``label`` and ``family`` of the test images of the data ``run`` trained on.

    Raises:
        ValueError: the data has no hidden test labels with a ``family`` column (a user's
            data folder usually has neither); the message says what is expected.
    """
    params = run.read_json("params")
    root = resolve_data_dir(
        params.get("data_dir", "synthetic"), params.get("synthetic_size", "full")
    )
    hidden = load_hidden_test_labels(root)
    if hidden is None or "family" not in hidden.columns:
        what = "no test_labels.csv" if hidden is None else "a test_labels.csv without 'family'"
        raise ValueError(
            f"cross-generator scores need the test images' labels and generator families, but "
            f"{root} has {what}. Expected test_labels.csv with columns id,label,family (family "
            "empty for real images), as the embedded benchmark writes (data_dir='synthetic')."
        )
    truth = hidden[["id", "label", "family"]].copy()
    truth["id"] = truth["id"].astype(str)
    truth["family"] = truth["family"].where(truth["label"] == 1, "")
    return truth


def held_out_fakes_validated(plan: list[PlannedRun], runs: list[RunFolder]) -> int:
    """Fakes of its held-out family in each held-out run's validation split, summed: 0
    where the family stayed unseen. Validation is split from the same family-filtered
    table as training, so a held-out family that leaks into training shows here too; it
    would also tune the run's threshold on fakes the study calls unseen."""
    leaked, tables = 0, {}  # one read of each data the runs trained on
    for p, run in zip(plan, runs, strict=True):
        family = held_out(p)
        if family == ALL:
            continue
        options = data_options(p.config)
        key = (str(p.config.data_dir), *options.values())
        if key not in tables:
            tables[key] = load_split(p.config.data_dir, "train", **options).frame
        train = tables[key]
        validated = set(run.read_predictions("val")["id"].astype(str))
        fakes = train[(train["label"] == 1) & (train["family"].astype(str) == family)]
        leaked += int(fakes["id"].astype(str).isin(validated).sum())
    return leaked


def subset_scores(labels, probs, threshold: float) -> dict[str, float]:
    """F1, AUC and recall of fakes at ``threshold``, and the reals' false-positive rate."""
    labels, probs = np.asarray(labels, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    scores = binary_metrics(labels, probs, threshold)
    reals = labels == 0
    fpr = float((probs[reals] >= threshold).mean()) if reals.any() else float("nan")
    return {"n_real": int(reals.sum()), "n_fake": int((labels == 1).sum()),
            "threshold": float(threshold), "f1": scores["f1"],
            "auc": scores.get("auc", float("nan")), "recall": scores["recall"], "fpr": fpr}  # fmt: skip


def family_scores(
    frame: pd.DataFrame, threshold: float, trained: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Scores of one run on the reals plus the fakes of each family, and pooled in-family.

    Args:
        frame: one row per test image with ``label`` (0/1), ``family`` (of fakes) and
            ``prob`` (the run's probability of "fake").
        threshold: the run's decision threshold.
        trained: the fake families the run trained on (``()`` = all).

    Returns:
        Rows ``subset`` ("in-family" / "out-of-family"), ``family`` (or "pooled") and the
        :func:`subset_scores` columns.
    """
    reals = frame[frame["label"] == 0]
    fakes = frame[frame["label"] == 1]
    present = [f for f in FAMILIES if f in set(fakes["family"])]
    present += sorted(set(fakes["family"]) - set(present))
    trained = tuple(trained) or tuple(present)
    rows = []
    for family in present:
        part = pd.concat([reals, fakes[fakes["family"] == family]])
        subset = "in-family" if family in trained else "out-of-family"
        rows.append({"subset": subset, "family": family,
                     **subset_scores(part["label"], part["prob"], threshold)})  # fmt: skip
    seen = fakes[fakes["family"].isin(trained)]
    if seen["family"].nunique() > 1:
        part = pd.concat([reals, seen])
        rows.append({"subset": "in-family", "family": "pooled",
                     **subset_scores(part["label"], part["prob"], threshold)})  # fmt: skip
    return pd.DataFrame(rows)


def score_runs(plan: list[PlannedRun], runs: list[RunFolder]) -> pd.DataFrame:
    """The tidy table: one row per (run, subset, family), columns :data:`COLUMNS`."""
    frames, truths = [], {}
    for p, run in zip(plan, runs, strict=True):
        params = run.read_json("params")
        key = (params.get("data_dir"), params.get("synthetic_size"))
        if key not in truths:
            truths[key] = test_truth(run)
        predictions = run.read_predictions("test")[["id", "prob"]]
        frame = truths[key].merge(predictions, on="id", how="inner")
        if frame.empty:
            raise ValueError(f"no test prediction of {run.root} matches a hidden test label")
        scores = family_scores(frame, run.decision_threshold(), p.config.fake_families)
        frames.append(scores.assign(arch=p.arch, run=run.name, held_out=held_out(p)))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def score_on_generators(
    runs: list[RunFolder], folder: str, split: str = "test", device: str = "auto"
) -> pd.DataFrame:
    """Each run scored on a user's folder of generators, one row per run and generator
    plus each run's mean over generators and pooled rows (:func:`dflib.metrics.by_generator`,
    at the run's threshold): ``test/<generator>/{0_real,1_fake}`` as CNNDetection ships it,
    or GenImage's root of generator folders with ``split="val"``.

    Raises:
        ValueError: the folder names fewer than two generators or holds no labels.
    """
    from dflib.train import predict_folder

    tables = []
    for run in runs:
        predictions = predict_folder([run.root], folder, split=split, device=device, progress=False)
        table = predictions.by_generator()
        if table is None:
            raise ValueError(
                f"{folder} does not name two generators with labelled images: expected "
                "<generator>/{0_real,1_fake} (class folders at any depth below each generator)"
            )
        tables.append(table.assign(run=run.root.name))
    frame = pd.concat(tables, ignore_index=True)
    return frame[["run", *[c for c in frame.columns if c != "run"]]]


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (arch, held-out family): in-family (mean over the trained families),
    out-of-family and the baseline's score on the held-out family, for F1 and AUC, and
    the drops ``in - out`` and ``baseline - out``."""
    single = table[table["family"] != "pooled"]
    base = single[single["held_out"] == ALL].set_index(["arch", "family"])
    rows = []
    for (arch, held_out), group in single[single["held_out"] != ALL].groupby(
        ["arch", "held_out"], sort=False
    ):
        inside = group[group["subset"] == "in-family"]
        outside = group[group["subset"] == "out-of-family"]
        row = {"arch": arch, "held_out": held_out, "fpr": float(group["fpr"].iloc[0])}
        for metric in ("f1", "auc", "recall"):
            row[f"in_{metric}"] = float(inside[metric].mean())
            row[f"out_{metric}"] = float(outside[metric].mean())
            key = (arch, held_out)
            row[f"base_{metric}"] = float(base.loc[key, metric]) if key in base.index else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for metric in ("f1", "auc"):
        out[f"drop_{metric}"] = out[f"in_{metric}"] - out[f"out_{metric}"]
        out[f"gap_{metric}"] = out[f"base_{metric}"] - out[f"out_{metric}"]
    order = ["arch", "held_out", "in_f1", "out_f1", "base_f1", "in_auc", "out_auc", "base_auc",
             "in_recall", "out_recall", "base_recall", "fpr", "drop_f1", "drop_auc", "gap_f1",
             "gap_auc"]  # fmt: skip
    return out[order]


def conclusion(summary: pd.DataFrame) -> str:
    """A few plain sentences computed from :func:`summarise`'s table."""
    if summary.empty:
        return "no held-out runs were scored"
    lines = []
    for arch, group in summary.groupby("arch", sort=False):
        worst = group.loc[group["drop_auc"].idxmax()]
        lines.append(
            f"{arch}: out-of-family AUC {group['out_auc'].mean():.3f} vs in-family "
            f"{group['in_auc'].mean():.3f} (mean drop {group['drop_auc'].mean():+.3f}; "
            f"F1 {group['out_f1'].mean():.3f} vs {group['in_f1'].mean():.3f}); trained on all "
            f"families it scores AUC {group['base_auc'].mean():.3f} on the same fakes. "
            f"Hardest family to generalise to: {worst['held_out']} (AUC drop "
            f"{worst['drop_auc']:+.3f})."
        )
    drop = summary["drop_auc"].mean()
    verdict = ("generalise poorly to an unseen generator family" if drop > 0.05 else
               "lose little on an unseen generator family" if drop > -0.02 else
               "score unseen families no worse than seen ones")  # fmt: skip
    lines.append(
        f"Over {len(summary)} held-out runs the detectors {verdict}: mean AUC drop "
        f"{drop:+.3f}, mean F1 drop {summary['drop_f1'].mean():+.3f} "
        "(one seed per run)."
    )
    return "\n".join(lines)
