#!/usr/bin/env bash
# HNSW against its peers on the same vectors, in one run: Magpie's HNSWIndex (`magpie bench ann`)
# and hnswlib, faiss's IndexHNSWFlat and usearch (PyPI), same M and efConstruction, every build on all
# cores, all queries on one thread (the peers get them in one call, so Python adds no per-query
# cost), recall@10 against exact search.
#
#   Scripts/bench-ann-peer.sh [N] [DIM] [M] [EF_CONSTRUCTION]      (defaults 100000 128 16 200)
#   TYPE=ivfpq [NLIST=1024 PQM=16 RESCORE=8 NPROBES=4,8,16,32,64] Scripts/bench-ann-peer.sh [N] [DIM]
#                                     (IVF-PQ against faiss IndexIVFPQ, + IndexRefineFlat when RESCORE > 0)
#
# The data is a seeded Gaussian mixture (1000 centres, unit rows; 1000 held-out queries), like
# real embeddings. Prints, per library, build seconds and queries/s at each efSearch with its
# recall (each peer after one untimed warm-up call), then the ratio of Magpie's queries/s to the
# best peer's at the smallest efSearch where each reaches recall@10 >= 0.95, and Magpie's index
# memory against faiss's serialized index. Needs a release build (`swift build -c release --product magpie`).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}" DIM="${2:-128}" M="${3:-16}" EFC="${4:-200}"
python3 -c 'import hnswlib, faiss, usearch, numpy' 2>/dev/null || pip install --quiet hnswlib faiss-cpu usearch numpy
MAGPIE="$(swift build -c release --show-bin-path)/magpie"
[ -x "$MAGPIE" ] || { echo "error: build the release binary first: swift build -c release --product magpie" >&2; exit 1; }
WORK="$(mktemp -d /tmp/magpie-ann.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
EFS="8,10,12,16,24,32,48,64,96,128,256"

python3 - "$WORK" "$N" "$DIM" <<'PY'
import sys, numpy as np
work, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
centres = rng.standard_normal((1000, d)).astype(np.float32)
x = centres[rng.integers(0, 1000, n + 1000)] + 0.35 * rng.standard_normal((n + 1000, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
np.save(f"{work}/base.npy", x[:n]); np.save(f"{work}/queries.npy", x[n:])
PY

if [ "${TYPE:-hnsw}" = ivfpq ]; then
    # IVF-PQ: Magpie's IVFPQIndex against faiss IndexIVFPQ (+ IndexRefineFlat when RESCORE > 0),
    # NLIST lists, PQM bytes per item, the same nprobe values; training and adding on all cores.
    NLIST="${NLIST:-1024}" PQM="${PQM:-16}" RESCORE="${RESCORE:-8}" NPROBES="${NPROBES:-4,8,16,32,64}"
    echo "==> magpie"
    "$MAGPIE" bench ann --type ivfpq --base "$WORK/base.npy" --query-file "$WORK/queries.npy" --nlist "$NLIST" --pq-m "$PQM" \
        --rescore "$RESCORE" --nprobe "$NPROBES" --json > "$WORK/magpie.json"
    python3 - "$WORK" "$NLIST" "$PQM" "$RESCORE" "$NPROBES" <<'PY'
import json, os, sys, time, numpy as np, faiss
work, nlist, pqm, rescore, probes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), [int(p) for p in sys.argv[5].split(",")]
base, queries = np.load(f"{work}/base.npy"), np.load(f"{work}/queries.npy")
n, d = base.shape
truth = np.argsort(-(queries @ base.T), axis=1)[:, :10]
def recall(found): return np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
ours = json.load(open(f"{work}/magpie.json"))
rows = {"magpie": (ours["build_s"], [(r["nprobe"], r["queries_per_s"], r["recall_at_10"]) for r in ours["search"]])}
faiss.omp_set_num_threads(os.cpu_count())
ivf = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, pqm, 8, faiss.METRIC_INNER_PRODUCT)
index = ivf
if rescore > 0:
    index = faiss.IndexRefineFlat(ivf); index.k_factor = rescore
t = time.perf_counter(); index.train(base); index.add(base); build = time.perf_counter() - t
faiss.omp_set_num_threads(1)
ivf.nprobe = probes[0]; index.search(queries[:10], 10)  # untimed: the first call pays one-time costs
res = []
for p in probes:
    ivf.nprobe = p; t = time.perf_counter()
    found = index.search(queries, 10)[1]  # one call, one thread: no Python overhead per query
    res.append((p, len(queries) / (time.perf_counter() - t), recall(found)))
