"""Command line: ``python -m dflib <command>`` (or ``dflib <command>`` once installed).

Commands:
    env        what a run would use here (device, precision, compile, workers, folders)
               and the traps it would meet; takes train's flags
    generate   build (or reuse) the embedded benchmark and print its folder
    inspect    decode every file of a data folder: class counts, weights, the skip report
    train      train an architecture with its recipe into a run folder ("with training")
    predict    write submission.csv from one or more finished runs ("only inference")
    show       print a finished run's scores and where its files are

Examples:
    python -m dflib env                       # before a long run: what it will use here
    python -m dflib env --arch freqnet --compile --out /kaggle/working/runs/fn
    python -m dflib train --arch xception_resnet50 --epochs 25
    python -m dflib train --arch deepfakenet --data /path/to/data --out runs/dfn
    python -m dflib train --out runs/dfn --resume --epochs 30
    python -m dflib predict --run runs/dfn --data /path/to/data --out submission.csv
    torchrun --nproc_per_node 2 -m dflib train --arch deepfakenet --out runs/dfn2  # 2 GPUs
"""

from __future__ import annotations

import argparse
import errno
import os
import sys


def _env(args: argparse.Namespace) -> int:
    from dflib.train.flags import config_from_args
    from dflib.train.machine import machine_report

    print(machine_report(config_from_args(args), out=args.out).format())
    return 0


def _generate(args: argparse.Namespace) -> int:
    from dflib import synthetic

    root = synthetic.ensure_dataset(args.size, workers=args.workers)
    print(root)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    import numpy as np

    from dflib import data

    kw = {"synthetic_size": args.size, "classes": " ".join(args.classes or ()) or None}
    csv = {"labels_csv": args.labels_csv, "label_column": args.label_column}
    train = data.load_split(args.data_dir, "train", **csv, **kw)
    counts = data.class_counts(train.labels)
    print(f"{train.root}: {len(train):,} training images, real {counts[0]:,} / fake {counts[1]:,}")
    print(
        "class weights total / (2 * count):", np.round(data.class_weights(train.labels), 4).tolist()
    )
    val = data.load_val_if_present(args.data_dir, **csv, **kw)
    test = data.load_test_if_present(args.data_dir, **kw)
    found = [t for t in (train, val, test) if t is not None]
    notes = [f"  {t.split}: {note}" for t in found for note in t.report.notes]
    if notes:
        print("how the labels were read:", *notes, sep="\n")
    for table in found:
        _print_counts(table)
    tables = [data.verify_images(t) for t in found]
    print(f"decodable: {len(tables[0]):,} training images")
    for table in tables[1:]:
        labelled = "labelled" if table.is_labeled else "unlabeled"
        print(f"{table.split}: {len(table):,} decodable images ({labelled})")
    if val is None:
        print("validation: none given (training holds out a stratified random share)")
    if test is None:
        print("test images: no test split")
    report = data.DataReport(train.root, [item for t in tables for item in t.report.skipped])
    print(report.summary(full_list=args.report))
    if args.report:
        print("skip report written to", report.save(args.report))
    return 0


def _print_counts(table) -> None:
    """A split's images per class, and per generator (or sub-folder) where the data names them."""
    import pandas as pd

    labels = pd.Series(table.labels).map({0: "real", 1: "fake", -1: "unlabeled"})
    line = ", ".join(f"{name} {count:,}" for name, count in labels.value_counts().items())
    print(f"{table.split}: {len(table):,} images ({line})")
    if table.generators is not None:
        by = pd.crosstab(pd.Series(table.generators, name="generator").replace("", "(none)"),
                         labels.rename("class"))  # fmt: skip
        print("  " + by.to_string().replace("\n", "\n  "))


def _train(args: argparse.Namespace) -> int:
    from dflib.train import fit, reference
    from dflib.train.flags import config_from_args
    from dflib.train.loggers import write_figures
    from dflib.viz import training as figures

    config = config_from_args(args)
    result = fit(config, out=args.out, resume=args.resume, progress=not args.no_progress)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports
        return 0
    write_figures(result.run, figures.run_figures(result.run, reference(config.arch).f1))
    _print_run(result.run)
    print(f"next: python -m dflib predict --run {result.run.root} --data {config.data_dir}")
    return 0


