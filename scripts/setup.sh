#!/usr/bin/env bash
# Installs every Debian package that anvil's build, tests, benchmarks and examples need (and
# Fashion-MNIST, the main job's dataset, from Debian's dataset-fashion-mnist),
# skipping those already present. Safe to run again. The CUDA toolkit is optional and not
# installed here: when nvcc is on PATH (or in /usr/local/cuda) the CUDA backend is built too.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libeigen3-dev libdnnl-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libtoml11-dev
  zlib1g-dev libpng-dev libjpeg62-turbo-dev libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

# nvcc lives outside PATH on some machines; the CUDA backend is built whenever it is found.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: found nvcc in /usr/local/cuda/bin"
fi
