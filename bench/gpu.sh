#!/usr/bin/env bash
# The one prepared GPU command: install the wheels the GPU machine lacks, run the CUDA
# tests, then the bench's GPU tables one stage at a time, writing everything under $OUT.
# 9 minutes at most (the stage budgets below).
#
# Before (on the development machine, from the repository root): the machine's image has
# torch, torchvision, pandas, tabulate, timm and pytest, but not kornia; fetch its wheels
# into the ignored folder .whl (Python 3.12, x86-64):
#     echo /.whl/ >> .git/info/exclude
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#         --implementation cp --platform manylinux_2_28_x86_64 \
#         --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#         -d .whl kornia==0.9.0 kornia_rs
# Then run it there with .whl carried:   bash bench/gpu.sh
# After: copy $OUT/results/*.json into reports/benchmarks/ and re-render the report with
#     python bench/run.py --render-only
#
# Options through the environment: BENCH_SIZE (benchmark preset, default demo: the bench
# caches 2,048 images, so the full 60,000-PNG set is not needed), BENCH_SECONDS (time
# per measurement, default 2.5). BENCH_DRY=1 checks the call on a CPU: every stage at a
# tiny size (the tests only collected), the same budgets printed.
#
# Each stage has its own time budget, so a slow one (cold compiles) cannot eat the
# others': the tables measured before come first, the compiled epochs last, and the
# budgets add up to at most 540 s (9 minutes). The bench saves after every table, so a
# stage stopped by its budget keeps the tables it finished; each stage's seconds are
# printed, to set the next call's budgets from.
set -uo pipefail

OUT=${OUT:-/tmp/dflib-gpu}
SIZE=${BENCH_SIZE:-demo}
SECONDS_EACH=${BENCH_SECONDS:-2.5}
DRY=${BENCH_DRY:-0}
# stage:seconds, in the order they run
BUDGETS=(tests:110 augment:45 arch:100 syncs:30 precision:120 epochs:120 goals:15)
mkdir -p "$OUT/results"
cd "$(dirname "$0")/.." || exit 1

total=0
for stage in "${BUDGETS[@]}"; do total=$((total + ${stage#*:})); done
echo "stage budgets (s): ${BUDGETS[*]}; total ${total} of at most 540" | tee "$OUT/budgets.txt"
[ "$total" -le 540 ] || { echo "the budgets exceed 540 s"; exit 1; }

if [ "$DRY" = 1 ]; then
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
    TESTS_ARGS=(--collect-only)
    BENCH=(--dry --device cpu --size tiny --seconds 0.05 --images 24 --batch-size 4
           --archs freqnet --augment-archs deepfakenet --augment-px 32 --compile-archs ""
           --epochs-archs freqnet --epochs-images 24 --sync-steps 2)
else
    # shellcheck source=bench/gpu_env.sh
    source bench/gpu_env.sh
    TESTS_ARGS=()
    BENCH=(--size "$SIZE" --seconds "$SECONDS_EACH")
fi

status=0
for stage in "${BUDGETS[@]}"; do
    name=${stage%%:*}
    budget=${stage#*:}
    started=$(date +%s)
    case $name in
    tests)  # the CUDA paths CPU runs skip: batched augmentations, resident cache, compiled step
        timeout "$budget" python3 -m pytest -q -rs -p no:cacheprovider "${TESTS_ARGS[@]}" \
            tests/test_filters.py tests/test_spectral.py tests/test_batched_augment.py \
            tests/test_cuda_step.py tests/test_resident.py 2>&1 | tee "$OUT/tests.log" ;;
    goals)  # the figures the GPU-speed goals need, in one table
        timeout "$budget" python3 bench/run.py --goals --results "$OUT/results" \
            2>&1 | tee "$OUT/goals.md" ;;
    *)
        timeout "$budget" python3 bench/run.py "${BENCH[@]}" --sections "$name" --merge \
            --results "$OUT/results" --out "$OUT/benchmarks.md" 2>&1 | tee -a "$OUT/bench.log" ;;
    esac
    code=${PIPESTATUS[0]}
    echo "stage $name: exit $code (124: stopped by its budget) after $(($(date +%s) - started)) s of $budget" \
        | tee -a "$OUT/budgets.txt"
    [ "$code" -eq 0 ] || status=1
done
exit $status