def _print_run(run) -> None:
    from dflib.study.leaderboard import run_row

    row = run_row(run)
    print(f"run folder: {run.root}  ({row['arch']}, {row['train_images']:,} images at "
          f"{row['img_size']} px, {row['epochs']} epochs, {row['train_minutes']:.1f} min)")  # fmt: skip
    print(f"validation: F1 {row['val_f1']:.4f} at 0.5, {row['val_f1_tuned']:.4f} at the tuned "
          f"threshold {row['threshold']:.3f}; recall {row['val_recall']:.4f}; AUC {row['val_auc']:.4f}")  # fmt: skip
    if row["test_f1"] is not None:
        print(f"hidden test labels: F1 {row['test_f1']:.4f} at 0.5, {row['test_f1_tuned']:.4f} "
              f"at the tuned threshold; AUC {row['test_auc']:.4f}")  # fmt: skip
    if run.threshold_source() not in (None, run.metrics):
        print(f"submission threshold {run.decision_threshold():.3f} ({run.threshold_source()})")
    for name in ("metrics", "history", "predictions_val", "predictions_test", "best", "figures"):
        print(f"  {name:<17} {getattr(run, name)}")


def _show(args: argparse.Namespace) -> int:
    from dflib.train import run_folder

    _print_run(run_folder(args.run))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from dflib.data.template import find_template, read_template, template_from_test_csv
    from dflib.metrics import format_generator_table
    from dflib.train import predict_folder, write_predicted_submission

    predictions = predict_folder(args.run, args.data, synthetic_size=args.size,
                                 image_dir=args.image_dir, tta=args.tta, device=args.device,
                                 progress=not args.no_progress, split=args.split,
                                 classes=" ".join(args.classes or ()) or None,
                                 threshold=args.threshold, label_column=args.label_column)  # fmt: skip
    path = args.template or (find_template(predictions.root) if predictions.root else None)
    template = read_template(path) if path and path != "none" else None
    if template is None and args.template != "none" and predictions.root:
        template = template_from_test_csv(predictions.root, "prob" if args.proba else "label")
    out = write_predicted_submission(predictions, args.out, proba=args.proba, template=template)
    if template is not None:
        if args.proba and template.kind != "prob":
            print("  (--proba ignored: the template holds labels)")
    else:
        what = (
            "probabilities"
            if args.proba
            else (
                f"labels at threshold {predictions.threshold:.3f} (from {predictions.threshold_from})"
            )
        )
        print(
            f"{out}: {len(predictions.frame):,} rows, {what} (id,{'prob' if args.proba else 'label'})"
        )
    scores = predictions.scores()
    if scores is not None:
        print(f"scored against the images' labels: F1 {scores['f1']:.4f}, recall "
              f"{scores['recall']:.4f}, AUC {scores['auc']:.4f} at threshold {predictions.threshold:.3f}")  # fmt: skip
    table = predictions.by_generator()
    if table is not None:
        where = out.with_name(out.stem + "_by_generator.csv")
        table.to_csv(where, index=False)
        print(f"per generator, at threshold {predictions.threshold:.3f} ({where}):")
        print(format_generator_table(table))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dflib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_env(commands)
    generate = commands.add_parser("generate", help="build the embedded benchmark")
    generate.add_argument("--size", default="full", help="full, demo, smoke or tiny (default full)")
    generate.add_argument(
        "--workers", type=int, default=None, help="processes (default: all cores)"
    )
    generate.set_defaults(handler=_generate)
    inspect = commands.add_parser("inspect", help="check a data folder and report skipped files")
    inspect.add_argument("--data-dir", default="synthetic", help="data folder, or 'synthetic'")
    inspect.add_argument("--size", default="full", help="benchmark size when --data-dir synthetic")
    inspect.add_argument("--labels-csv", default=None, help="labels CSV name if not detected")
    inspect.add_argument("--label-column", default=None,
                         help="the labels CSV's column to trust when label sources disagree")  # fmt: skip
    _add_classes(inspect.add_argument)
    inspect.add_argument("--report", default=None, help="write the skip report to this CSV")
    inspect.set_defaults(handler=_inspect)
    _add_train(commands)
    _add_predict(commands)
    show = commands.add_parser("show", help="print a finished run's scores and files")
    show.add_argument("--run", required=True, help="run folder (a name under runs/ or a path)")
    show.set_defaults(handler=_show)
    return parser


