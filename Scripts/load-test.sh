#!/usr/bin/env bash
# Load and fault test of `magpie serve` (a script, not a timed test).
#
#   Scripts/load-test.sh [--no-build] [--duration SECONDS] [--connections N]
#
# 1. Builds the release binary (under the shared build lock), embeds the demo gallery
#    (data/emoji Ebay_test.txt, configs/metric_learning/xbm_demo.yaml; WEIGHTS=checkpoint to use
#    trained weights, untrained otherwise) and starts the service on 127.0.0.1.
# 2. Drives POST /v1/query with wrk for the given time while a curl loop adds items (explicit
#    ids) and deletes half of them; then checks that every acknowledged add is present and every
#    acknowledged delete is gone, and prints throughput, p50/p99 latency and the error count.
# 3. Stops the service with SIGTERM (graceful), restarts it, kills it with SIGKILL during a run
#    of adds, restarts again and checks that the gallery opens and holds the acknowledged items
#    (an add in flight at the kill may or may not have committed; it is reported).
# Environment: DATA (default data/emoji, else /work/main/data/emoji), PORT (default 18080),
# WEIGHTS, KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=1 DURATION=20 CONNECTIONS=8
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --duration) DURATION="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        *) echo "usage: $0 [--no-build] [--duration SECONDS] [--connections N]" >&2; exit 2 ;;
    esac
    shift
done

Scripts/install-deps.sh --load-test
source Scripts/lib/demo-service.sh
PORT="${PORT:-18080}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d /tmp/magpie-load.XXXXXX)"
demo_service_setup "$BUILD"

SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "work folder kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
    "$MAGPIE" serve --gallery "$WORK/gallery" "${MODEL_ARGS[@]}" --port "$PORT" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_service "$URL" "$SERVER_PID" "$WORK/server.log" 30
}

gallery_count() { curl -sf "$URL/v1/gallery/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])'; }

# Adds image $2 with id $1; prints the id when the service acknowledged it (201).
add_item() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST --data-binary "@$2" \
        -H 'Content-Type: image/jpeg' "$URL/v1/gallery/items?id=$1&label=9999" || true)
    [ "$code" = 201 ] && echo "$1"
    return 0
}

# Checks every id in file $1 answers $2 (200 or 404) on GET; prints the mismatches count.
check_ids() {
    local bad=0 id code
    while read -r id; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/gallery/items/$id")
        [ "$code" = "$2" ] || bad=$((bad + 1))
    done < "$1"
    echo "$bad"
}

echo "==> demo gallery from $DATA/Ebay_test.txt"
"$MAGPIE" gallery build "${MODEL_ARGS[@]}" --images "$DATA/Ebay_test.txt" --out "$WORK/gallery" 2>/dev/null | tail -n 1
mapfile -t IMAGES < <(awk 'NR > 1 { print $4 }' "$DATA/Ebay_train.txt" | head -n 200)
QUERY_IMAGE="$DATA/$(awk 'NR == 2 { print $4 }' "$DATA/Ebay_test.txt")"

start_server
INITIAL=$(gallery_count)
echo "==> serving $INITIAL items at $URL (pid $SERVER_PID)"

