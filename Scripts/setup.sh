#!/usr/bin/env bash
# Sets up a fresh Debian machine for Magpie and builds the release binary (.build/release/magpie).
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-deps.sh
command -v swift >/dev/null || { echo "error: swift is not on PATH (Swift 6.1 or later is required)" >&2; exit 1; }
echo "==> swift build -c release" >&2
swift build -c release --product magpie
