#!/usr/bin/env bash
# FixMatch training-step throughput on WRN-28-2: Magpie (`magpie bench fixmatch`) and the same
# step in PyTorch CPU (Scripts/bench/fixmatch_peer.py), one after the other, and the ratio.
#   Scripts/bench-fixmatch.sh [batch 64] [mu 7] [steps 3]
# Extra magpie flags go in MAGPIE_FLAGS (e.g. MAGPIE_FLAGS="--precision bf16" or "--conv-backend im2col").
# Needs a release build (Scripts/setup.sh) and the peers' Python packages (Scripts/bench/install-peers.sh,
# run here on demand). Run when the machine is otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-64}; mu=${2:-7}; steps=${3:-3}

Scripts/bench/install-peers.sh
[ -x .build/release/magpie ] || Scripts/setup.sh

read -r -a extra <<< "${MAGPIE_FLAGS:-}"
ours=$(.build/release/magpie bench fixmatch --batch "$batch" --mu "$mu" --steps "$steps" --json "${extra[@]}")
peer=$(python3 Scripts/bench/fixmatch_peer.py "$batch" "$mu" "$steps")
python3 - "$ours" "$peer" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"FixMatch step, {a['model']}, B {a['batch']}, mu {a['mu']} ({a['images_per_step']} images/step, all three views)")
print(f"  magpie   {a['images_per_second']:8.1f} img/s  ({a['seconds_per_step']:.2f} s/step, peak RSS {a['peak_rss_mb']:.0f} MB; {a.get('conv_kernels', '')})")
print(f"  pytorch  {b['images_per_second']:8.1f} img/s  ({b['seconds_per_step']:.2f} s/step, {b['layout']}, peak RSS {b['peak_rss_mb']:.0f} MB, torch {b['torch']})")
print(f"  ratio    {a['images_per_second'] / b['images_per_second']:.2f}x")
PY
