#!/usr/bin/env python3
"""Checks `magpie gallery export` folders with numpy and pyarrow (not a CI test).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy pyarrow
    /tmp/venv/bin/python Scripts/check-gallery-export.py OUT_NPY OUT_PARQUET OUT_NDJSON ...

For each folder: reads manifest.json, loads the data files of its format (npy: np.load; parquet:
pyarrow.parquet with the expected Arrow types; ndjson: every flavor's row shape), checks that
count and dimension match the manifest, and that ids, vectors (bit for bit), labels, paths and
metadata agree across the folders exported from the same gallery (same creation time and count). Then recomputes exact_topk.json with numpy (float64
inner products or squared distances over the whole gallery, own entry excluded, equal scores by
id) and checks neighbours and scores. Prints load times and sizes. Exits 1 on any mismatch.

    python3 Scripts/check-gallery-export.py --recall OUT/exact_topk.json ENGINE.json

ENGINE.json maps each sampled id to the ids a target engine returned for that item's vector,
`{"17": [17, 4, 9, ...], ...}` (the item itself may be among them: it is dropped). Prints the
engine's recall@k against the exact answers: |engine top-k ∩ exact top-k| / |exact top-k|, mean.
"""
import json
import pathlib
import sys
import time

import numpy as np

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("  FAIL", message)


def load_npy(folder, dim):
    ids = np.load(folder / "id.npy")
    vectors = np.load(folder / "vector.npy")
    labels = np.load(folder / "label.npy")
    paths = np.load(folder / "path.npy")
    meta = np.load(folder / "metadata.npy")
    check(ids.dtype == np.int64 and vectors.dtype == np.float32 and labels.dtype == np.int64, f"{folder}: npy dtypes")
    check(paths.dtype.kind == "U" and meta.dtype.kind == "U", f"{folder}: path/metadata are not numpy unicode arrays")
    return dict(ids=ids, vectors=vectors, labels=[None if x < 0 else int(x) for x in labels],
                paths=[p or None for p in paths.tolist()],
                metadata=[None if m == "{}" else json.loads(m) for m in meta.tolist()])


def load_parquet(folder, dim):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "gallery.parquet")
    schema = table.schema
    check(schema.field("id").type == pa.int64(), f"{folder}: id type {schema.field('id').type}")
    vtype = schema.field("vector").type
    check(pa.types.is_list(vtype) and vtype.value_type == pa.float32(), f"{folder}: vector type {vtype}")
    check(schema.field("label").type == pa.int64() and schema.field("path").type == pa.string(), f"{folder}: label/path types")
    meta = pq.ParquetFile(folder / "gallery.parquet").metadata
    print(f"  parquet: {meta.num_row_groups} row group(s), created_by {meta.created_by!r}, schema {schema.types}")
    vectors = table.column("vector").combine_chunks()
    flat = vectors.flatten().to_numpy()
    return dict(ids=table.column("id").to_numpy(), vectors=flat.reshape(len(table), dim),
                labels=table.column("label").to_pylist(), paths=table.column("path").to_pylist(),
                metadata=[None if m is None else json.loads(m) for m in table.column("metadata").to_pylist()])


def load_ndjson(folder, dim, flavor):
    ids, vectors, labels, paths, metadata = [], [], [], [], []
    with open(folder / "gallery.ndjson", encoding="utf-8") as f:
        lines = iter(f)
        for line in lines:
            row = json.loads(line)
            if flavor == "opensearch":
                action = row["index"]
                row = json.loads(next(lines))
                check(action["_id"] == str(row["id"]), f"{folder}: _id {action['_id']} != id {row['id']}")
            if flavor == "vespa":
                doc_id = row["put"]
                row = row["fields"]
                check(doc_id.endswith("::" + str(row["id"])), f"{folder}: put {doc_id} != id {row['id']}")
                row["vector"] = row["vector"]["values"]
                if "metadata" in row:
                    row["metadata"] = json.loads(row["metadata"])
            if flavor == "qdrant":
                row.update(row.pop("payload"))
            ids.append(row["id"])
            vectors.append(row["vector"])
            labels.append(row.get("label"))
            paths.append(row.get("path"))
            metadata.append(row.get("metadata"))
    return dict(ids=np.array(ids, np.int64), vectors=np.array(vectors, np.float64).astype(np.float32).reshape(-1, dim),
                labels=labels, paths=paths, metadata=metadata)


