#!/usr/bin/env bash
# The release build of the `kiln` binary, exactly as the Dockerfile runs it; CI runs it too.
#   deploy/build-release.sh                 # CPU
#   FEATURES=cuda deploy/build-release.sh   # GPUs (needs nvcc; CUDA_COMPUTE_CAP=90 for H100)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p kiln --features "${FEATURES:-}"