echo "==> wrk: ${DURATION}s, $CONNECTIONS connections, POST /v1/query?k=10, with concurrent adds and deletes"
: >"$WORK/added" ; : >"$WORK/deleted"
(
    i=0
    end=$((SECONDS + DURATION))
    while [ $SECONDS -lt $end ]; do
        id=$((1000000 + i))
        add_item "$id" "$DATA/${IMAGES[$((i % ${#IMAGES[@]}))]}" >>"$WORK/added"
        if [ $((i % 2)) = 1 ]; then  # delete the add before this one
            victim=$((id - 1))
            if grep -qx "$victim" "$WORK/added"; then
                code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/v1/gallery/items/$victim" || true)
                [ "$code" = 200 ] && echo "$victim" >>"$WORK/deleted"
            fi
        fi
        i=$((i + 1))
    done
) &
WRITER=$!
drive_queries "$WORK/wrk.out"
wait "$WRITER"
grep -v '^LOADTEST' "$WORK/wrk.out" | sed 's/^/    /'
SUMMARY=$(grep '^LOADTEST' "$WORK/wrk.out")
# Micro-batching as the service saw it: images per model run and time per run.
read -r RUNS BATCH RUN_MS < <(curl -sf "$URL/metrics" | awk '
    /^magpie_embed_batch_images_sum / { images = $2 } /^magpie_embed_batch_images_count / { runs = $2 }
    /^magpie_embed_duration_seconds_sum / { seconds = $2 }
    END { printf "%d %.2f %.1f\n", runs, runs ? images / runs : 0, runs ? 1000 * seconds / runs : 0 }')

grep -vxFf "$WORK/deleted" "$WORK/added" >"$WORK/kept" || true
ADDED=$(wc -l <"$WORK/added"); DELETED=$(wc -l <"$WORK/deleted"); KEPT=$(wc -l <"$WORK/kept")
MISSING=$(check_ids "$WORK/kept" 200)
RESURRECTED=$(check_ids "$WORK/deleted" 404)
COUNT=$(gallery_count)
echo "==> writes during the load: $ADDED adds and $DELETED deletes acknowledged"
echo "    acknowledged adds missing: $MISSING; acknowledged deletes still present: $RESURRECTED"
echo "    gallery holds $COUNT items, expected $INITIAL + $KEPT = $((INITIAL + KEPT))"

echo "==> graceful stop (SIGTERM)"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" && GRACEFUL=ok || GRACEFUL="exit $?"
SERVER_PID=""
tail -n 1 "$WORK/server.log" | sed 's/^/    /'

echo "==> fault test: SIGKILL during a run of adds"
start_server
BEFORE=$(gallery_count)
: >"$WORK/fault-added"; : >"$WORK/fault-attempted"
(
    for i in $(seq 0 399); do
        echo "$((2000000 + i))" >>"$WORK/fault-attempted"
        add_item "$((2000000 + i))" "$DATA/${IMAGES[$((i % ${#IMAGES[@]}))]}" >>"$WORK/fault-added"
    done
) &
ADDER=$!
sleep 3
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
wait "$ADDER" || true
ACKED=$(wc -l <"$WORK/fault-added")
echo "    killed after $ACKED acknowledged adds"
"$MAGPIE" gallery stats --gallery "$WORK/gallery" | sed 's/^/    /' | head -n 2
start_server
AFTER=$(gallery_count)
FAULT_MISSING=$(check_ids "$WORK/fault-added" 200)
grep -vxFf "$WORK/fault-added" "$WORK/fault-attempted" >"$WORK/fault-unacked" || true
UNACKED_PRESENT=$(( $(wc -l <"$WORK/fault-unacked") - $(check_ids "$WORK/fault-unacked" 200) ))
echo "    after restart: $AFTER items = $BEFORE before + $ACKED acknowledged + $UNACKED_PRESENT committed but unacknowledged (in flight at the kill)"
echo "    acknowledged adds missing after the crash: $FAULT_MISSING"

read -r REQ SEC RPS P50 P90 P99 MAX NON2XX CONN READ WRITE TIMEOUT < <(echo "$SUMMARY" | sed 's/[a-z_0-9]*=//g; s/LOADTEST //')
ERRORS=$((NON2XX + CONN + READ + WRITE + TIMEOUT))
OK=yes
[ "$MISSING" = 0 ] && [ "$RESURRECTED" = 0 ] && [ "$COUNT" = $((INITIAL + KEPT)) ] || OK=no
[ "$FAULT_MISSING" = 0 ] && [ "$AFTER" = $((BEFORE + ACKED + UNACKED_PRESENT)) ] && [ "$UNACKED_PRESENT" -le 1 ] || OK=no
[ "$GRACEFUL" = ok ] || OK=no
echo
echo "== load test summary =="
printf '  queries: %s in %ss = %s req/s; latency p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n' "$REQ" "$SEC" "$RPS" "$P50" "$P90" "$P99" "$MAX"
printf '  model runs: %s, %s images per run on average (micro-batching), %s ms per run\n' "$RUNS" "$BATCH" "$RUN_MS"
printf '  errors: %s (non-2xx %s, connect %s, read %s, write %s, timeout %s)\n' "$ERRORS" "$NON2XX" "$CONN" "$READ" "$WRITE" "$TIMEOUT"
printf '  concurrent writes: %s adds, %s deletes acknowledged; missing adds %s, surviving deletes %s\n' "$ADDED" "$DELETED" "$MISSING" "$RESURRECTED"
printf '  graceful stop: %s; SIGKILL: %s acknowledged adds, %s missing after restart, %s unacknowledged committed\n' "$GRACEFUL" "$ACKED" "$FAULT_MISSING" "$UNACKED_PRESENT"
printf '  consistent: %s\n' "$OK"
[ "$OK" = yes ] && [ "$ERRORS" = 0 ]
