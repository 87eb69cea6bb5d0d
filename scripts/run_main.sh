#!/usr/bin/env bash
# Sets everything up, builds anvil and runs the main job. Until the training engine lands,
# the main job is the kernel benchmark suite of bench/kernels (JSON copies in build/bench-results).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkdir -p build/bench-results
for b in build/bench/bench_*; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_min_time=0.2 --benchmark_out="build/bench-results/$name.json" \
       --benchmark_out_format=json
done
