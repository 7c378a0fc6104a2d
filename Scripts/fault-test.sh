#!/usr/bin/env bash
# Fault test of the gallery tools and of `magpie serve`: feeds the program bad input, broken
# galleries, full disks, slow or hostile clients and crashes, and checks that each one ends in a
# clear error instead of a crash, a hang or lost data.
#
#   Scripts/fault-test.sh [--no-build] [--only F1,F7,...]
#
# It builds the release binary (under the shared build lock; --no-build uses the one already
# built), builds a demo gallery from data/emoji/Ebay_test.txt with the untrained model of
# configs/metric_learning/xbm_demo.yaml, then runs the cases F1... one after another. Every case
# works on its own copy of the gallery (or its own new one) and starts and stops its own server,
# so one failing case does not affect the next. Test inputs (patched JPEGs, .npy files, raw HTTP
# requests, slow clients) are made by a small Python helper (Python 3 with Pillow and numpy).
# The disk-full cases run twice: under a file size limit (ulimit -f; F3, F4) and, when run as root
# where `mount -t tmpfs` works, on a small full tmpfs (F3t, F4t; SKIP otherwise).
# F6b and F9b repeat F6 and F9 with other sizes (a 70-character boundary; a 5.2 MB file).
# At the end it prints a table `case | expected | observed | PASS/FAIL` and exits 1 when any case
# failed. A run takes about a minute and a half on two cores, plus the build.
#
# Environment: DATA (default data/emoji, else /work/main/data/emoji), PORT (default 18081),
# KEEP=1 keeps the work folder (logs of every server and command are in it).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=1 ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --only) ONLY=",$2,"; shift ;;
        *) echo "usage: $0 [--no-build] [--only F1,F2,...]" >&2; exit 2 ;;
    esac
    shift
done

source Scripts/lib/demo-service.sh
PORT="${PORT:-18081}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d /tmp/magpie-fault.XXXXXX)"
Scripts/install-deps.sh --fault-test
python3 -c 'import PIL, numpy' 2>/dev/null || { echo "error: python3 with Pillow and numpy is needed (apt python3-pil python3-numpy)" >&2; exit 1; }
demo_service_setup "$BUILD"

curl -s --max-time 2 "$URL/healthz" >/dev/null 2>&1 && { echo "error: port $PORT is in use; set PORT" >&2; rm -rf "$WORK"; exit 1; }

SERVER_PID=""
HELPERS=()
MOUNTS=()
cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Python helper: crafts inputs and plays raw-socket clients. Each subcommand prints one line.
cat >"$WORK/fault.py" <<'PY'
import io, json, os, select, socket, sys, time

def jpeg(out, width, height, progressive, pad_to="0"):
    """A 64x64 noise JPEG (a few KB) whose SOF marker claims width x height; zero bytes after
    its end (EOI) make it pad_to bytes long."""
    import numpy as np
    from PIL import Image
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95, progressive=progressive == "1")
    data = bytearray(buf.getvalue())
    i, marker = 2, None
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise SystemExit("not at a marker")
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        length = data[i + 2] << 8 | data[i + 3]
        if m in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 7] = int(height).to_bytes(2, "big")
            data[i + 7:i + 9] = int(width).to_bytes(2, "big")
            marker = m
            break
        i += 2 + length
    if marker is None:
        raise SystemExit("no SOF marker")
    data += bytes(max(0, int(pad_to) - len(data)))
    open(out, "wb").write(data)
    print("%d bytes, SOF 0xFF%02X" % (len(data), marker))

def npy(out, rows, dim, nan_row="-1", seed="0"):
    import numpy as np
    a = np.random.default_rng(int(seed)).standard_normal((int(rows), int(dim))).astype(np.float32)
    if int(nan_row) >= 0:
        a[int(nan_row), 0] = np.nan
    np.save(out, a)
    print(a.shape)

def ids(out, start, count, *overrides):
    import numpy as np
    a = np.arange(int(start), int(start) + int(count), dtype=np.int64)
    for o in overrides:
        k, v = o.split("=")
        a[int(k)] = int(v)
    np.save(out, a)
    print(len(a))

