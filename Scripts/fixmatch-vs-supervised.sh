#!/usr/bin/env bash
# FixMatch against the supervised baseline with the same labelled images, model and wall-clock
# budget: both arms run at the same time, each pinned to its own core with one thread (MAGPIE_NUM_THREADS=1),
# so neither gets more of the machine than the other. Prints both arms' steps and accuracies.
#
#   Scripts/fixmatch-vs-supervised.sh [--budget SECONDS] [--data CIFAR_FOLDER] [--labels PER_CLASS]
#       [--fixmatch-steps N] [--supervised-steps N] [--fixmatch-override KEY=VALUE ...] [--out DIR]
#       [-- EXTRA -o OVERRIDES FOR BOTH]
#
# Defaults: the shipped emoji demo configs (FixMatch mu 1), 900 s, the demo set
# data/emoji/cifar-10-batches-bin (built here on first use by Scripts/fetch-demo-data.sh, about a
# minute; --full or --cifar-split artwork with --out build the others), 10 labels per class, each arm's
# cosine planned over the steps it makes in that budget on one Zen 4 core (--fixmatch-steps 3800
# / --supervised-steps 11500; an arm stops at its planned steps or at the budget, whichever comes
# first), output/ssl_compare. --fixmatch-override goes to the FixMatch arm only (e.g.
# DataLoader.UnLabelTrain.sampler.batch_size=112 for the paper's mu = 7 with the demo's B = 16).
set -euo pipefail
cd "$(dirname "$0")/.."

default_data=./data/emoji/cifar-10-batches-bin
budget=900 data=$default_data labels=10 out=./output/ssl_compare
fixmatch_steps=3800 supervised_steps=11500
extra=() fixmatch_extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --budget) budget=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --labels) labels=$2; shift 2 ;;
        --fixmatch-steps) fixmatch_steps=$2; shift 2 ;;
        --supervised-steps) supervised_steps=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --fixmatch-override) fixmatch_extra+=(-o "$2"); shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n 2,16p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ ! -f "$data/data_batch_1.bin" ] && [ "$data" = "$default_data" ]; then
    Scripts/fetch-demo-data.sh >&2
fi
[ -f "$data/data_batch_1.bin" ] || { echo "no CIFAR-10 batches in $data (Scripts/fetch-demo-data.sh [--full] [--cifar-split artwork] --out DIR builds them)" >&2; exit 1; }
magpie=.build/release/magpie
swift build -c release --product magpie >&2  # incremental: seconds when up to date

# Evaluations are not counted in the budget; about eight per arm.
iters=50
run_arm() {  # NAME CONFIG CORE STEPS
    local name=$1 config=$2 core=$3 steps=$4
    local epochs=$(( (steps + iters - 1) / iters ))
    local interval=$(( epochs / 8 > 0 ? epochs / 8 : 1 ))
    rm -rf "$out/$name"
    mkdir -p "$out/$name"
    local pin=()
    [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pin=(taskset -c "$core")
    MAGPIE_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "${pin[@]}" "$magpie" train -c "$config" \
        -o Global.output_dir="$out/$name" -o Global.max_train_seconds="$budget" \
        -o Global.epochs="$epochs" -o Global.iter_per_epoch="$iters" -o Global.eval_interval="$interval" \
        -o Global.print_batch_step=50 \
        -o DataLoader.Train.dataset.data_file="$data" -o DataLoader.Eval.dataset.data_file="$data" \
        -o DataLoader.Train.dataset.sample_per_label="$labels" \
        "${@:5}" "${extra[@]}" > "$out/$name.log" 2>&1
}
echo "==> FixMatch and supervised, $budget s each, $labels labels/class, $data (logs in $out)" >&2
run_arm fixmatch configs/ssl/FixMatch/FixMatch_emoji_demo.yaml 0 "$fixmatch_steps" \
    -o DataLoader.UnLabelTrain.dataset.data_file="$data" "${fixmatch_extra[@]}" &
fixmatch_pid=$!
run_arm supervised configs/ssl/FixMatch/Supervised_emoji_demo.yaml 1 "$supervised_steps" &
supervised_pid=$!
status=0
wait $fixmatch_pid || { echo "FixMatch failed: see $out/fixmatch.log" >&2; status=1; }
wait $supervised_pid || { echo "supervised failed: see $out/supervised.log" >&2; status=1; }
[ $status -eq 0 ] || exit $status

python3 - "$out" "$data" <<'PY'
import json, math, pathlib, sys
out = pathlib.Path(sys.argv[1])
test_images = (pathlib.Path(sys.argv[2]) / "test_batch.bin").stat().st_size // 3073
rows = {}
for arm in ("fixmatch", "supervised"):
    records = [json.loads(l) for l in next((out / arm).glob("*/train_log.jsonl")).read_text().splitlines() if l.strip()]
    train = [r for r in records if r["phase"] == "train"]
    evals = [r for r in records if r["phase"] == "eval"]
    tail = train[-10:]
    mean = lambda k: sum(r[k] for r in tail if k in r) / max(1, sum(k in r for r in tail)) if any(k in r for r in tail) else None
    rows[arm] = {"steps": train[-1]["step"] if train else 0, "top1_last": evals[-1]["top1"] if evals else None,
                 "top1_best": max(e["top1"] for e in evals) if evals else None,
                 "top5_last": evals[-1].get("top5") if evals else None,
                 "top1_second_half": None, "mask": mean("mask"), "pseudo_acc": mean("pseudo_acc"),
                 "evals": [(e["step"], round(e["top1"], 4)) for e in evals]}
    # One evaluation is noisy (see the standard error below); the mean over the second half of
    # the run is steadier than the last value.
    late = [e["top1"] for e in evals if train and e["step"] >= train[-1]["step"] / 2]
    rows[arm]["top1_second_half"] = sum(late) / len(late) if late else None
fmt = lambda v: "—" if v is None else f"{100 * v:.1f} %"
print(f"{'arm':<11} {'steps':>7} {'top-1 last':>11} {'best':>8} {'2nd half':>9} {'top-5':>8} {'mask':>6} {'pseudo acc':>10}")
for arm, r in rows.items():
    mask = "" if r["mask"] is None else f"{r['mask']:.2f}"
    pseudo = "" if r["pseudo_acc"] is None else fmt(r["pseudo_acc"])
    print(f"{arm:<11} {r['steps']:>7} {fmt(r['top1_last']):>11} {fmt(r['top1_best']):>8} {fmt(r['top1_second_half']):>9} "
          f"{fmt(r['top5_last']):>8} {mask:>6} {pseudo:>10}")
for arm, r in rows.items():
    print(f"{arm} evaluations (step, top-1): {r['evals']}")
f, s = rows["fixmatch"]["top1_last"], rows["supervised"]["top1_last"]
if f is not None and s is not None:
    fh, sh = rows["fixmatch"]["top1_second_half"], rows["supervised"]["top1_second_half"]
    error = 100 * math.sqrt(s * (1 - s) / max(test_images, 1))
    print(f"FixMatch − supervised, top-1: {100 * (f - s):+.1f} points at the end, {100 * (fh - sh):+.1f} averaged over "
          f"the second half (one evaluation on {test_images} test images: standard error ±{error:.1f} points)")
(out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n")
PY
