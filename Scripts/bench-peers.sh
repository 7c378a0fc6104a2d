#!/usr/bin/env bash
# Runs Magpie's model benchmarks and the same steps in PyTorch CPU (and onnxruntime for
# inference) on this machine, and prints our/peer ratios. Run when the machine is otherwise idle.
#   Scripts/bench-peers.sh            # all cases
#   Scripts/bench-peers.sh quick      # WRN-28-2 training and ResNet-50 batch-1 inference only
# Needs: a release build (Scripts/setup.sh), python3 with torch (the machine image's CPU wheel:
# pip install torch) and onnxruntime + onnx (pip install onnxruntime onnx), installed on demand here.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import torch" 2>/dev/null || pip install -q torch
python3 -c "import onnxruntime, onnx" 2>/dev/null || pip install -q onnxruntime onnx
[ -x .build/release/magpie ] || Scripts/setup.sh

cases_train=("ResNet50 16 224" "ResNet18 32 224" "WideResNet28_2 64 32")
cases_infer=("ResNet50 1 224")
if [ "${1:-}" = quick ]; then cases_train=("WideResNet28_2 64 32"); fi

ratio() { python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); \
print(f\"{a['bench']} {a['model']} batch {a['batch']}: magpie {a['images_per_second']:.2f} img/s, \
{b['peer']} {b['images_per_second']:.2f} img/s ({b.get('layout','')}) -> speed ratio {a['images_per_second']/b['images_per_second']:.2f}x; \
peak RSS {a['peak_rss_mb']:.0f} vs {b['peak_rss_mb']:.0f} MB ({a['peak_rss_mb']/b['peak_rss_mb']:.2f}x)\")" "$1" "$2"; }

for c in "${cases_train[@]}"; do
    set -- $c
    ours=$(.build/release/magpie bench train --model "$1" --batch "$2" --size "$3" --steps 5 --json)
    peer=$(python3 Scripts/bench/torch_peer.py train "$1" "$2" "$3" 5)
    ratio "$ours" "$peer"
done
for c in "${cases_infer[@]}"; do
    set -- $c
    ours=$(.build/release/magpie bench infer --model "$1" --batch "$2" --size "$3" --steps 20 --warmup 3 --json)
    ratio "$ours" "$(python3 Scripts/bench/torch_peer.py infer "$1" "$2" "$3" 20)"
    ratio "$ours" "$(python3 Scripts/bench/torch_peer.py ort "$1" "$2" "$3" 20)"
done
