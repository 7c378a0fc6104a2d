#!/usr/bin/env bash
# Service writes on a large gallery (a benchmark, not a timed test): how long `POST
# /v1/gallery/items` takes on a gallery of ITEMS vectors searched through INDEX while wrk keeps a
# query load on the service, and whether a deleted item ever comes back in a later query.
#
#   Scripts/bench-service-add.sh [--items N] [--index SPEC] [--duration SECONDS] [--connections N] [--no-build]
#
# 1. Writes ITEMS (default 1,000,000) seeded unit vectors in 128 dimensions (a Gaussian mixture of
#    1,000 clusters, as real embeddings cluster) with numpy, imports them into a new gallery and
#    builds its index (default HNSW16; `flat` for exact search). The demo config's model embeds
#    to 128 dimensions, so the service accepts the gallery.
# 2. Serves it, drives POST /v1/query with wrk (CONNECTIONS, default 2) for DURATION seconds
#    (default 30) while a client adds demo images one at a time (explicit ids) and deletes every
#    other one, timing each add and delete from request to acknowledgement (after the LMDB commit).
# 3. Queries every deleted item's own image and checks the deleted id is never among the top 20;
#    checks every kept add answers GET and every delete answers 404.
# Prints add and delete latency (p50 / p99 / max), query throughput and latency, and the checks.
# Environment: KEEP=1 keeps the work folder (the gallery is ~0.6 GB at 1M items), PORT (18090).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=1 ITEMS=1000000 INDEX=HNSW16 DURATION=30 CONNECTIONS=2
while [ $# -gt 0 ]; do
    case "$1" in
        --items) ITEMS=$2; shift 2 ;;
        --index) INDEX=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n 2,18p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

Scripts/install-deps.sh --load-test
command -v python3 >/dev/null && python3 -c 'import numpy' 2>/dev/null || Scripts/install-deps.sh --fault-test
source Scripts/lib/demo-service.sh
demo_service_setup "$BUILD"
PORT="${PORT:-18090}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d /tmp/magpie-add-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "work folder kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> $ITEMS vectors, 128 dimensions, 1,000 clusters"
python3 - "$ITEMS" "$WORK/vectors.npy" <<'PY'
import sys
import numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
centres = rng.standard_normal((1000, 128)).astype(np.float32)
out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 128))
for start in range(0, n, 100_000):
    rows = min(100_000, n - start)
    x = centres[rng.integers(0, 1000, rows)] + 0.6 * rng.standard_normal((rows, 128)).astype(np.float32)
    out[start:start + rows] = x / np.linalg.norm(x, axis=1, keepdims=True)
out.flush()
PY
"$MAGPIE" gallery import --gallery "$WORK/gallery" --input "$WORK/vectors.npy" --model synthetic | tail -n 1
rm -f "$WORK/vectors.npy"
"$MAGPIE" gallery index --gallery "$WORK/gallery" --index "$INDEX" | tail -n 1

"$MAGPIE" serve --gallery "$WORK/gallery" "${MODEL_ARGS[@]}" --port "$PORT" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_service "$URL" "$SERVER_PID" "$WORK/server.log" 300
echo "==> serving $(curl -sf "$URL/v1/gallery/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["items"], "items,", s.get("index", "?"))')"

mapfile -t IMAGES < <(awk 'NR > 1 { print $4 }' "$DATA/Ebay_train.txt" | head -n 200)
QUERY_IMAGE="$DATA/$(awk 'NR == 2 { print $4 }' "$DATA/Ebay_test.txt")"
echo "==> wrk: ${DURATION}s, $CONNECTIONS connections, POST /v1/query?k=10, while one client adds and deletes"
: >"$WORK/adds"; : >"$WORK/deletes"
(
    i=0
    end=$((SECONDS + DURATION))
    while [ $SECONDS -lt $end ]; do
        id=$((5000000 + i)) image="$DATA/${IMAGES[$((i % ${#IMAGES[@]}))]}"
        read -r code seconds < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 -X POST \
            --data-binary "@$image" -H 'Content-Type: image/jpeg' "$URL/v1/gallery/items?id=$id&label=9999" || echo "000 0")
        echo "$id $code $seconds $image" >>"$WORK/adds"
        if [ $((i % 2)) = 1 ] && [ "$code" = 201 ]; then
            read -r code seconds < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X DELETE "$URL/v1/gallery/items/$id" || echo "000 0")
            echo "$id $code $seconds $image" >>"$WORK/deletes"
        fi
        i=$((i + 1))
        sleep 0.05
    done
) &
WRITER=$!
drive_queries "$WORK/wrk.out"
wait "$WRITER"

# A deleted id must never come back: query each deleted item's own image (its kept twins hold
# the same image, so the neighbourhood is the right one).
: >"$WORK/resurrected"
while read -r id code _ image; do
    [ "$code" = 200 ] || continue
    curl -s -X POST --data-binary "@$image" -H 'Content-Type: image/jpeg' "$URL/v1/query?k=20" \
        | python3 -c "import json,sys; ids=[n['id'] for n in json.load(sys.stdin)['neighbours']]; print('$id' if $id in ids else '', end='')" >>"$WORK/resurrected"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/gallery/items/$id")" = 404 ] || echo " get:$id" >>"$WORK/resurrected"
done <"$WORK/deletes"
MISSING=0
while read -r id code _ _; do
    [ "$code" = 201 ] || continue
    grep -q "^$id 200 " "$WORK/deletes" && continue
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/gallery/items/$id")" = 200 ] || MISSING=$((MISSING + 1))
done <"$WORK/adds"

python3 - "$WORK" "$MISSING" <<'PY'
import pathlib, re, sys
work, missing = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def latencies(name, ok):
    rows = [line.split() for line in (work / name).read_text().splitlines() if line.strip()]
    good = sorted(1000 * float(r[2]) for r in rows if r[1] == ok)
    return len(rows), good
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")
summary = re.search(r"LOADTEST (.*)", (work / "wrk.out").read_text())
fields = dict(kv.split("=") for kv in summary.group(1).split()) if summary else {}
print("== service writes on a large gallery ==")
for name, ok in (("adds", "201"), ("deletes", "200")):
    total, good = latencies(name, ok)
    print(f"  {name}: {len(good)} of {total} acknowledged; latency p50 {pct(good, 50):.1f} ms, p99 {pct(good, 99):.1f} ms, max {max(good, default=float('nan')):.1f} ms")
if fields:
    print(f"  queries meanwhile: {fields['requests']} in {fields['seconds']} s = {fields['rps']} req/s; p50 {fields['p50_ms']} ms, "
          f"p99 {fields['p99_ms']} ms; non-2xx {fields['non2xx']}, timeouts {fields['timeout']}")
resurrected = (work / "resurrected").read_text().split()
print(f"  deleted ids returned by a later query or GET: {len(resurrected)}{' (' + ', '.join(resurrected[:10]) + ')' if resurrected else ''}")
print(f"  acknowledged adds missing: {missing}")
PY
tail -n 3 "$WORK/server.log" | sed 's/^/  server: /'