def exact_topk(ids, vectors, metric, query_ids, k):
    v = vectors.astype(np.float64)
    position = {int(i): n for n, i in enumerate(ids)}
    answers = {}
    for qid in query_ids:
        q = v[position[qid]]
        scores = v @ q if metric == "IP" else ((v - q) ** 2).sum(axis=1)
        key = -scores if metric == "IP" else scores
        order = np.lexsort((ids, key))  # primary: score, ties: smaller id
        order = [j for j in order if ids[j] != qid][:k]
        answers[qid] = ([int(ids[j]) for j in order], [float(scores[j]) for j in order])
    return answers


def main(folders):
    references = {}
    for folder in map(pathlib.Path, folders):
        manifest = json.loads((folder / "manifest.json").read_text())
        fmt, flavor = manifest["format"], manifest.get("flavor")
        sizes = ", ".join(f"{f['name']} {f['bytes']:,} B" for f in manifest["files"])
        print(f"{folder}: {fmt}{'/' + flavor if flavor else ''}, {manifest['count']} × {manifest['dimension']}; {sizes}")
        start = time.perf_counter()
        loader = {"npy": load_npy, "parquet": load_parquet}.get(fmt, lambda f, d: load_ndjson(f, d, flavor))
        data = loader(folder, manifest["dimension"])
        print(f"  loaded in {time.perf_counter() - start:.3f} s")
        check(len(data["ids"]) == manifest["count"], f"{folder}: {len(data['ids'])} rows, manifest says {manifest['count']}")
        check(data["vectors"].shape == (manifest["count"], manifest["dimension"]), f"{folder}: vector shape {data['vectors'].shape}")
        gallery = (manifest["gallery_created"], manifest["count"], manifest["fingerprint"])
        if gallery not in references:
            references[gallery] = (folder, data)
        else:
            ref_folder, ref = references[gallery]
            check(np.array_equal(data["ids"], ref["ids"]), f"{folder}: ids differ from {ref_folder}")
            check(np.array_equal(data["vectors"].view(np.uint32), ref["vectors"].view(np.uint32)),
                  f"{folder}: vectors differ (bitwise) from {ref_folder}")
            for key in ("labels", "paths", "metadata"):
                check(data[key] == ref[key], f"{folder}: {key} differ from {ref_folder}")
        sample = json.loads((folder / "exact_topk.json").read_text())
        start = time.perf_counter()
        expected = exact_topk(data["ids"], data["vectors"], sample["metric"], [q["id"] for q in sample["queries"]], sample["k"])
        worst = 0.0
        for q in sample["queries"]:
            want_ids, want_scores = expected[q["id"]]
            gaps = np.abs(np.array(q["scores"]) - np.array(want_scores)) if want_scores else np.zeros(1)
            worst = max(worst, float(gaps.max()))
            if q["neighbors"] != want_ids:
                # Float32 sums may order near-equal scores differently from float64: accept swaps
                # only between neighbours whose float64 scores are within 1e-5.
                same = set(q["neighbors"]) == set(want_ids) or np.all(gaps < 1e-5)
                check(same, f"{folder}: exact_topk neighbours of {q['id']} differ: {q['neighbors']} vs {want_ids}")
        check(worst < 1e-4, f"{folder}: exact_topk scores off by up to {worst:.2e}")
        print(f"  exact_topk.json: {len(sample['queries'])} queries, k={sample['k']}, max |score − numpy float64| "
              f"{worst:.1e}, recomputed in {time.perf_counter() - start:.2f} s")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


def recall(exact_path, engine_path):
    exact = json.loads(pathlib.Path(exact_path).read_text())
    engine = json.loads(pathlib.Path(engine_path).read_text())
    k, values, missing = exact["k"], [], 0
    for q in exact["queries"]:
        got = engine.get(str(q["id"]))
        if got is None:
            missing += 1
            continue
        found = [int(i) for i in got if int(i) != q["id"]][:k]
        values.append(len(set(found) & set(q["neighbors"])) / max(len(q["neighbors"]), 1))
    print(f"recall@{k} = {np.mean(values):.4f} over {len(values)} queries"
          + (f" ({missing} sampled ids missing from {engine_path})" if missing else ""))
    return 0 if values else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--recall" and len(sys.argv) == 4:
        sys.exit(recall(sys.argv[2], sys.argv[3]))
    sys.exit(main(sys.argv[1:]))
