#!/usr/bin/env bash
# Runs Magpie's model benchmarks and the same steps in PyTorch CPU (and onnxruntime for
# inference) on this machine, and prints our/peer ratios. Run when the machine is otherwise idle.
#   Scripts/bench-peers.sh            # all cases, fp32 and bf16
#   Scripts/bench-peers.sh quick      # WRN-28-2 training and ResNet-50 batch-1 inference only
#   Scripts/bench-peers.sh fp32|bf16  # one precision
# fp32 lines: Magpie's default kernels (oneDNN, Winograd where it pays) against PyTorch fp32 in its
# faster layout (contiguous or channels_last). bf16 lines: Magpie --precision bf16 against PyTorch
# under torch.autocast("cpu", bfloat16), and for inference against onnxruntime fp32.
# Extra magpie flags go in MAGPIE_FLAGS (e.g. MAGPIE_FLAGS="--conv-backend im2col"). ROUNDS=N repeats
# the whole set N times (ours and the peer's alternate on every line), for a range of ratios.
# Needs a release build (Scripts/setup.sh) and the peers' Python packages (installed on demand).
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/bench/install-peers.sh
[ -x .build/release/magpie ] || Scripts/setup.sh

cases_train=("ResNet50 16 224" "ResNet18 32 224" "WideResNet28_2 64 32")
cases_infer=("ResNet50 1 224")
precisions=(fp32 bf16)
case "${1:-}" in
    quick) cases_train=("WideResNet28_2 64 32") ;;
    fp32|bf16) precisions=("$1") ;;
    "") ;;
    *) echo "usage: $0 [quick|fp32|bf16]" >&2; exit 2 ;;
esac
read -r -a extra <<< "${MAGPIE_FLAGS:-}"

ratio() { python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); \
print(f\"{a['bench']} {a['model']} batch {a['batch']} {sys.argv[3]}: magpie {a['images_per_second']:.2f} img/s, \
{b['peer']} {b['images_per_second']:.2f} img/s ({b.get('layout','')}) -> speed ratio {a['images_per_second']/b['images_per_second']:.2f}x; \
peak RSS {a['peak_rss_mb']:.0f} vs {b['peak_rss_mb']:.0f} MB ({a['peak_rss_mb']/b['peak_rss_mb']:.2f}x); kernels: {a.get('conv_kernels','')}\")" "$1" "$2" "$3"; }

for round in $(seq "${ROUNDS:-1}"); do
[ "${ROUNDS:-1}" -gt 1 ] && echo "round $round"
for p in "${precisions[@]}"; do
    peer_train=train; peer_infer=infer
    [ "$p" = bf16 ] && { peer_train=train-bf16; peer_infer=infer-bf16; }
    for c in "${cases_train[@]}"; do
        set -- $c
        ours=$(.build/release/magpie bench train --model "$1" --batch "$2" --size "$3" --steps 5 --precision "$p" --json "${extra[@]}")
        ratio "$ours" "$(python3 Scripts/bench/torch_peer.py "$peer_train" "$1" "$2" "$3" 5)" "$p"
    done
    for c in "${cases_infer[@]}"; do
        set -- $c
        ours=$(.build/release/magpie bench infer --model "$1" --batch "$2" --size "$3" --steps 20 --warmup 3 --precision "$p" --json "${extra[@]}")
        ratio "$ours" "$(python3 Scripts/bench/torch_peer.py "$peer_infer" "$1" "$2" "$3" 20)" "$p"
        ratio "$ours" "$(python3 Scripts/bench/torch_peer.py ort "$1" "$2" "$3" 20)" "$p"
    done
done
done
