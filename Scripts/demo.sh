#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job on this machine.
# Today the main job is the kernel benchmark (sgemm peak, then conv forward+backward on the
# ResNet-50 and WRN-28-2 layer shapes against same-size sgemm).
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/setup.sh
.build/release/magpie bench gemm
.build/release/magpie bench conv