def multipart(out, boundary_len, size):
    """A body of lines that almost match a long boundary (a quadratic scan's worst case)."""
    boundary = "b" * int(boundary_len)
    line = ("--" + boundary[:-1] + "\r\n").encode()
    body = (line * (int(size) // len(line) + 1))[:int(size)]
    open(out, "wb").write(body)
    print(boundary)

def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", len(body)) or 0)
    body = body[:n]
    try:
        message = json.loads(body)["error"]["message"]
        ok = isinstance(message, str)
    except Exception:
        message, ok = body[:80].decode("latin-1"), False
    return {"status": status, "allow": headers.get("allow", ""), "json": ok, "message": message}

def response_complete(data):
    if b"\r\n\r\n" not in data:
        return False
    head, _, body = data.partition(b"\r\n\r\n")
    for l in head.decode("latin-1").split("\r\n")[1:]:
        if l.lower().startswith("content-length:"):
            return len(body) >= int(l.split(":", 1)[1])
    return False

def raw(port, request_file, timeout="5"):
    """Sends the bytes of request_file, prints the response as JSON (status, Allow, JSON body?)."""
    request = open(request_file, "rb").read()
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=float(timeout))
    try:
        s.sendall(request)
    except OSError:
        pass  # the server may answer and close before reading it all
    data = b""
    try:
        while not response_complete(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    r = parse_response(data) if data else {"status": 0, "allow": "", "json": False, "message": "no response"}
    r["seconds"] = round(time.time() - t0, 3)
    print(json.dumps(r))

def slowloris(port, n, wait):
    """n connections send part of a request line and headers, then stall; reports when and how
    the server closed them."""
    socks = {}
    t0 = time.time()
    for _ in range(int(n)):
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        s.setblocking(False)
        socks[s] = b""
    closed, got = [], []
    while socks and time.time() - t0 < float(wait):
        ready, _, _ = select.select(list(socks), [], [], 0.2)
        for s in ready:
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if chunk:
                socks[s] += chunk
            else:
                closed.append(time.time() - t0)
                got.append(parse_response(socks.pop(s)) if socks.get(s, b"") else None)
                s.close()
    statuses = [g["status"] if g else 0 for g in got]
    print(json.dumps({"opened": int(n), "closed": len(closed),
                      "first_close": round(min(closed), 2) if closed else None,
                      "last_close": round(max(closed), 2) if closed else None,
                      "s408": statuses.count(408), "json408": sum(1 for g in got if g and g["status"] == 408 and g["json"])}))

def idle(port, n, hold):
    """Opens n connections that send nothing and holds them hold seconds."""
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", int(port)))
        socks.append(s)
    time.sleep(float(hold))
    print(json.dumps({"opened": len(socks)}))

def slowbody(port, n, duration):
    """n clients send POST /v1/query headers, then the body one byte every 0.25 s."""
    socks = []
    for _ in range(int(n)):
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n\xff")
        socks.append(s)
    end = time.time() + float(duration)
    while socks and time.time() < end:
        for s in list(socks):
            try:
                s.sendall(b"\xd8")
            except OSError:
                socks.remove(s)
        time.sleep(0.25)
    print(json.dumps({"still_open": len(socks)}))

def jsonmsg(path):
    """error.message of a JSON error body, or NOT-JSON."""
    try:
        print(json.load(open(path, "rb"))["error"]["message"].replace("\n", " "))
    except Exception:
        print("NOT-JSON: " + open(path, "rb").read(60).decode("latin-1").replace("\n", " "))

def field(path, *keys):
    """A field of a JSON file (keys may be list indexes), or empty."""
    try:
        v = json.load(open(path, "rb"))
        for k in keys:
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(v)
    except Exception:
        print("")

globals()[sys.argv[1]](*sys.argv[2:])
PY
py() { python3 "$WORK/fault.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Results

CASES=() EXPECTED=() OBSERVED=() VERDICT=()
result() {  # result ID EXPECTED OBSERVED PASS|FAIL
    CASES+=("$1"); EXPECTED+=("$2"); OBSERVED+=("$3"); VERDICT+=("$4")
    printf '    %s %s: %s\n' "$1" "$4" "$3"
}
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }  # verdict TEST-COMMAND...

# ---------------------------------------------------------------------------------------------
# Servers

# start_server LOGNAME GALLERY [serve flags...]: starts `magpie serve` (under the shell limits in
# $LIMITS, e.g. "ulimit -f 900") and waits for /healthz; returns 1 when it does not come up.
start_server() {
    local log="$WORK/$1.log" gallery="$2"
    shift 2
    bash -c "trap '' XFSZ; ${LIMITS:-:}; exec \"\$@\"" serve \
        "$MAGPIE" serve --gallery "$gallery" "${MODEL_ARGS[@]}" --port "$PORT" "$@" >>"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        curl -sf --max-time 2 "$URL/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; return 1; }
        sleep 0.1
    done
    return 1
}

# Stops the server with SIGTERM (SIGKILL after 15 s).
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

health_code() { curl -s -o /dev/null -w '%{http_code}' --max-time "${1:-3}" "$URL/healthz"; }
server_items() { curl -s --max-time 5 "$URL/v1/gallery/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])' 2>/dev/null; }
cli_count() { "$MAGPIE" gallery stats --gallery "$1" 2>/dev/null | awk '$1 == "count" { print $2 }'; }

# add_image FILE QUERY OUT: POST one image to /v1/gallery/items?QUERY, body to OUT; prints the code.
add_image() {
    curl -s -o "$3" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: image/jpeg' \
        --data-binary "@$1" "$URL/v1/gallery/items?$2"
}

# A stderr file's lines that say the process crashed.
crash_lines() { grep -aiE 'double free|aborted|segmentation|bus error|fatal error|backtrace|stack dump|illegal instruction|core dumped' "$1" | head -n 2; }
first_line() { grep -a . "$1" | head -n 1 | cut -c1-150; }
nonempty_lines() { grep -ac . "$1"; }

# small_disk DIR MB: mounts a tmpfs of MB megabytes on DIR (root only); returns 1 when it cannot.
small_disk() {
    [ "$(id -u)" = 0 ] || return 1
    mkdir -p "$1" && mount -t tmpfs -o "size=${2}m" tmpfs "$1" 2>/dev/null || return 1
    MOUNTS+=("$1")
}
# fill_disk DIR BYTES: fills the file system of DIR until about BYTES are left.
fill_disk() {
    local avail
    avail=$(df -B1 --output=avail "$1" | tail -n 1)
    [ "$avail" -gt "$2" ] && head -c $((avail - $2)) /dev/zero >"$1/filler"
    return 0
}

copy_gallery() { mkdir -p "$(dirname "$2")" && cp -r "$1" "$2"; }

# run_case ID FUNCTION: runs one case in its folder; whatever it started is stopped afterwards.
run_case() {
    case "$ONLY" in "" | *",$1,"*) ;; *) return ;; esac
    echo "==> $1"
    local before=${#CASES[@]}
    mkdir -p "$WORK/$1"
    CASE_DIR="$WORK/$1"
    "$2"
    stop_server
    for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    HELPERS=()
    LIMITS=""
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
    MOUNTS=()
    [ ${#CASES[@]} -gt "$before" ] || result "$1" "(case ran)" "case recorded no result" FAIL
}

# ---------------------------------------------------------------------------------------------
# Shared inputs (read-only; cases copy what they change)

echo "==> demo gallery from $DATA/Ebay_test.txt"
BASE="$WORK/base-gallery"
"$MAGPIE" gallery build "${MODEL_ARGS[@]}" --images "$DATA/Ebay_test.txt" --out "$BASE" 2>/dev/null | tail -n 1
BASE_COUNT=$(cli_count "$BASE")
[ -n "$BASE_COUNT" ] || { echo "error: the demo gallery was not built" >&2; exit 1; }
QUERY_IMAGE="$DATA/$(awk 'NR == 2 { print $4 }' "$DATA/Ebay_test.txt")"
mapfile -t TRAIN_IMAGES < <(awk 'NR > 1 { print $4 }' "$DATA/Ebay_train.txt" | head -n 300)

echo "==> 64-d gallery of 1000 imported vectors"
IMPORT_BASE="$WORK/import-base"
py npy "$WORK/v1000.npy" 1000 64 >/dev/null
"$MAGPIE" gallery import --gallery "$IMPORT_BASE" --input "$WORK/v1000.npy" | tail -n 1

# make_list DIR: DIR/list.txt, a PaddleClas list (`path label`) of 300 images copied into DIR,
# where line 201 (DIR/img/0200.jpg) is a text file; `fix_list DIR` makes it a real image.
make_list() {
    mkdir -p "$1/img"
    local i
    for i in "${!TRAIN_IMAGES[@]}"; do
        cp "$DATA/${TRAIN_IMAGES[$i]}" "$(printf '%s/img/%04d.jpg' "$1" "$i")"
        printf 'img/%04d.jpg %d\n' "$i" $((i % 7))
    done >"$1/list.txt"
    echo "this is not an image" >"$1/img/0200.jpg"
}
fix_list() { cp "$QUERY_IMAGE" "$1/img/0200.jpg"; }

# ---------------------------------------------------------------------------------------------
# Cases

case_F1() {  # HTTP add with an id beyond 2^53-1
    local d=$CASE_DIR exp="400 JSON error; /healthz 200; restart serves all items"
    copy_gallery "$BASE" "$d/g"
    start_server F1 "$d/g" || { result F1 "$exp" "server did not start" FAIL; return; }
    local code msg health restart=failed items=""
    code=$(add_image "$QUERY_IMAGE" "id=9223372036854775807" "$d/resp")
    msg=$(py jsonmsg "$d/resp")
    health=$(health_code)
    stop_server
    if start_server F1-restart "$d/g"; then restart=ok; items=$(server_items); fi
    result F1 "$exp" "$code '${msg:0:70}'; healthz $health; restart $restart, $items items" \
        "$(verdict test "$code" = 400 -a "${msg#NOT-JSON}" = "$msg" -a "$health" = 200 -a "$restart" = ok -a "$items" = "$BASE_COUNT")"
}

case_F2() {  # CLI import with an id beyond 2^53-1 into a new gallery
    local d=$CASE_DIR exp="exit!=0 (<128), one 'Error:' line, no gallery folder"
    py npy "$d/x.npy" 3 64 >/dev/null
    py ids "$d/ids.npy" 0 3 2=9223372036854775807 >/dev/null
    "$MAGPIE" gallery import --gallery "$d/new" --input "$d/x.npy" --ids "$d/ids.npy" >"$d/out" 2>"$d/err"
    local rc=$? lines first left=no
    lines=$(nonempty_lines "$d/err"); first=$(first_line "$d/err")
    [ -e "$d/new" ] && left=yes
    result F2 "$exp" "exit $rc, $lines line(s) '${first:0:80}', folder left: $left" \
        "$(verdict test "$rc" -ne 0 -a "$rc" -lt 128 -a "$lines" = 1 -a "${first#Error: }" != "$first" -a "$left" = no)"
}

# A CLI import that cannot commit: $1 case id, $2 gallery folder, $3 how the disk was made
# full (for the table), $4 the limit to apply before exec ("" for none).
import_on_full_disk() {
    local id=$1 g=$2 how=$3 limit=$4 d=$CASE_DIR
    local exp="exit!=0 (<128), 'nothing of this write was committed', no crash; stats exit 0, 1000 items"
    py npy "$d/big.npy" 200000 64 -1 1 >/dev/null
    py ids "$d/big-ids.npy" 1000000 200000 >/dev/null
    bash -c "trap '' XFSZ; $limit exec \"\$@\"" import \
        "$MAGPIE" gallery import --gallery "$g" --input "$d/big.npy" --ids "$d/big-ids.npy" >"$d/out" 2>"$d/err"
    local rc=$? crash msg=no stats_rc count
    crash=$(crash_lines "$d/err")
    grep -q "nothing of this write was committed" "$d/err" && msg=yes
    "$MAGPIE" gallery stats --gallery "$g" >"$d/stats" 2>&1; stats_rc=$?
    count=$(awk '$1 == "count" { print $2 }' "$d/stats")
    result "$id" "$exp" "$how: exit $rc, message: $msg, crash: '${crash:-none}'; stats exit $stats_rc, $count items" \
        "$(verdict test "$rc" -ne 0 -a "$rc" -lt 128 -a "$msg" = yes -a -z "$crash" -a "$stats_rc" = 0 -a "$count" = 1000)"
    [ "$msg" = yes ] || echo "      stderr: $(first_line "$d/err")"
}

# Service adds until the disk is full: $1 case id, $2 gallery folder, $3 how (for the table).
# The server was started by the caller (under LIMITS or on a full tmpfs).
adds_on_full_disk() {
    local id=$1 how=$2 d=$CASE_DIR
    local exp="an add gets 507, the next add a JSON 5xx, /healthz 200, no crash"
    local i code="" next msg health alive=no crash
    for i in $(seq 1 400); do
        code=$(add_image "$QUERY_IMAGE" "label=1" "$d/resp")
        [ "$code" = 201 ] || break
    done
    next=$(add_image "$QUERY_IMAGE" "label=1" "$d/resp2")
    msg=$(py jsonmsg "$d/resp2")
    health=$(health_code)
    kill -0 "$SERVER_PID" 2>/dev/null && alive=yes
    crash=$(crash_lines "$WORK/$id.log")
    result "$id" "$exp" "$how: $((i - 1)) adds 201, then $code; next $next '${msg:0:60}'; healthz $health, alive $alive, crash '${crash:-none}'" \
        "$(verdict test "$code" = 507 -a "$next" = 507 -a "${msg#NOT-JSON}" = "$msg" -a "$health" = 200 -a "$alive" = yes -a -z "$crash")"
}

case_F3() {  # CLI import on a full disk (file size limit)
    copy_gallery "$IMPORT_BASE" "$CASE_DIR/g"
    local blocks=$(( $(stat -c %s "$CASE_DIR/g/data.mdb") / 1024 + 256 ))
    import_on_full_disk F3 "$CASE_DIR/g" "ulimit -f $blocks" "ulimit -f $blocks;"
}

case_F4() {  # service adds on a full disk (file size limit)
    copy_gallery "$BASE" "$CASE_DIR/g"
    local blocks=$(( $(stat -c %s "$CASE_DIR/g/data.mdb") / 1024 + 32 ))
    LIMITS="ulimit -f $blocks"
    start_server F4 "$CASE_DIR/g" || { result F4 "507 on a full disk" "server did not start under ulimit -f $blocks" FAIL; return; }
    adds_on_full_disk F4 "ulimit -f $blocks"
}

case_F3t() {  # the same on a real full disk: a 4 MB tmpfs
    small_disk "$CASE_DIR/disk" 4 || { result F3t "import on a full tmpfs" "SKIP: needs root and mount -t tmpfs" SKIP; return; }
    copy_gallery "$IMPORT_BASE" "$CASE_DIR/disk/g"
    import_on_full_disk F3t "$CASE_DIR/disk/g" "tmpfs 4 MB" ""
}

case_F4t() {  # the same on a real full disk: a tmpfs filled up to 32 KB
    small_disk "$CASE_DIR/disk" 4 || { result F4t "507 on a full tmpfs" "SKIP: needs root and mount -t tmpfs" SKIP; return; }
    copy_gallery "$BASE" "$CASE_DIR/disk/g"
    fill_disk "$CASE_DIR/disk" 32768
    start_server F4t "$CASE_DIR/disk/g" || { result F4t "507 on a full tmpfs" "server did not start on the full tmpfs" FAIL; return; }
    adds_on_full_disk F4t "tmpfs with 32 KB free"
}

case_F5() {  # multipart boundary over 70 characters
    local d=$CASE_DIR exp="400 within 1 s"
    copy_gallery "$BASE" "$d/g"
    start_server F5 "$d/g" || { result F5 "$exp" "server did not start" FAIL; return; }
    local b out msg
    b=$(printf 'x%.0s' $(seq 1 71))
    out=$(curl -s -o "$d/resp" -w '%{http_code} %{time_total}' --max-time 10 \
        -H "Content-Type: multipart/form-data; boundary=$b" -F "image=@$QUERY_IMAGE;type=image/jpeg" "$URL/v1/query")
    msg=$(py jsonmsg "$d/resp")
    set -- $out
    result F5 "$exp" "$1 in ${2}s '${msg:0:70}'" "$(verdict test "$1" = 400 -a "$(echo "$2 < 1" | bc)" = 1)"
}

# big_multipart ID BOUNDARY-LENGTH: two clients send ~3 MB multipart bodies (lines that almost
# match the boundary) again and again for 3 s while /healthz is probed; 400 expected.
big_multipart() {
    local id=$1 d=$CASE_DIR exp="all 400; /healthz 200 and < 1 s throughout"
    copy_gallery "$BASE" "$d/g"
    start_server "$id" "$d/g" || { result "$id" "$exp" "server did not start" FAIL; return; }
    local b c
    b=$(py multipart "$d/body" "$2" 3000000)
    for c in 1 2; do
        ( end=$((SECONDS + 3))
          while [ $SECONDS -lt $end ]; do
            curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 -H 'Expect:' \
                -H "Content-Type: multipart/form-data; boundary=$b" --data-binary "@$d/body" "$URL/v1/query"
          done >"$d/codes$c" ) &
        HELPERS+=($!)
    done
    : >"$d/health"
    while kill -0 "${HELPERS[0]}" 2>/dev/null || kill -0 "${HELPERS[1]}" 2>/dev/null; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 "$URL/healthz" >>"$d/health"
        sleep 0.02
    done
    local codes max slowest n bad unhealthy
    codes=$(cat "$d/codes1" "$d/codes2" | awk '{ print $1 }' | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')
    slowest=$(cat "$d/codes1" "$d/codes2" | awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { print m }')
    max=$(awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { print m }' "$d/health")
    n=$(wc -l <"$d/health")
    bad=$(cat "$d/codes1" "$d/codes2" | awk '$1 != 400' | wc -l)
    unhealthy=$(awk '$1 != 200' "$d/health" | wc -l)
    result "$id" "$exp" "boundary $2 chars: ${codes}(slowest ${slowest}s); $n /healthz probes, slowest ${max}s, non-200: $unhealthy" \
        "$(verdict test "$bad" = 0 -a "$n" -gt 0 -a "$(echo "$max < 1" | bc)" = 1 -a "$unhealthy" = 0)"
}

case_F6() { big_multipart F6 10000; }
# Supplement: a boundary of the allowed length, so the body is really searched (linear time).
case_F6b() { big_multipart F6b 70; }

# One crafted JPEG to POST /v1/query: $1 case id, $2 expected status, $3 text the error must
# contain ("" for any), then the `py jpeg` arguments (width height progressive [padded size]).
# Passes when the status comes back within 1 s.
crafted_jpeg_case() {
    local id=$1 want=$2 text=$3 d=$CASE_DIR
    shift 3
    local exp="$want within 1 s${text:+, message mentions $text}"
    copy_gallery "$BASE" "$d/g"
    local info out msg
    info=$(py jpeg "$d/crafted.jpg" "$@")
    start_server "$id" "$d/g" || { result "$id" "$exp" "server did not start" FAIL; return; }
    # no 'Expect: 100-continue' (curl waits 1 s for a 100 that the service does not send)
    out=$(curl -s -o "$d/resp" -w '%{http_code} %{time_total}' --max-time 30 -X POST -H 'Expect:' -H 'Content-Type: image/jpeg' \
        --data-binary "@$d/crafted.jpg" "$URL/v1/query")
    msg=$(py jsonmsg "$d/resp")
    local mentions=yes
    [ -n "$text" ] && [ "${msg/$text/}" = "$msg" ] && mentions=no
    set -- $out
    result "$id" "$exp" "$info: $1 in ${2}s '${msg:0:80}'" \
        "$(verdict test "$1" = "$want" -a "$(echo "$2 < 1" | bc)" = 1 -a "$mentions" = yes)"
}

# A baseline JPEG of a few KB whose header claims 6000x6000 (under --max-pixels: only the size bound refuses it).
case_F7() { crafted_jpeg_case F7 400 truncated 6000 6000 0; }

case_F8() {  # batch query of eight such images
    local d=$CASE_DIR exp="4xx within 2 s; peak RSS (VmHWM) < 1 GB"
    copy_gallery "$BASE" "$d/g"
    py jpeg "$d/big.jpg" 13000 13000 0 >/dev/null
    start_server F8 "$d/g" || { result F8 "$exp" "server did not start" FAIL; return; }
    local parts=() i out msg rss hwm
    for i in 1 2 3 4 5 6 7 8; do parts+=(-F "images=@$d/big.jpg;filename=big$i.jpg;type=image/jpeg"); done
    out=$(curl -s -o "$d/resp" -w '%{http_code} %{time_total}' --max-time 60 "${parts[@]}" "$URL/v1/query/batch")
    msg=$(py jsonmsg "$d/resp")
    rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status" 2>/dev/null)
    hwm=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$SERVER_PID/status" 2>/dev/null)
    set -- $out
    result F8 "$exp" "$1 in ${2}s '${msg:0:60}'; VmRSS ${rss} MB, VmHWM ${hwm} MB" \
        "$(verdict test "${1:0:1}" = 4 -a "$(echo "$2 < 2" | bc)" = 1 -a -n "$hwm" -a "${hwm:-9999}" -lt 1024)"
}

# A progressive JPEG whose header claims 40000x40000; F9b pads it past the truncation bound, so
# only the pixel limit refuses it.
case_F9() { crafted_jpeg_case F9 413 "" 40000 40000 1; }
case_F9b() { crafted_jpeg_case F9b 413 "" 40000 40000 1 5200000; }

case_F10() {  # 200 connections that stall inside their headers (--header-timeout 2)
    local d=$CASE_DIR exp="all 200 get 408 JSON and are closed at 1.5-5 s; /healthz 200 meanwhile"
    copy_gallery "$BASE" "$d/g"
    start_server F10 "$d/g" --header-timeout 2 || { result F10 "$exp" "server did not start" FAIL; return; }
    py slowloris "$PORT" 200 12 >"$d/slow" &
    HELPERS+=($!)
    sleep 0.7
    local health
    health=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 3 "$URL/healthz")
    wait "${HELPERS[0]}"
    local closed first last s408 json408
    read -r closed first last s408 json408 < <(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))
print(r["closed"], r["first_close"], r["last_close"], r["s408"], r["json408"])' "$d/slow" 2>/dev/null)
    set -- $health
    result F10 "$exp" "closed ${closed:-?}/200 at ${first:-?}-${last:-?} s, 408: ${s408:-?} (JSON ${json408:-?}); healthz $1 in ${2}s" \
        "$(verdict test "${closed:-0}" = 200 -a "${json408:-0}" = 200 -a "$(echo "${first:-0} >= 1.5 && ${last:-99} <= 5" | bc)" = 1 -a "$1" = 200)"
}

case_F11() {  # 300 idle connections, ulimit -n 256, --max-connections 200 --idle-timeout 3
    local d=$CASE_DIR exp="/healthz 200 within ~5 s (limit 6 s); server alive"
    copy_gallery "$BASE" "$d/g"
    LIMITS="ulimit -n 256"
    start_server F11 "$d/g" --max-connections 200 --idle-timeout 3 || { result F11 "$exp" "server did not start" FAIL; return; }
    py idle "$PORT" 300 10 >"$d/idle" &
    HELPERS+=($!)
    sleep 1
    local health alive=no
    health=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 15 "$URL/healthz")
    kill -0 "$SERVER_PID" 2>/dev/null && alive=yes
    set -- $health
    result F11 "$exp" "healthz $1 in ${2}s (after 300 idle connections); alive $alive" \
        "$(verdict test "$1" = 200 -a "$(echo "$2 <= 6" | bc)" = 1 -a "$alive" = yes)"
}

case_F12() {  # SIGTERM with slow uploads in flight (--shutdown-timeout 2)
    local d=$CASE_DIR exp="exits within 10 s (shutdown-timeout 2 + a few)"
    copy_gallery "$BASE" "$d/g"
    start_server F12 "$d/g" --shutdown-timeout 2 || { result F12 "$exp" "server did not start" FAIL; return; }
    py slowbody "$PORT" 5 30 >"$d/slow" &
    HELPERS+=($!)
    sleep 1.5
    local start=$(date +%s.%N) took="" rc
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || { took=$(echo "$(date +%s.%N) - $start" | bc); break; }; sleep 0.05; done
    if [ -z "$took" ]; then
        kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
        result F12 "$exp" "still running 15 s after SIGTERM (killed)" FAIL; return
    fi
    wait "$SERVER_PID"; rc=$?; SERVER_PID=""
    result F12 "$exp" "exited (status $rc) $(printf '%.1f' "$took") s after SIGTERM" "$(verdict test "$(echo "$took < 10" | bc)" = 1)"
}

# raw_case ID EXPECTED REQUEST-FILE: sends a raw request to a fresh server; sets S (status),
# J (True when the body is JSON with error.message), A (Allow header) and M (message).
raw_case() {
    S="" J="" A="" M=""
    copy_gallery "$BASE" "$CASE_DIR/g"
    start_server "$1" "$CASE_DIR/g" || { M="server did not start"; return 1; }
    read -r S J A M < <(py raw "$PORT" "$3" | python3 -c 'import json,sys; r = json.load(sys.stdin)
print(r["status"], r["json"], r["allow"] or "-", r["message"][:70].replace("\n", " "))')
}

case_F13() {  # Content-Length: abc
    local exp="400 with a JSON error body"
    printf 'POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: abc\r\n\r\n' >"$CASE_DIR/req"
    raw_case F13 "$exp" "$CASE_DIR/req"
    result F13 "$exp" "$S, JSON body $J '$M'" "$(verdict test "$S" = 400 -a "$J" = True)"
}

case_F14() {  # a 100 KB URL
    local exp="4xx with a JSON error body"
    python3 -c 'import sys; sys.stdout.write("GET /v1/gallery/stats?x=" + "a" * 100000 + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")' >"$CASE_DIR/req"
    raw_case F14 "$exp" "$CASE_DIR/req"
    result F14 "$exp" "$S, JSON body $J '$M'" "$(verdict test "${S:0:1}" = 4 -a "$J" = True)"
}

case_F15() {  # GET on a POST route
    local exp="405, Allow: POST, JSON body"
    printf 'GET /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >"$CASE_DIR/req"
    raw_case F15 "$exp" "$CASE_DIR/req"
    result F15 "$exp" "$S, Allow: $A, JSON body $J '${M:0:40}'" "$(verdict test "$S" = 405 -a "$A" = POST -a "$J" = True)"
}

case_F16() {  # --host 0.0.0.0 without --api-key-file
    local d=$CASE_DIR exp="exit!=0 at start, message names --api-key-file"
    copy_gallery "$BASE" "$d/g"
    "$MAGPIE" serve --gallery "$d/g" "${MODEL_ARGS[@]}" --host 0.0.0.0 --port "$PORT" >"$d/out" 2>"$d/err" &
    local pid=$! rc="" i
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid"; result F16 "$exp" "still running after 10 s (stopped)" FAIL; return; fi
    wait "$pid"; rc=$?
    local msg=no first
    grep -q -- "--api-key-file" "$d/err" && msg=yes
    first=$(first_line "$d/err")
    result F16 "$exp" "exit $rc, names --api-key-file: $msg ('${first:0:70}')" "$(verdict test "$rc" -ne 0 -a "$msg" = yes)"
}

case_F17() {  # --api-key-file: writes need the key, queries do not
    local d=$CASE_DIR exp="add w/o key 401 JSON, wrong key 401, with key 201; DELETE w/o 401, with 200; query 200"
    copy_gallery "$BASE" "$d/g"
    local key
    key=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    echo "$key" >"$d/key"
    start_server F17 "$d/g" --api-key-file "$d/key" || { result F17 "$exp" "server did not start" FAIL; return; }
    local no wrong yes id del_no del_yes query msg
    no=$(add_image "$QUERY_IMAGE" "label=1" "$d/r1")
    msg=$(py jsonmsg "$d/r1")
    wrong=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: image/jpeg' -H "Authorization: Bearer wrong$key" \
        --data-binary "@$QUERY_IMAGE" "$URL/v1/gallery/items?label=1")
    yes=$(curl -s -o "$d/r3" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: image/jpeg' -H "Authorization: Bearer $key" \
        --data-binary "@$QUERY_IMAGE" "$URL/v1/gallery/items?label=1")
    id=$(py field "$d/r3" items 0 id)
    del_no=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE "$URL/v1/gallery/items/${id:-0}")
    del_yes=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE -H "Authorization: Bearer $key" "$URL/v1/gallery/items/${id:-0}")
    query=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: image/jpeg' --data-binary "@$QUERY_IMAGE" "$URL/v1/query?k=3")
    result F17 "$exp" "add $no ('${msg:0:40}'), wrong key $wrong, key $yes (id $id); DELETE $del_no, key $del_yes; query $query" \
        "$(verdict test "$no" = 401 -a "${msg#NOT-JSON}" = "$msg" -a "$wrong" = 401 -a "$yes" = 201 -a "$del_no" = 401 -a "$del_yes" = 200 -a "$query" = 200)"
}

case_F18() {  # metadata over --max-metadata-bytes
    local d=$CASE_DIR exp="413 (20 KB metadata, default limit 16384)"
    copy_gallery "$BASE" "$d/g"
    python3 -c 'import json; print(json.dumps({"note": "m" * 20000}))' >"$d/meta.json"
    start_server F18 "$d/g" || { result F18 "$exp" "server did not start" FAIL; return; }
    local code msg items
    code=$(curl -s -o "$d/resp" -w '%{http_code}' --max-time 30 -F "image=@$QUERY_IMAGE;type=image/jpeg" \
        -F "metadata=<$d/meta.json" "$URL/v1/gallery/items")
    msg=$(py jsonmsg "$d/resp")
    items=$(server_items)
    result F18 "$exp" "$code '${msg:0:70}'; gallery $items items" "$(verdict test "$code" = 413 -a "$items" = "$BASE_COUNT")"
}

case_F19() {  # gallery add, unreadable image at line 201: all or nothing
    local d=$CASE_DIR exp="exit!=0, 'Error:' on its own line, count unchanged ($BASE_COUNT)"
    copy_gallery "$BASE" "$d/g"
    make_list "$d"
    "$MAGPIE" gallery add "${MODEL_ARGS[@]}" --gallery "$d/g" --images "$d/list.txt" >"$d/out" 2>"$d/err"
    local rc=$? own=no count err
    # The progress line is rewritten with \r; the error must start a line of its own.
    tr '\r' '\n' <"$d/err" | grep -q '^Error:' && grep -aq '^Error:' "$d/err" && own=yes
    err=$(grep -a 'Error:' "$d/err" | head -n 1 | sed 's/.*Error:/Error:/' | cut -c1-90)
    count=$(cli_count "$d/g")
    result F19 "$exp" "exit $rc, own line: $own '$err'; count $count" \
        "$(verdict test "$rc" -ne 0 -a "$rc" -lt 128 -a "$own" = yes -a "$count" = "$BASE_COUNT")"
}

case_F20() {  # gallery add --incremental, then --resume after fixing the list
    local d=$CASE_DIR exp="exit!=0 '128 items were committed', count +128; --resume: count +300"
    copy_gallery "$BASE" "$d/g"
    make_list "$d"
    "$MAGPIE" gallery add "${MODEL_ARGS[@]}" --gallery "$d/g" --images "$d/list.txt" --incremental --batch-size 128 >"$d/out" 2>"$d/err"
    local rc=$? said=no mid rc2 final
    grep -aq "128 items were committed" "$d/err" && said=yes
    mid=$(cli_count "$d/g")
    fix_list "$d"
    "$MAGPIE" gallery add "${MODEL_ARGS[@]}" --gallery "$d/g" --images "$d/list.txt" --resume >"$d/out2" 2>"$d/err2"
    rc2=$?
    final=$(cli_count "$d/g")
    result F20 "$exp" "exit $rc, says 128 committed: $said, count $mid; resume exit $rc2, count $final ($(tail -n 1 "$d/out2" | grep -o 'skipped [0-9]* already stored'))" \
        "$(verdict test "$rc" -ne 0 -a "$rc" -lt 128 -a "$said" = yes -a "$mid" = $((BASE_COUNT + 128)) -a "$rc2" = 0 -a "$final" = $((BASE_COUNT + 300)))"
}

case_F21() {  # gallery build: failed new build leaves nothing; --incremental then --resume
    local d=$CASE_DIR exp="new build fails, no folder; --incremental: '128 items were committed', 128; --resume: 300"
    make_list "$d"
    "$MAGPIE" gallery build "${MODEL_ARGS[@]}" --images "$d/list.txt" --out "$d/g1" >"$d/out1" 2>"$d/err1"
    local rc1=$? left=no rc2 said=no mid rc3 final
    [ -e "$d/g1" ] && left=yes
    "$MAGPIE" gallery build "${MODEL_ARGS[@]}" --images "$d/list.txt" --out "$d/g2" --incremental --batch-size 128 >"$d/out2" 2>"$d/err2"
    rc2=$?
    grep -aq "128 items were committed" "$d/err2" && said=yes
    mid=$(cli_count "$d/g2")
    fix_list "$d"
    "$MAGPIE" gallery build "${MODEL_ARGS[@]}" --images "$d/list.txt" --out "$d/g2" --resume >"$d/out3" 2>"$d/err3"
    rc3=$?
    final=$(cli_count "$d/g2")
    result F21 "$exp" "exit $rc1, folder left: $left; incremental exit $rc2, says 128: $said, count ${mid:-none}; resume exit $rc3, count ${final:-none}" \
        "$(verdict test "$rc1" -ne 0 -a "$rc1" -lt 128 -a "$left" = no -a "$rc2" -ne 0 -a "$said" = yes -a "$mid" = 128 -a "$rc3" = 0 -a "$final" = 300)"
}

case_F22() {  # import with NaN at row 700: existing gallery unchanged, new gallery not created
    local d=$CASE_DIR exp="exit!=0 both; existing keeps 1000; new gallery not created"
    copy_gallery "$IMPORT_BASE" "$d/g"
    py npy "$d/nan.npy" 1000 64 700 >/dev/null
    py ids "$d/ids.npy" 500000 1000 >/dev/null
    "$MAGPIE" gallery import --gallery "$d/g" --input "$d/nan.npy" --ids "$d/ids.npy" >"$d/out1" 2>"$d/err1"
    local rc1=$? count rc2 left=no
    count=$(cli_count "$d/g")
    "$MAGPIE" gallery import --gallery "$d/new" --input "$d/nan.npy" >"$d/out2" 2>"$d/err2"
    rc2=$?
    [ -e "$d/new" ] && left=yes
    result F22 "$exp" "exit $rc1, count $count ('$(first_line "$d/err1" | cut -c1-60)'); new: exit $rc2, folder left: $left" \
        "$(verdict test "$rc1" -ne 0 -a "$rc1" -lt 128 -a "$count" = 1000 -a "$rc2" -ne 0 -a "$rc2" -lt 128 -a "$left" = no)"
}

case_F23() {  # CLI writer while serve has the gallery open
    local d=$CASE_DIR exp="stats shows the CLI adds; id-less POST 201 with a new id, count +1"
    copy_gallery "$BASE" "$d/g"
    start_server F23 "$d/g" || { result F23 "$exp" "server did not start" FAIL; return; }
    local i
    for i in 0 1 2 3 4; do echo "$DATA/${TRAIN_IMAGES[$i]}"; done | awk '{ print $1, 5 }' >"$d/list.txt"
    "$MAGPIE" gallery add "${MODEL_ARGS[@]}" --gallery "$d/g" --images "$d/list.txt" --image-root / >"$d/out" 2>"$d/err"
    local rc=$? range lo hi stats code id after
    range=$(grep -o 'ids [0-9]*\.\.\.[0-9]*' "$d/out" | head -n 1)
    lo=${range#ids }; lo=${lo%%...*}; hi=${range##*...}
    stats=$(server_items)
    code=$(add_image "$QUERY_IMAGE" "label=1" "$d/resp")
    id=$(py field "$d/resp" items 0 id)
    after=$(server_items)
    local fresh=no
    [ -n "$id" ] && [ -n "$hi" ] && [ "$id" -gt "$hi" ] && fresh=yes
    result F23 "$exp" "CLI exit $rc ($range); stats $stats; POST $code id $id (new: $fresh); count $after" \
        "$(verdict test "$rc" = 0 -a "$stats" = $((BASE_COUNT + 5)) -a "$code" = 201 -a "$fresh" = yes -a "$after" = $((BASE_COUNT + 6)))"
}

case_F24() {  # truncated data.mdb
    local d=$CASE_DIR exp="stats and query exit!=0 (<128), one line with 'damaged', no crash"
    copy_gallery "$BASE" "$d/g"
    truncate -s $(( $(stat -c %s "$d/g/data.mdb") / 2 )) "$d/g/data.mdb"  # half of it
    "$MAGPIE" gallery stats --gallery "$d/g" >"$d/out1" 2>"$d/err1"
    local rc1=$? rc2 l1 l2 c1 c2 m1=no m2=no
    "$MAGPIE" query "${MODEL_ARGS[@]}" --gallery "$d/g" --image "$QUERY_IMAGE" >"$d/out2" 2>"$d/err2"
    rc2=$?
    l1=$(nonempty_lines "$d/err1"); l2=$(nonempty_lines "$d/err2")
    grep -q damaged "$d/err1" && m1=yes
    grep -q damaged "$d/err2" && m2=yes
    c1=$(crash_lines "$d/err1"); c2=$(crash_lines "$d/err2")
    result F24 "$exp" "stats exit $rc1, $l1 line(s), damaged: $m1; query exit $rc2, $l2 line(s), damaged: $m2 ('$(first_line "$d/err1" | cut -c1-70)')" \
        "$(verdict test "$rc1" -ne 0 -a "$rc1" -lt 128 -a "$l1" = 1 -a "$m1" = yes -a -z "$c1" -a "$rc2" -ne 0 -a "$rc2" -lt 128 -a "$l2" = 1 -a "$m2" = yes -a -z "$c2")"
}

case_F25() {  # kill -9 during 100 adds; every acknowledged add survives
    local d=$CASE_DIR exp="every acknowledged (201) id answers 200 after restart"
    copy_gallery "$BASE" "$d/g"
    start_server F25 "$d/g" || { result F25 "$exp" "server did not start" FAIL; return; }
    : >"$d/acked"
    ( for i in $(seq 0 99); do
        code=$(add_image "$DATA/${TRAIN_IMAGES[$i]}" "id=$((3000000 + i))&label=3" /dev/null)
        [ "$code" = 201 ] && echo $((3000000 + i)) >>"$d/acked"
      done ) &
    HELPERS+=($!)
    for _ in $(seq 1 300); do [ "$(wc -l <"$d/acked")" -ge 40 ] && break; sleep 0.05; done
    kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
    wait "${HELPERS[0]}"
    local acked missing=0 id items
    acked=$(wc -l <"$d/acked")
    start_server F25-restart "$d/g" || { result F25 "$exp" "$acked acked; restart failed" FAIL; return; }
    while read -r id; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/gallery/items/$id")" = 200 ] || missing=$((missing + 1))
    done <"$d/acked"
    items=$(server_items)
    result F25 "$exp" "$acked acknowledged before kill -9; missing after restart: $missing; $items items" \
        "$(verdict test "$acked" -gt 0 -a "$acked" -lt 100 -a "$missing" = 0)"
}

case_F26() {  # misspelt key under Arch
    local d=$CASE_DIR exp="exit!=0, message names the unknown key (nme)"
    python3 - "$CONFIG" "$d/bad.yaml" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
out = []
for l in lines:
    out.append(l)
    if l.strip() == "name: ResNet18_adaptive_max_pool2d":
        out.append(l[:len(l) - len(l.lstrip())] + "nme: x\n")
open(sys.argv[2], "w").write("".join(out))
EOF
    "$MAGPIE" query -c "$d/bad.yaml" -o "DataLoader.Eval.Gallery.dataset.image_root=$DATA" \
        -o "DataLoader.Eval.Gallery.dataset.cls_label_path=$DATA/Ebay_test.txt" --gallery "$BASE" --image "$QUERY_IMAGE" >"$d/out" 2>"$d/err"
    local rc=$? named=no
    grep -q "nme" "$d/err" && named=yes
    result F26 "$exp" "exit $rc, names it: $named ('$(first_line "$d/err" | cut -c1-80)')" \
        "$(verdict test "$rc" -ne 0 -a "$rc" -lt 128 -a "$named" = yes)"
}

START=$SECONDS
for c in F1 F2 F3 F3t F4 F4t F5 F6 F6b F7 F8 F9 F9b F10 F11 F12 F13 F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 F24 F25 F26; do
    run_case "$c" "case_$c"
done

# ---------------------------------------------------------------------------------------------
echo
echo "== fault test: ${#CASES[@]} cases in $((SECONDS - START)) s =="
FAILED=0
for i in "${!CASES[@]}"; do
    printf '%-4s | %s | %s | %s\n' "${CASES[$i]}" "${EXPECTED[$i]}" "${OBSERVED[$i]}" "${VERDICT[$i]}"
    [ "${VERDICT[$i]}" = FAIL ] && FAILED=$((FAILED + 1))
done
echo "== $FAILED failed =="
[ "$FAILED" = 0 ]
