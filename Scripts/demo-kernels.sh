#!/usr/bin/env bash
# The demo's XBM training (configs/metric_learning/xbm_demo.yaml, seed 0) once per convolution
# setting, each followed by a gallery of the test split and its evaluation: recall@1 / mAP and the
# training wall time side by side, to check that faster kernels keep the demo's quality.
#   Scripts/demo-kernels.sh                       # direct fp32 (oneDNN), auto fp32, auto bf16
#   Scripts/demo-kernels.sh "--conv-backend im2col" "--precision bf16"   # any settings
# Needs the demo data (Scripts/fetch-demo-data.sh) and a release build (Scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=configs/metric_learning/xbm_demo.yaml
MAGPIE=.build/release/magpie
[ -x "$MAGPIE" ] || Scripts/setup.sh
[ -f data/emoji/Ebay_test.txt ] || Scripts/fetch-demo-data.sh
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=("--conv-algorithm direct" "--conv-algorithm auto" "--conv-algorithm auto --precision bf16")

rows=()
for s in "${settings[@]}"; do
    read -r -a flags <<< "$s"
    out=output/demo-kernels/$(echo "$s" | tr -c 'a-z0-9\n' '_' | sed 's/__*/_/g; s/^_//; s/_$//')
    rm -rf "$out"; mkdir -p "$out"
    echo "==> $s: training" >&2
    start=$(date +%s)
    "$MAGPIE" train -c "$CONFIG" -o Global.output_dir="$out/" "${flags[@]}" > "$out/train.log" 2>&1 || { tail -5 "$out/train.log" >&2; exit 1; }
    seconds=$(( $(date +%s) - start ))
    "$MAGPIE" gallery build -c "$CONFIG" --weights "$out/RecModel/best_model" --images data/emoji/Ebay_test.txt \
        --out "$out/gallery" "${flags[@]}" > /dev/null 2>&1
    metrics=$("$MAGPIE" eval --gallery "$out/gallery" --ks 1 --json)
    rows+=("$(python3 -c "import json,sys; m=json.loads(sys.argv[1]); print(f\"| {sys.argv[2]} | {m['recall'][0]['value']:.4f} | {m['mAP']:.4f} | {sys.argv[3]} s |\")" "$metrics" "$s" "$seconds")")
done
echo "| setting | recall@1 | mAP | training wall time |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
