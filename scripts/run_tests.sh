#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine, builds anvil (CUDA backend included when the
# toolkit is there) and runs the whole test suite. GPU tests skip themselves without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 900
