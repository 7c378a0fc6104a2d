#!/usr/bin/env bash
# All-vs-all exact top-k on the same random unit vectors: `magpie bench search` and faiss-cpu
# IndexFlatIP (installed from PyPI into .build/peer-venv), then the time ratio ours / FAISS.
#   Scripts/bench-search-peer.sh [N] [DIM] [K]      (defaults: 60502 128 100, the SOP test set)
# Also checks that both return the same neighbour lists (ties aside).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-60502}"; DIM="${2:-128}"; K="${3:-100}"

swift build -c release --product magpie >/dev/null
VENV=.build/peer-venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet faiss-cpu numpy
fi

WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
OURS=$(.build/release/magpie bench search --n "$N" --dim "$DIM" --k "$K" --save "$WORK/x.npy" --save-ids "$WORK/ids.npy" --json)
echo "magpie: $OURS"
"$VENV/bin/python" - "$WORK" "$K" "$OURS" <<'PY'
import json, sys, time
import numpy as np, faiss
work, k, ours = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
x = np.load(f"{work}/x.npy")
index = faiss.IndexFlatIP(x.shape[1])
index.add(x)
start = time.perf_counter()
_, ids = index.search(x, k)
faiss_s = time.perf_counter() - start
ours_ids = np.load(f"{work}/ids.npy")
same = np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, ours_ids)])
print(f"faiss-cpu {faiss.__version__} IndexFlatIP ({faiss.omp_get_max_threads()} threads): {faiss_s:.3f} s")
print(f"ours / FAISS time: {ours['seconds'] / faiss_s:.3f}  (target <= 0.8); neighbour overlap {same:.6f}")
PY
