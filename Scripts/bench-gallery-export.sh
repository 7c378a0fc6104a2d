#!/usr/bin/env bash
# Times `magpie gallery export` in every format on a synthetic gallery (default 60,000 × 128
# unit vectors with labels, paths and some metadata), then checks the exports with
# Scripts/check-gallery-export.py (numpy + pyarrow from PyPI in $VENV).
#
#   Scripts/bench-gallery-export.sh [N] [DIM]        # MAGPIE=.build/debug/magpie to pick a build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60000}
DIM=${2:-128}
VENV=${VENV:-.build/export-check-venv}
MAGPIE=${MAGPIE:-$( [ -x .build/release/magpie ] && echo .build/release/magpie || echo .build/debug/magpie )}
WORK=${WORK:-$(mktemp -d /tmp/magpie-export-bench.XXXXXX)}
mkdir -p "$WORK/logs"
rm -rf "$WORK/gallery"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --disable-pip-version-check --quiet numpy pyarrow
fi

echo "==> synthetic gallery $N × $DIM in $WORK"
"$VENV/bin/python" Scripts/lib/synthetic_gallery_rows.py "$N" "$DIM" "$WORK/rows.ndjson"
"$MAGPIE" gallery import --gallery "$WORK/gallery" --input "$WORK/rows.ndjson" --model Synthetic

run() {  # name, export arguments...
    local name=$1; shift
    local start end
    start=$(date +%s.%N)
    "$MAGPIE" gallery export --gallery "$WORK/gallery" --out "$WORK/$name" --force "$@" > "$WORK/logs/$name.log"
    end=$(date +%s.%N)
    printf '%-20s %6.2f s  %s\n' "$name" "$(echo "$end - $start" | bc)" "$(du -sh --apparent-size "$WORK/$name" | cut -f1)"
    grep -v "^exported" "$WORK/logs/$name.log"
}
echo "==> exports (wall time of the whole command, folder size; per-file seconds below)"
run npy --format npy
run parquet --format parquet
for flavor in plain opensearch vespa qdrant; do run "ndjson-$flavor" --format ndjson --flavor "$flavor"; done

echo "==> check"
"$VENV/bin/python" Scripts/check-gallery-export.py "$WORK/npy" "$WORK/parquet" "$WORK"/ndjson-*
