#!/usr/bin/env python3
"""Writes N unit vectors x DIM (seeded) as NDJSON rows for `magpie gallery import`.

    synthetic_gallery_rows.py N DIM OUT.ndjson [--edge-cases]

Every item has a label (id // 5) and a path; every tenth has JSON metadata. With --edge-cases,
every seventh item has no label and every eleventh no path (nulls in Parquet), some paths are
not ASCII, and the metadata holds arrays, non-ASCII text and a newline.
"""
import json
import sys

import numpy as np

n, d, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
edge = "--edge-cases" in sys.argv[4:]
rng = np.random.default_rng(0)
v = rng.standard_normal((n, d)).astype(np.float32)
v /= np.linalg.norm(v, axis=1, keepdims=True)
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        row = {"id": i, "vector": v[i].tolist()}
        if not edge or i % 7:
            row["label"] = i // 5
        if not edge or i % 11:
            row["path"] = f"images/class_{i // 5:05d}/{i:07d}{'_é' if edge and i % 13 == 0 else ''}.jpg"
        if i % 10 == 0:
            row["metadata"] = {"shop": f"s{i % 97}", "price": i % 1000}
            if edge:
                row["metadata"].update({"tags": ["a", "ü"], "note": "two\nlines"})
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
