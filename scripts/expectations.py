"""Every notebook's expected answers, one table per size.

A notebook's checks compare its answers with its ``expect_*`` parameters, left empty by
default so that a user's own data is held only to the invariants. The values expected of
the sizes this project runs live here and nowhere else:

- :data:`CI` - the smoke size of ``make test`` (nbmake's ``mock`` metadata of each
  notebook's parameters cell is written from it by ``scripts/notebooks.py``; a test keeps
  the two the same). The CI size gives the same numbers run to run on one machine, but a
  one-epoch smoke model's numbers move with the CPU's kernels and the threads it trained
  on (16's least fall: 0.108 trained on two threads, 0.307 on one, as ``make test`` trains
  it), so a learned answer is a floor that states its direction (a gain, a drop, purer,
  inside the region), set well below what was measured: the measurement is in the comment
  beside it, and each break of the library that changes the answer still fails it.
- :data:`DEMO` - the demo size of ``make demo`` and ``make test-demo`` (the Makefile reads
  it through this script's command line).

A pair ``[low, high]`` is a band (``None``: open on that side), a single number a floor
(``*_min``) or a tolerance.

    python scripts/expectations.py demo 07_train_freqnet   # papermill's -y argument
    python scripts/expectations.py test-demo               # make test-demo's runs, one a line
"""

from __future__ import annotations

import json
import shlex
import sys

CI = {
    "01_eda": {
        "expect_ratio": [4.5, 5.3],
        "expect_noise_values": [1, 10, 245, 254],
        "expect_tolerance": [8, 14],
        "expect_single_channel_min": 0.9,
    },
    "02_filter_comparison": {
        "expect_psnr_order": "selective_median,coherent_noise_filter,global_median,none",
    },
    "03_fft_visualisation": {
        "expect_strongest_family": "tconv",
        "expect_grid_contrast_min": 0.1,
        "expect_probe_auc_min": 0.62,
    },
    "07_train_freqnet": {"expect_val_auc_min": 0.7},
    "10_threshold_tuning": {
        "expect_val_auc_min": 0.7,
        "expect_test_gain": [0.03, None],  # measured 0.164 (0.211 -> 0.375)
        "expect_test_ece_drop": [0.03, None],  # measured 0.149 (0.182 -> 0.033); no scaling: 0.0
    },
    "11_pseudo_labeling": {
        "expect_val_auc_min": 0.7,
        # measured 0.116 (purity 0.966 of 29 vs 0.850); swapped pseudo-labels: -0.82
        "expect_purity_gain": [0.02, None],
    },
    "12_ensemble": {
        "expect_val_auc_min": 0.7,
        # measured 0.008: "mean + flip" 0.383 against smoke-freqnet's 0.375; a selection
        # that picks the worst method on validation: -0.132
        "expect_test_f1_over_best_run": [-0.03, None],
    },
    "13_explain": {
        "expect_val_auc_min": 0.7,
        # measured 1.89 (0.555 of the mass on 0.301 of the image); the real logit's CAM: 0.72
        "expect_cam_ratio": [1.2, None],
    },
    # no expect_mean_drop / expect_mean_gap: neither holds across seeds at this size (seed 42:
    # mean drop -0.020, gap +0.089; seed 43: the all-families run at val AUC 0.493)
    "14_cross_generator": {"expect_val_auc_min": 0.7},
    "15_leaderboard": {
        "expect_val_auc_min": 0.7,
        # measured on the two smoke FreqNet runs: a level reported at another regime is not
        # judged by them, a comparison without its runs is not measured
        "expect_verdicts": "class weights:reproduced;freqnet:not comparable;"
        "pseudo-label probe:not comparable;tuning the decision threshold:not measured",
    },
    "16_robustness": {
        "expect_val_auc_min": 0.7,
        # a floor only: smoke-freqnet (one epoch) trained on two threads falls least by
        # 0.108 (AUC 0.673 to 0.565 at JPEG 30, 0.487 at resize 0.5, 0.413 at blur 1; 40
        # images), trained on one thread per worker as under make test by 0.307 (0.784 to
        # 0.476, 0.381, 0.331): how far a barely trained model falls varies, that it falls
        # does not (a perturbation at a tenth of its strength: 0.0)
        "expect_least_fall": [0.05, None],
    },
}

DEMO = {
    "01_eda": {
        "expect_ratio": [4.5, 5.3],
        "expect_noise_values": [1, 10, 245, 254],
        "expect_tolerance": [8, 14],
        "expect_single_channel_min": 0.9,
    },
    # The training notebooks at 64 px, 3 epochs, no fine-tuning, seed 42 (`make test-demo`):
    # val AUC of the ledger's claims-arch-<arch>-s42/43/44 runs of that regime beside the
    # 99th percentile of label-shuffled predictions on their 720 validation images
    # (0.56-0.58): each floor sits between the two.
    "04_train_xception": {"expect_val_auc_min": 0.7},  # 0.882 / 0.864 / 0.721
    "05_train_deepfakenet": {"expect_val_auc_min": 0.62},  # 0.659 / 0.686 / 0.726
    "06_train_hrnet": {"expect_val_auc_min": 0.7},  # 0.801 / 0.782 / 0.772
    "07_train_freqnet": {"expect_val_auc_min": 0.8},  # 0.891 / 0.897 / 0.949
    "08_train_hybrid": {"expect_val_auc_min": 0.7},  # 0.851 / 0.888 / 0.889
    "09_train_resnet50": {"expect_val_auc_min": 0.65},  # 0.717 / 0.732 / 0.738
    "10_threshold_tuning": {
        "expect_val_auc_min": 0.8,
        # on the ledger's claims-arch-freqnet-s42/43/44 (make demo's regime): the tuned
        # threshold gains 0.001 / 0.006 / 0.052 F1 on the hidden test, scaling removes
        # 0.033 / 0.024 / 0.032 of its ECE
        "expect_test_gain": [-0.03, 0.09],
        "expect_test_ece_drop": [0.01, 0.06],
    },
}

# the training notebooks' demo size: 64 px, 3 epochs, no fine-tuning (the ledger's regime
# behind the DEMO floors)
DEMO_TIER = {"synthetic_size": "demo", "img_size": 64, "epochs": 3, "finetune_epochs": 0}

# what `make test-demo` runs: the training notebooks at the demo size
TEST_DEMO = [name for name in DEMO if name[:2] in {"04", "05", "06", "07", "08", "09"}]

SIZES = {"ci": CI, "demo": DEMO}


def papermill_args(size: str, notebook: str) -> str:
    """The notebook's expectations at ``size`` as papermill's ``-y`` argument (JSON is
    YAML), shell-quoted; empty where the table holds none."""
    expected = SIZES[size].get(notebook, {})
    return f"-y {shlex.quote(json.dumps(expected))}" if expected else ""


def demo_tier_args(notebook: str) -> str:
    """What ``make test-demo`` passes a training notebook: the demo size at 64 px for 3
    epochs without fine-tuning (the ledger's regime behind the floors), its own run folder,
    and its expectations."""
    size = " ".join(f"-p {name} {value}" for name, value in DEMO_TIER.items())
    return (
        f"{size} -p out runs/test-demo-{notebook} -p resume True {papermill_args('demo', notebook)}"
    )


if __name__ == "__main__":
    if sys.argv[1] == "test-demo":  # one papermill command per training notebook
        for name in TEST_DEMO:
            print(f"notebooks/{name}.ipynb reports/test-demo/{name}.ipynb {demo_tier_args(name)}")
    else:
        size, notebook = sys.argv[1:3]
        print(papermill_args(size, notebook))
