#!/usr/bin/env bash
# FixMatch against the supervised baseline with the same labelled images, model and wall-clock
# budget: both arms run at the same time, each pinned to its own core with one thread (MAGPIE_NUM_THREADS=1),
# so neither gets more of the machine than the other. One pair of runs per seed (Global.seed: the
# labelled draw, the initial weights and the augmentation), one seed after another. Prints each
# seed's steps and accuracies, mean ± std of both arms' final top-1, FixMatch's mask rate and
# confident pseudo-label accuracy over time, and writes OUT/summary.json and OUT/curves.html
# (top-1 against training time for both arms).
#
#   Scripts/fixmatch-vs-supervised.sh [--data emoji|fashion-mnist|CIFAR_FOLDER] [--labels TOTAL]
#       [--seeds N|S1,S2,...] [--budget SECONDS] [--fixmatch-steps N] [--supervised-steps N]
#       [--fixmatch-override KEY=VALUE ...] [--out DIR] [--rerun] [-- EXTRA -o OVERRIDES FOR BOTH]
#
# --data emoji (default): the emoji demo configs (FixMatch mu 1) on data/emoji, built on first use
# by Scripts/fetch-demo-data.sh (a CIFAR_FOLDER such as one --full or --cifar-split artwork built
# uses the same configs), 90 labels (10 per class). --data fashion-mnist: the
# FixMatch/Supervised_fashion_mnist_{40,250,4000}.yaml configs on data/fashion-mnist (built on
# first use by Scripts/fetch-fashion-mnist.sh), 40 labels by default. --labels is the total of
# labelled images, drawn class-balanced. Default budget 900 s per arm; each arm's cosine spans the
# steps it makes in that budget on one Zen 4 core (emoji 4.2 and 12.8 steps/s; Fashion-MNIST
# 5.6 and 30, a little above the 5.4 and 28.5 measured, so the budget rather than the plan ends
# both arms; --fixmatch-steps / --supervised-steps override), and an arm stops at its planned
# steps or the budget, whichever comes first. A seed whose runs are already in OUT with the same settings is
# kept (--rerun runs it again), so seeds can be added later and are summarised together.
# --fixmatch-override goes to the FixMatch arm only (e.g. DataLoader.UnLabelTrain.sampler.batch_size=112
# for the paper's mu = 7 with the emoji configs' B = 16). Default OUT: output/ssl_compare/<data>-<labels>.
set -euo pipefail
cd "$(dirname "$0")/.."

data=emoji budget=900 labels="" seeds=1 out="" rerun=0
fixmatch_steps="" supervised_steps=""
extra=() fixmatch_extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --budget) budget=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --labels) labels=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --fixmatch-steps) fixmatch_steps=$2; shift 2 ;;
        --supervised-steps) supervised_steps=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --rerun) rerun=1; shift ;;
        --fixmatch-override) fixmatch_extra+=(-o "$2"); shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n 2,29p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$data" in
    fashion-mnist)
        name=fashion-mnist folder=./data/fashion-mnist/cifar-10-batches-bin labels=${labels:-40}
        fixmatch_rate=5.6 supervised_rate=30
        [ -f "$folder/batches.meta.txt" ] || Scripts/fetch-fashion-mnist.sh >&2
        config_labels=$labels
        [ -f "configs/ssl/FixMatch/FixMatch_fashion_mnist_$labels.yaml" ] || config_labels=40
        fixmatch_config=configs/ssl/FixMatch/FixMatch_fashion_mnist_$config_labels.yaml
        supervised_config=configs/ssl/FixMatch/Supervised_fashion_mnist_$config_labels.yaml ;;
    *)
        name=emoji folder=./data/emoji/cifar-10-batches-bin labels=${labels:-90}
        fixmatch_rate=4.2 supervised_rate=12.8
        if [ "$data" = emoji ]; then
            [ -f "$folder/data_batch_1.bin" ] || Scripts/fetch-demo-data.sh >&2
        else
            folder=$data name=$(basename "$(dirname "$data")")
        fi
        fixmatch_config=configs/ssl/FixMatch/FixMatch_emoji_demo.yaml
        supervised_config=configs/ssl/FixMatch/Supervised_emoji_demo.yaml ;;
