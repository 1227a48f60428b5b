#!/usr/bin/env bash
# The one prepared GPU command: install the wheels the GPU machine lacks, run the CUDA
# tests, then the bench's GPU tables, writing everything under $OUT. About 9 minutes at
# most (each stage has its own time limit, and the bench saves after every table, so a
# stage stopped by its limit keeps the tables it finished).
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
# per measurement, default 2.5), BENCH_SECTIONS (default augment,arch,epochs,precision).
set -uo pipefail

OUT=${OUT:-/tmp/dflib-gpu}
SIZE=${BENCH_SIZE:-demo}
SECONDS_EACH=${BENCH_SECONDS:-2.5}
SECTIONS=${BENCH_SECTIONS:-augment,arch,epochs,precision}
mkdir -p "$OUT/results"
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/gpu_env.sh
source bench/gpu_env.sh

# 1. the tests whose CUDA paths CPU runs skip, the batched augmentations, the resident
#    cache and the compiled step (~2 minutes)
timeout 170 python3 -m pytest -q -rs -p no:cacheprovider \
    tests/test_filters.py tests/test_spectral.py tests/test_batched_augment.py \
    tests/test_cuda_step.py tests/test_resident.py \
    2>&1 | tee "$OUT/tests.log"
tests=${PIPESTATUS[0]}

# 2. the bench: its GPU tables, results saved after each (~6 minutes at most)
timeout 350 python3 bench/run.py --size "$SIZE" --seconds "$SECONDS_EACH" \
    --sections "$SECTIONS" --results "$OUT/results" --out "$OUT/benchmarks.md" \
    2>&1 | tee "$OUT/bench.log"
bench=${PIPESTATUS[0]}

echo "tests exit $tests, bench exit $bench (124: stopped by its time limit)" | tee -a "$OUT/bench.log"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