class _TrainParser(argparse.ArgumentParser):
    """``dflib train``'s parser: its setting flags are added when it is first used, because
    reading :class:`~dflib.train.config.TrainConfig` imports torch, which ``dflib --help``
    and the other commands should not wait for."""

    settings_added = False

    def parse_known_args(self, args=None, namespace=None):
        if not self.settings_added:
            from dflib.train.flags import add_settings

            self.settings_added = True
            add_settings(self)
        return super().parse_known_args(args, namespace)


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train", help="train an architecture into a run folder",
        description="Train with the architecture's recipe (dflib.train.config); every setting "
        "left out keeps the recipe's value, or --config's. Writes runs/<name>/ (params, history, "
        "metrics, predictions, figures, best.pt, last.pt).",
    )  # fmt: skip
    train.__class__ = _TrainParser  # argparse builds subparsers itself; see _TrainParser
    add = train.add_argument
    add("--config", default=None, metavar="PARAMS_JSON",
        help="replay a run: its params.json (or run folder) gives every setting, then the flags "
        "given here override them")  # fmt: skip
    add("--out", default=None, help="run folder (default: a fresh runs/<arch>-<time>)")
    add("--resume", action="store_true", help="continue the run in --out from its last.pt "
        "with its own settings: only those TrainConfig declares free on resume (the epochs, "
        "how the steps run, the loggers: dflib.train.config.resume_settings) may change")  # fmt: skip
    add("--no-progress", action="store_true", help="no progress bars (one line per epoch)")
    train.set_defaults(handler=_train)


def _add_env(commands) -> None:
    env = commands.add_parser(
        "env", help="what a run would use on this machine, and the traps it would meet",
        description="One screen before a long run: versions, the device and its compute "
        "capability against the architectures torch was built for, the precision amp picks, "
        "whether compile and the fused AdamW run, workers, the cache and run folders, the "
        "platform; then a warning for each known trap. Takes train's flags: the report is for "
        "the run `dflib train` with the same flags would make.",
    )  # fmt: skip
    env.__class__ = _TrainParser  # train's setting flags, added when first used
    env.add_argument("--config", default=None, metavar="PARAMS_JSON",
                     help="a run's params.json (or run folder) to report on")  # fmt: skip
    env.add_argument("--out", default=None, help="the run folder the run would write")
    env.set_defaults(handler=_env, resume=False)


def _add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict", help="write a submission from finished runs",
        description="One row per image of the test folder, every id once. Several --run "
        "average their probabilities (soft voting). Labels use the runs' tuned threshold.",
    )  # fmt: skip
    add = predict.add_argument
    add("--run", action="append", required=True, help="run folder (repeat for an ensemble)")
    add(
        "--data",
        default="synthetic",
        help="a data folder (its test split), a folder of "
        "images (recursive), one image, a glob ('shots/*.jpg'), or 'synthetic'",
    )
    add("--size", default="full", help="benchmark size when --data synthetic")
    add("--image-dir", default=None, help="the test images' folder inside --data if not test/")
    add("--split", default="test", choices=("test", "val", "train"),
        help="the split of a data folder to score (default test; val: GenImage's generators)")  # fmt: skip
    _add_classes(add)
    add(
        "--template",
        default=None,
        help="a sample_submission.csv to follow (default: the one "
        "beside the data, if any; 'none': plain id,label)",
    )
    add("--out", default="submission.csv", help="the CSV to write (default submission.csv)")
    add("--proba", action="store_true", help="write probabilities of fake instead of labels")
    add("--label-column", default=None,
        help="the test CSV's label column, where its label sources disagree (scoring only)")  # fmt: skip
    add("--threshold", default=None, metavar="NUMBER|FILE",
        help="the decision threshold: a number, or a threshold.json (default: notebook 10's, "
        "found in <studies>/threshold/<run>/, else the one training tuned on validation)")  # fmt: skip
    add("--tta", action="store_true", help="average with horizontally flipped images")
    add("--device", default="auto", help="auto (default), cpu, cuda, ...")
    add("--no-progress", action="store_true", help="no progress bars")
    predict.set_defaults(handler=_predict)


def _add_classes(add) -> None:
    add("--classes", nargs="+", default=None, metavar="CLASS=NAME,NAME",
        help="which folder names (or label values) mean which class, when their names do not "
        "say: --classes real=nature,photos fake=ai")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported after parsing: ``--help`` and usage errors must not wait for pandas.
    from dflib.data import DataError

    try:
        return args.handler(args)
    except (DataError, ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # diverged training, unsafe checkpoint, missing GPU
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a full disk (a checkpoint, a cache) is a refusal too
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