rows["faiss"] = (build, res)
print(f"\n{n} x {d}, IVF{nlist},PQ{pqm}, rescore {rescore}; train + add on {os.cpu_count()} threads (Magpie: k-means on all cores, encoding on one), queries on one thread")
for name, (build, res) in rows.items():
    print(f"  {name:7s} build {build:6.1f} s   " + "   ".join(f"nprobe {p}: {qps:6.0f} q/s ({r:.3f})" for p, qps, r in res))
PY
    exit 0
fi

echo "==> magpie"
"$MAGPIE" bench ann --base "$WORK/base.npy" --query-file "$WORK/queries.npy" --m "$M" --ef-construction "$EFC" --ef-search "$EFS" --json > "$WORK/magpie.json"
OMP_NUM_THREADS=1 python3 - "$WORK" "$M" "$EFC" "$EFS" <<'PY'
import json, os, sys, time, numpy as np, hnswlib, faiss
work, m, efc, efs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(e) for e in sys.argv[4].split(",")]
base, queries = np.load(f"{work}/base.npy"), np.load(f"{work}/queries.npy")
n, d = base.shape
truth = np.argsort(-(queries @ base.T), axis=1)[:, :10]
def recall(found): return np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
rows = {}
ours = json.load(open(f"{work}/magpie.json"))
rows["magpie"] = (ours["build_s"], [(r["ef_search"], r["queries_per_s"], r["recall_at_10"]) for r in ours["search"]])

# Builds use every core (Magpie's does too), searches one thread.
cores = os.cpu_count()
h = hnswlib.Index(space="ip", dim=d); h.init_index(max_elements=n, M=m, ef_construction=efc); h.set_num_threads(cores)
t = time.perf_counter(); h.add_items(base, np.arange(n)); build = time.perf_counter() - t
h.set_num_threads(1)
h.set_ef(efs[0]); h.knn_query(queries[:10], k=10)  # untimed warm-up, as for every library
res = []
for ef in efs:
    h.set_ef(ef); t = time.perf_counter()
    found = h.knn_query(queries, k=10)[0]  # one call, one thread: no Python overhead per query
    res.append((ef, len(queries) / (time.perf_counter() - t), recall(found)))
rows["hnswlib"] = (build, res)

faiss.omp_set_num_threads(cores)
f = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT); f.hnsw.efConstruction = efc
t = time.perf_counter(); f.add(base); build = time.perf_counter() - t
faiss.omp_set_num_threads(1)
f.hnsw.efSearch = efs[0]; f.search(queries[:10], 10)
res = []
for ef in efs:
    f.hnsw.efSearch = ef; t = time.perf_counter()
    found = f.search(queries, 10)[1]
    res.append((ef, len(queries) / (time.perf_counter() - t), recall(found)))
rows["faiss"] = (build, res)
faiss_bytes = faiss.serialize_index(f).nbytes
del f

from usearch.index import Index
u = Index(ndim=d, metric="ip", dtype="f32", connectivity=m, expansion_add=efc)
t = time.perf_counter(); u.add(np.arange(n), base, threads=cores); build = time.perf_counter() - t
u.expansion_search = efs[0]; u.search(queries[:10], 10, threads=1)
res = []
for ef in efs:
    u.expansion_search = ef; t = time.perf_counter()
    found = u.search(queries, 10, threads=1).keys
    res.append((ef, len(queries) / (time.perf_counter() - t), recall(found)))
rows["usearch"] = (build, res)

print(f"\n{n} x {d}, M={m}, efConstruction={efc}; build on {cores} threads, queries on one; recall@10 against exact")
for name, (build, res) in rows.items():
    print(f"  {name:8s} build {build:7.1f} s   " + "   ".join(f"ef {ef}: {qps:7.0f} q/s ({r:.3f})" for ef, qps, r in res))
def at95(res): return next(((ef, qps) for ef, qps, r in res if r >= 0.95), None)
ours95, peers95 = at95(rows["magpie"][1]), [at95(rows[p][1]) for p in ("hnswlib", "faiss", "usearch")]
best = max((p for p in peers95 if p), key=lambda p: p[1], default=None)
if ours95 and best:
    print(f"queries/s at recall@10 >= 0.95: magpie {ours95[1]:.0f} (ef {ours95[0]}) vs best peer {best[1]:.0f} (ef {best[0]}): {ours95[1] / best[1]:.2f}x; "
          f"build {rows['magpie'][0]:.1f} s vs faiss {rows['faiss'][0]:.1f} s, hnswlib {rows['hnswlib'][0]:.1f} s, usearch {rows['usearch'][0]:.1f} s")
print(f"memory: magpie index {ours['index_bytes'] / 1e6:.1f} MB (in-memory estimate, with the id -> row table) vs faiss serialized "
      f"{faiss_bytes / 1e6:.1f} MB: {ours['index_bytes'] / faiss_bytes:.2f}x")
PY
