#!/usr/bin/env bash
# Sets everything up, builds anvil and runs the main job: `anvil train` of the Fashion-MNIST
# example (a small CNN, 5 epochs, validated after each), which prints MMEngine-style logs and
# leaves its work directory in work_dirs/fashion_mnist. Extra arguments go to `anvil train`
# (e.g. --cfg-options train_cfg.max_epochs=10).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/tools/anvil train examples/fashion_mnist/fashion_mnist.toml "$@"
