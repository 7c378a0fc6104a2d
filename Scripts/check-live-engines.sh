#!/usr/bin/env bash
# Feeds `magpie gallery export` folders to real vector engines running in-process here and
# measures their recall@k against Magpie's exact search (exact_topk.json). Not run in CI: it
# installs engines from PyPI and takes a minute or two.
#
#   Scripts/check-live-engines.sh [--gallery DIR]
#
# Without --gallery it builds a synthetic gallery of $N × $DIM unit vectors (default 20,000 × 128,
# metric $METRIC: IP or L2) with labels, paths and JSON metadata on some items and nulls on others.
# It exports the gallery as npy, parquet and ndjson --flavor qdrant into a temporary folder
# ($WORK; removed afterwards unless KEEP=1), then runs Scripts/check_live_engines.py, which loads
# them into Milvus Lite (npy and Parquet; FLAT and HNSW), Qdrant local mode and DuckDB and prints
# rows, load seconds and recall@10 per engine. Engines come from PyPI into $VENV (pinned below).
# OpenSearch and Vespa need servers and are not run. MAGPIE=path picks another magpie binary.
set -euo pipefail
cd "$(dirname "$0")/.."

GALLERY=""
while [ $# -gt 0 ]; do
    case $1 in
        --gallery) GALLERY=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
N=${N:-20000}
DIM=${DIM:-128}
METRIC=${METRIC:-IP}
VENV=${VENV:-.build/engines-venv}
MAGPIE=${MAGPIE:-.build/release/magpie}
PINS=(milvus-lite==3.2.2 pymilvus==3.0.2 qdrant-client==1.20.0 duckdb==2.0.1 pyarrow==26.0.1 numpy==2.4.6)

if [ ! -x "$MAGPIE" ]; then
    echo "==> building $MAGPIE"
    flock /tmp/magpie-build.lock swift build -c release --product magpie
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
echo "==> engines into $VENV: ${PINS[*]}"
"$VENV/bin/pip" install --disable-pip-version-check --quiet "${PINS[@]}"

WORK=${WORK:-$(mktemp -d /tmp/magpie-live-engines.XXXXXX)}
mkdir -p "$WORK"
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi

if [ -z "$GALLERY" ]; then
    GALLERY=$WORK/gallery
    echo "==> synthetic gallery $N × $DIM ($METRIC) in $GALLERY"
    "$VENV/bin/python" Scripts/lib/synthetic_gallery_rows.py "$N" "$DIM" "$WORK/rows.ndjson" --edge-cases
    "$MAGPIE" gallery import --gallery "$GALLERY" --input "$WORK/rows.ndjson" --model Synthetic --metric "$METRIC"
fi

echo "==> exports of $GALLERY"
for format in npy parquet qdrant; do
    args=(--format "$format")
    [ "$format" = qdrant ] && args=(--format ndjson --flavor qdrant)
    "$MAGPIE" gallery export --gallery "$GALLERY" "${args[@]}" --out "$WORK/$format" --force > "$WORK/export-$format.log"
    sed -n 1p "$WORK/export-$format.log"
done

echo "==> engines"
"$VENV/bin/python" Scripts/check_live_engines.py --npy "$WORK/npy" --parquet "$WORK/parquet" \
    --qdrant "$WORK/qdrant" --work "$WORK/engines"
