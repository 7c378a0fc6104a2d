# Shared by Scripts/load-test.sh, Scripts/fault-test.sh and Scripts/bench-service-add.sh (sourced,
# from the repository root): the demo data, the model arguments that embed with the XBM demo
# config, the release binary, waiting for a started service, and a wrk query load.
#
#   demo_service_setup BUILD     BUILD=1 builds the release binary first (under the build lock)
#
# Sets DATA (absolute; from $DATA, else data/emoji, else /work/main/data/emoji), CONFIG (the XBM
# demo config), MODEL_ARGS (-c $CONFIG with the data's image root and list; --weights
# $WEIGHTS when set, then the words of $MAGPIE_FLAGS) and MAGPIE (the release binary). Exits with a message when either is missing.
demo_service_setup() {
    DATA="${DATA:-data/emoji}"
    [ -f "$DATA/Ebay_test.txt" ] || DATA=/work/main/data/emoji
    [ -f "$DATA/Ebay_test.txt" ] || { echo "error: no demo data (run Scripts/fetch-demo-data.sh or set DATA)" >&2; exit 1; }
    DATA="$(cd "$DATA" && pwd)"
    CONFIG=configs/metric_learning/xbm_demo.yaml
    MODEL_ARGS=(-c "$CONFIG" -o "DataLoader.Eval.Gallery.dataset.image_root=$DATA"
                -o "DataLoader.Eval.Gallery.dataset.cls_label_path=$DATA/Ebay_test.txt")
    [ -n "${WEIGHTS:-}" ] && MODEL_ARGS+=(--weights "$WEIGHTS")
    # Extra model flags, e.g. MAGPIE_FLAGS="--inference eager" or "--precision bf16".
    local extra
    read -r -a extra <<< "${MAGPIE_FLAGS:-}"
    MODEL_ARGS+=("${extra[@]}")
    if [ "$1" = 1 ]; then
        echo "==> release build (waits for the build lock)"
        flock /tmp/magpie-build.lock swift build -c release --product magpie 2>&1 | tail -n 3
    fi
    MAGPIE="$(swift build -c release --show-bin-path)/magpie"
    [ -x "$MAGPIE" ] || { echo "error: $MAGPIE missing; run without --no-build" >&2; exit 1; }
}

# Drives POST $URL/v1/query?k=10 with wrk (2 threads, $CONNECTIONS connections, $DURATION seconds)
# on the image $QUERY_IMAGE, writing wrk's report to $1.
drive_queries() {
    IMAGE="$QUERY_IMAGE" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s Scripts/load-test/query.lua \
        "$URL/v1/query?k=10" >"$1" 2>&1
}

# Waits until the service at $1 answers /healthz, for at most $4 seconds; exits with the last
# lines of log $3 when process $2 dies first or time runs out.
wait_for_service() {
    local url=$1 pid=$2 log=$3 seconds=$4
    for _ in $(seq 1 $((seconds * 10))); do
        curl -sf "$url/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { echo "error: the server exited; log:" >&2; tail -n 20 "$log" >&2; exit 1; }
        sleep 0.1
    done
    echo "error: the server did not answer /healthz in $seconds s" >&2; exit 1
}
