#!/usr/bin/env bash
# One chunk of the recipe-regime claims campaign in one GPU call (at most 9 minutes): the
# bare machine generates the full embedded benchmark (about a minute on 16 cores), trains
# as many whole runs of the plan as fit (none started after CAMPAIGN_MIN minutes, none
# expected to end after CAMPAIGN_DEADLINE_MIN: a run of the same kind in this call took
# that long; within 150 + 440 s in all), skipping every run the ledger (reports/runs/,
# carried with the tree) already holds, and writes their ledger
# entries as one archive per process, $OUT/claims_runs-<i>.tar.gz. CAMPAIGN_JOBS (default 2)
# runs train at once on the one GPU: each recipe's batch of 16-32 leaves most of the chip
# idle. Unmeasured yet: compare the img/s lines of campaign.log with CAMPAIGN_JOBS=1.
#
# Run there with .whl carried (kornia: see the top of bench/gpu.sh):
#     bash scripts/gpu_campaign.sh                       # the recipe regime, 3 seeds
#     bash scripts/gpu_campaign.sh --seeds 1 --epochs 25 --train-images 0 \
#         --only 'claims-arch-xception_resnet50-*'       # XceptionResNet50's full recipe
#     bash scripts/gpu_campaign.sh --seeds 1 --epochs 40 --only 'claims-arch-xception_resnet50-*'
# (these two fit one call only at >= 3,000 img/s end to end: at the 683 img/s that
# reports/benchmarks.md measured on an H100, 44,000 training images x 25 epochs take ~27
# min and 17,600 x 40 ~17 min; run `bash bench/gpu.sh` first and read its arch table)
# Back here:
#     python scripts/ledger.py import <files_at>/claims_runs*.tar.gz && make results
#
# The plan (dflib.study.claims): every architecture at its recipe's image size and
# batch, 20,000 training images of the full benchmark, 10 epochs, seeds 42-44, and the
# comparison claims at that size. Arguments after the script's replace those defaults
# (argparse keeps the last of a repeated flag).
set -uo pipefail

OUT=${OUT:-/tmp/dflib-campaign}
MINUTES=${CAMPAIGN_MIN:-6}  # start no run after this,
DEADLINE=${CAMPAIGN_DEADLINE_MIN:-7}  # nor one that a run like it says would end after this
JOBS=${CAMPAIGN_JOBS:-2}
mkdir -p "$OUT"
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh

timeout 150 python3 -m dflib generate --size full 2>&1 | tail -3 | tee "$OUT/generate.log"
timeout 440 python3 scripts/claims_runs.py --size full --img-size 0 --epochs 10 \
    --train-images 20000 --seeds 3 --jobs "$JOBS" \
    --budget-min "$MINUTES" --deadline-min "$DEADLINE" \
    --export "$OUT/claims_runs.tar.gz" "$@" 2>&1 | tee "$OUT/campaign.log"
