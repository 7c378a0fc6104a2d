#!/usr/bin/env bash
# The README's first command: set up this machine, build, and run the whole retrieval job on the
# embedded emoji "product" data: train an embedding model with XBM, build an LMDB gallery from the
# test split, evaluate recall@k / mAP, query a few images and write an HTML page of the results.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=configs/metric_learning/xbm_demo.yaml
OUT=output/demo
GALLERY=indexes/demo
MAGPIE=.build/release/magpie
start=$(date +%s)

Scripts/setup.sh
echo "==> demo data (data/emoji)"
Scripts/fetch-demo-data.sh

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
picks=$(awk 'NR > 1 && !seen[$2]++ { print $2 " " $4; if (++n == 5) exit }' data/emoji/Ebay_test.txt)
images=(); labels=()
while read -r label path; do images+=(--image "data/emoji/$path"); labels+=("$label"); done <<< "$picks"
"$MAGPIE" query -c "$CONFIG" --weights "$OUT/RecModel/best_model" --gallery "$GALLERY" "${images[@]}" --k 5 \
    --label-of "$(IFS=,; echo "${labels[*]}")" --html "$OUT/query.html"

cat <<DONE

Demo finished in $(( $(date +%s) - start )) s. Written:
  checkpoints   $OUT/RecModel/{best_model,latest}.safetensors (+ .optim.safetensors, .state.json)
  training log  $OUT/RecModel/train_log.jsonl
  gallery       $GALLERY (LMDB)
  metrics       $OUT/eval.txt
  query page    $OUT/query.html (open it in a browser)
DONE
