#!/usr/bin/env bash
# Data-parallel training speed on this machine: the same XBM config and global batch run as
#   np=1, 1 thread        (the baseline each rank is measured against)
#   np=2, 1 thread each   (mpirun; each rank takes half of every batch)
#   np=1, 2 threads       (one process on both cores, Magpie's default)
# alternated for ROUNDS rounds. Prints per arm the median step time over steps 2..STEPS (rank 0's
# step, which includes waiting for the other rank), images/s, and the time spent summing
# gradients over ranks per step, then the measured cost per summed value, which is what a
# projection to N machines starts from (see README, "Training on several processes").
#
#   Scripts/bench-data-parallel.sh [CONFIG]     (STEPS=8 ROUNDS=2 by default)
# Needs the release build and the demo data (built / fetched when missing) and OpenMPI
# (Scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/metric_learning/xbm_demo.yaml}
STEPS=${STEPS:-8}
ROUNDS=${ROUNDS:-2}
MAGPIE=.build/release/magpie

Scripts/install-deps.sh
[ -x "$MAGPIE" ] || flock /tmp/magpie-build.lock swift build -c release --product magpie
[ -f data/emoji/Ebay_train.txt ] || Scripts/fetch-demo-data.sh
# OpenMPI refuses to run as root (CI containers) unless told twice.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run NAME RANKS THREADS: one training run; appends "NAME <json summary>" to $work/results.
run() {
    local name=$1 ranks=$2 threads=$3 out="$work/$1-$RANDOM"
    local args=(train -c "$CONFIG" -o Global.epochs=1 -o "Global.iter_per_epoch=$STEPS" -o Global.eval_during_train=False
                -o Global.print_batch_step=1 -o "Global.output_dir=$out")
    if [ "$ranks" -eq 1 ]; then
        MAGPIE_NUM_THREADS=$threads "$MAGPIE" "${args[@]}" > "$out.txt" 2>&1
    else
        mpirun -np "$ranks" --oversubscribe --bind-to core -x "MAGPIE_NUM_THREADS=$threads" "$MAGPIE" "${args[@]}" > "$out.txt" 2>&1
    fi
    python3 - "$name" "$out" "$out.txt" >> "$work/results" <<'EOF'
import glob, json, re, statistics, sys
name, out, text = sys.argv[1:]
rows = [json.loads(l) for f in glob.glob(out + "/*/train_log.jsonl") for l in open(f)]
steps = [r for r in rows if r.get("phase") == "train"]
costs = [r["batch_cost"] for r in steps[1:]]
images = steps[-1]["ips"] * steps[-1]["batch_cost"]
m = re.search(r"gradient sums ([\d.]+) s \((\d+) sums of (\d+) values", open(text).read())
grad = (float(m.group(1)) / int(m.group(2)), int(m.group(3))) if m else (0.0, 0)
print(name, json.dumps({"step": statistics.median(costs), "images": images, "grad": grad[0], "values": grad[1]}))
EOF
}

for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS" >&2
    run np1-1thread 1 1
    run np2-1thread 2 1
    run np1-2threads 1 2
done

python3 - "$work/results" "$CONFIG" <<'EOF'
import json, statistics, sys
arms = {}
for line in open(sys.argv[1]):
    name, data = line.split(" ", 1)
    arms.setdefault(name, []).append(json.loads(data))
print(f"config {sys.argv[2]}; median step time over each run's steps 2.., range over rounds")
print(f"{'arm':14} {'s/step':>16} {'img/s':>8} {'grad sum s/step':>16} {'share':>6}")
base = statistics.median(r["step"] for r in arms["np1-1thread"])
for name, runs in arms.items():
    steps = [r["step"] for r in runs]
    s = statistics.median(steps)
    g = statistics.median(r["grad"] for r in runs)
    print(f"{name:14} {s:7.3f} ({min(steps):.3f}-{max(steps):.3f}) {runs[0]['images'] / s:8.1f} {g:16.4f} {g / s:6.1%}"
          + ("" if name == "np1-1thread" else f"  speed-up {base / s:.2f}x over np1-1thread"))
two = arms.get("np2-1thread", [])
if two and two[0]["values"]:
    g = statistics.median(r["grad"] for r in two)
    print(f"gradient sum over 2 ranks on this host: {two[0]['values']:,} values in {g * 1000:.1f} ms = {g / two[0]['values'] * 1e9:.2f} ns per value")
EOF