esac
[ -f "$folder/data_batch_1.bin" ] || { echo "no CIFAR-10 batches in $folder (Scripts/fetch-demo-data.sh [--full] [--cifar-split artwork] --out DIR builds them)" >&2; exit 1; }
classes=$(grep -c . "$folder/batches.meta.txt" 2>/dev/null || echo 10)
if [ $((labels % classes)) -ne 0 ] || [ "$labels" -lt "$classes" ]; then
    echo "--labels $labels is not a positive multiple of the $classes classes (the labelled draw is class-balanced)" >&2; exit 2
fi
per_class=$((labels / classes))
fixmatch_steps=${fixmatch_steps:-$(python3 -c "print(round($budget * $fixmatch_rate))")}
supervised_steps=${supervised_steps:-$(python3 -c "print(round($budget * $supervised_rate))")}
out=${out:-./output/ssl_compare/$name-$labels}
if [[ "$seeds" == *,* ]]; then IFS=, read -r -a seed_list <<< "$seeds"; else seed_list=($(seq 1 "$seeds")); fi
magpie=.build/release/magpie
swift build -c release --product magpie >&2  # incremental: seconds when up to date

# Evaluations are not counted in the budget; ten per arm.
iters=50
run_arm() {  # DIR NAME CONFIG CORE STEPS SEED [OVERRIDES...]
    local dir=$1 name=$2 config=$3 core=$4 steps=$5 seed=$6
    local epochs=$(( (steps + iters - 1) / iters ))
    local interval=$(( epochs / 10 > 0 ? epochs / 10 : 1 ))
    rm -rf "${dir:?}/$name"
    mkdir -p "$dir/$name"
    local pin=()
    [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pin=(taskset -c "$core")
    MAGPIE_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "${pin[@]}" "$magpie" train -c "$config" \
        -o Global.output_dir="$dir/$name" -o Global.max_train_seconds="$budget" -o Global.seed="$seed" \
        -o Global.epochs="$epochs" -o Global.iter_per_epoch="$iters" -o Global.eval_interval="$interval" \
        -o Global.print_batch_step=50 \
        -o DataLoader.Train.dataset.data_file="$folder" -o DataLoader.Eval.dataset.data_file="$folder" \
        -o DataLoader.Train.dataset.sample_per_label="$per_class" \
        "${@:7}" "${extra[@]}" > "$dir/$name.log" 2>&1
}
settings="data $folder, $labels labels, budget $budget s, FixMatch $fixmatch_steps / supervised $supervised_steps planned steps, ${fixmatch_extra[*]} ${extra[*]}"
for seed in "${seed_list[@]}"; do
    dir=$out/seed$seed
    if [ $rerun -eq 0 ] && [ "$(cat "$dir/settings.txt" 2>/dev/null)" = "$settings" ]; then
        echo "==> seed $seed: already in $dir (--rerun runs it again)" >&2; continue
    fi
    rm -f "$dir/settings.txt"
    echo "==> seed $seed: FixMatch and supervised, $budget s each, $labels labels ($per_class per class), $folder (logs in $dir)" >&2
    run_arm "$dir" fixmatch "$fixmatch_config" 0 "$fixmatch_steps" "$seed" \
        -o DataLoader.UnLabelTrain.dataset.data_file="$folder" "${fixmatch_extra[@]}" &
    fixmatch_pid=$!
    run_arm "$dir" supervised "$supervised_config" 1 "$supervised_steps" "$seed" &
    supervised_pid=$!
    status=0
    wait $fixmatch_pid || { echo "FixMatch failed: see $dir/fixmatch.log" >&2; status=1; }
    wait $supervised_pid || { echo "supervised failed: see $dir/supervised.log" >&2; status=1; }
    [ $status -eq 0 ] || exit $status
    echo "$settings" > "$dir/settings.txt"  # written last: marks the seed complete
done

test_images=$(( $(stat -c %s "$folder/test_batch.bin") / 3073 ))
python3 Scripts/lib/fixmatch_summary.py "$out" "$test_images" "${seed_list[@]}"
