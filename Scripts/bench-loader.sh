#!/usr/bin/env bash
# Decode + augment throughput of the XBM training chain: Magpie vs Pillow + numpy on the same JPEGs.
#   Scripts/bench-loader.sh [IMAGES]      (default 256)
# Needs the release build and, for the peer, a Python with Pillow and numpy:
#   python3 -m venv /tmp/fx && /tmp/fx/bin/pip install pillow numpy && PYTHON=/tmp/fx/bin/python Scripts/bench-loader.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
count="${1:-256}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
[ -x .build/release/magpie ] || swift build -c release --product magpie
.build/release/magpie bench loader --images "$count" --folder "$dir/jpegs" --json > "$dir/ours.json"
.build/release/magpie bench loader --images "$count" --folder "$dir/jpegs"
if ! "$PYTHON" -c "import PIL, numpy" 2>/dev/null; then
    echo "peer skipped: $PYTHON has no Pillow/numpy (see the header of this script)"
    exit 0
fi
"$PYTHON" Scripts/bench_loader_pillow.py "$dir/jpegs" | tee "$dir/peer.txt"
"$PYTHON" - "$dir/ours.json" "$dir/peer.txt" <<'PY'
import json, re, sys
ours = {r["name"]: r["images_per_s"] for r in json.load(open(sys.argv[1]))["rows"]}
peer = dict(re.findall(r"pillow (.+), 1 thread: ([0-9.]+)", open(sys.argv[2]).read()))
for name, key in (("decode only", "decode only"), ("decode + XBM train chain", "decode + XBM train chain")):
    a, b = ours[f"{name}, 1 thread"], float(peer[key])
    print(f"{name:28s} magpie {a:8.1f}/s  pillow {b:8.1f}/s  ratio {a / b:5.2f}x")
PY
