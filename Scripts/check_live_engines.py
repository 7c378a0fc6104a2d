#!/usr/bin/env python3
"""Loads `magpie gallery export` folders into real, running vector engines and measures their
recall@k against Magpie's exact search (not a CI test; Scripts/check-live-engines.sh sets it up).

    python Scripts/check_live_engines.py --npy OUT_NPY --parquet OUT_PARQUET --qdrant OUT_QDRANT \
        [--work DIR] [--engines milvus,qdrant,duckdb]

- Milvus Lite (pymilvus MilvusClient on a local .db file): one collection per export, with the
  fields the README's Milvus steps give (id INT64 primary, auto_id off, vector FLOAT_VECTOR(dim),
  label INT64, path VARCHAR, metadata JSON). Milvus Lite has no bulk-import job, so the five
  .npy files (np.load) and gallery.parquet (pyarrow) are read here and inserted in batches, the
  values passed as they are in the files (metadata as JSON text; Parquet nulls as None into
  nullable fields). Each collection is searched with a FLAT and then an HNSW index, metric IP or
  L2 as manifest.json says.
- Qdrant local mode (QdrantClient(path=...), in-process, exact brute-force search: it builds no
  HNSW graph): the collection is created from qdrant_collection.json parsed as the REST body of
  `PUT /collections/NAME`, and the NDJSON points are upserted, as they are, in batches parsed as
  the REST body of `PUT /collections/NAME/points`.
- DuckDB: read_parquet(gallery.parquet) into a table, checks of row count, column types and
  nulls, then exact top-k in SQL (array_inner_product / array_distance over FLOAT[dim]).

For every engine and index: searches each id of exact_topk.json with its own vector for k + 1
results, writes WORK/ENGINE.json ({"id": [returned ids]}) and scores it with the recall function
of Scripts/check-gallery-export.py. Prints one line per engine and index. Exits 1 when an engine
refuses the files, loads the wrong number of rows, or a flat (exact) search has recall < 1.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import pathlib
import re
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("check_gallery_export", HERE / "check-gallery-export.py")
check_gallery_export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_gallery_export)

BATCH = 2000
K = 10  # set from exact_topk.json in main()
HNSW_BUILD = {"M": 16, "efConstruction": 200}
HNSW_EFS = (64, 256)  # HNSW search ef values tried
results = []  # (engine, rows, load seconds, index, recall or None, note)
failures = []


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def sample_of(folder):
    return json.loads((folder / "exact_topk.json").read_text())


def recall(folder, work, name, answers):
    """Writes answers as WORK/NAME.json and scores it with check-gallery-export.py's recall()."""
    engine_json = work / f"{name}.json"
    engine_json.write_text(json.dumps({str(q): [int(i) for i in ids] for q, ids in answers.items()}))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = check_gallery_export.recall(folder / "exact_topk.json", engine_json)
    text = out.getvalue().strip()
    match = re.search(r"recall@\d+ = ([0-9.]+)", text)
    if rc != 0 or match is None or "missing" in text:
        failures.append(f"{name}: {text or 'no recall'}")
        return None, text
    return float(match.group(1)), text


def report(engine, rows, seconds, index, value, note=""):
    results.append((engine, rows, seconds, index, value, note))
    shown = "n/a" if value is None else f"{value:.4f}"
    print(f"{engine:<22} {rows:>8,} rows loaded in {seconds:6.2f} s   index {index:<34} recall@{K} {shown}"
          + (f"   ({note})" if note else ""), flush=True)


# ---------------------------------------------------------------- Milvus Lite

def milvus_schema(dim, path_length, nullable):
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    extra = {"nullable": True} if nullable else {}
    schema.add_field("label", DataType.INT64, **extra)
    schema.add_field("path", DataType.VARCHAR, max_length=path_length, **extra)
    schema.add_field("metadata", DataType.JSON, **extra)
    return schema


def read_npy(folder):
    """The five .npy files as rows, values as stored (label -1, path "", metadata "{}" for none)."""
    ids = np.load(folder / "id.npy")
    vectors = np.load(folder / "vector.npy")
    labels = np.load(folder / "label.npy")
    paths = np.load(folder / "path.npy")
    meta = np.load(folder / "metadata.npy")
    assert ids.dtype == np.int64 and vectors.dtype == np.float32 and labels.dtype == np.int64
    assert paths.dtype.kind == "U" and meta.dtype.kind == "U"
    rows = [{"id": int(i), "vector": v, "label": int(l), "path": str(p), "metadata": str(m)}
            for i, v, l, p, m in zip(ids, vectors, labels, paths, meta)]
    return ids, vectors, rows


def read_parquet(folder):
    """gallery.parquet as rows; nulls stay None (the collection declares those fields nullable)."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "gallery.parquet")
    ids = table.column("id").to_numpy()
    dim = manifest_of(folder)["dimension"]
    vectors = table.column("vector").combine_chunks().flatten().to_numpy().reshape(len(table), dim)
    rows = [{"id": int(i), "vector": v, "label": l, "path": p, "metadata": m}
            for i, v, l, p, m in zip(ids, vectors, table.column("label").to_pylist(),
                                     table.column("path").to_pylist(), table.column("metadata").to_pylist())]
    return ids, vectors, rows


def json_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON at all: counted with the scalars


def run_milvus(folder, work, kind):
    from pymilvus import MilvusClient

    manifest, sample = manifest_of(folder), sample_of(folder)
    dim, metric, k = manifest["dimension"], manifest["metric"], sample["k"]
    engine = f"Milvus Lite ({kind})"
    start = time.perf_counter()
    ids, vectors, rows = read_npy(folder) if kind == "npy" else read_parquet(folder)
    read_s = time.perf_counter() - start
    longest = max([len(r["path"].encode()) for r in rows if r["path"] is not None] or [0])
    scalars = sum(1 for r in rows if r["metadata"] is not None and not isinstance(json_value(r["metadata"]), (dict, list)))
    if scalars:
        print(f"{engine}: note: {scalars} items have metadata that is a JSON string, number or boolean "
              "(Milvus Lite 3.x has refused those in a JSON field)", flush=True)
    client = MilvusClient(str(work / f"milvus-{kind}.db"))
    name = f"magpie_{kind}"
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=milvus_schema(dim, max(256, longest), nullable=kind == "parquet"))
    start = time.perf_counter()
    for lo in range(0, len(rows), BATCH):
        client.insert(name, rows[lo:lo + BATCH])
    client.flush(name)
    insert_s = time.perf_counter() - start
    count = client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
    if count != manifest["count"]:
        failures.append(f"{engine}: {count} rows in the collection, manifest says {manifest['count']}")
    check_milvus_fields(client, name, engine, rows)
    position = {int(i): n for n, i in enumerate(ids)}
    queries = [q["id"] for q in sample["queries"]]
    for index_type in ("FLAT", "HNSW"):
        client.release_collection(name)
        if client.list_indexes(name):
            client.drop_index(name, "vector")
        params = client.prepare_index_params()
        params.add_index("vector", index_type=index_type, metric_type=metric,
                         params=HNSW_BUILD if index_type == "HNSW" else {})
        start = time.perf_counter()
        client.create_index(name, params)
        client.load_collection(name)
        index_s = time.perf_counter() - start
        described = client.describe_index(name, "vector")
        if described.get("index_type") != index_type or described.get("indexed_rows") != count:
            failures.append(f"{engine}: index {described}")
        for ef in (HNSW_EFS if index_type == "HNSW" else (None,)):
            search_params = {"metric_type": metric, "params": {"ef": ef} if ef else {}}
            hits = client.search(name, [vectors[position[q]].tolist() for q in queries], limit=k + 1,
                                 search_params=search_params, output_fields=["id"])
            answers = {q: [h["id"] for h in found] for q, found in zip(queries, hits)}
            value, _ = recall(folder, work, f"milvus-{kind}-{index_type.lower()}{ef or ''}", answers)
            label = f"{index_type} {metric}" + (f" M={HNSW_BUILD['M']} efC={HNSW_BUILD['efConstruction']} ef={ef}" if ef else "")
            report(engine, count, read_s + insert_s, label, value,
                   f"read {read_s:.2f} s + insert {insert_s:.2f} s in batches of {BATCH}; index+load {index_s:.2f} s")
            if index_type == "FLAT" and value is not None and value < 1.0:
                failures.append(f"{engine}: FLAT recall {value} < 1")
    client.close()


def check_milvus_fields(client, name, engine, rows):
    """Reads a few entities back: label, path and metadata (as JSON, not text) as inserted."""
    probe = [r for r in rows if r["metadata"] not in (None, "{}")][:3] + [r for r in rows if r["label"] in (None, -1)][:2]
    objects = [json.loads(r["metadata"]) if r["metadata"] else {} for r in rows]
    objects = [m if isinstance(m, dict) else {} for m in objects]
    if not probe:
        return
    got = {e["id"]: e for e in client.get(name, ids=[r["id"] for r in probe], output_fields=["label", "path", "metadata"])}
    for r in probe:
        e = got.get(r["id"])
        want_meta = None if r["metadata"] is None else json.loads(r["metadata"])
        if e is None or e["label"] != r["label"] or e["path"] != r["path"] or e["metadata"] != want_meta:
            failures.append(f"{engine}: entity {r['id']} read back as {e}, inserted {dict(r, vector='…')}")
    meta = next((m for m in objects if m), None)
    if meta:  # a filter on a JSON key must see the metadata as JSON
        key, value = next(iter(meta.items()))
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            hits = client.query(name, filter=f'metadata["{key}"] == {json.dumps(value)}', output_fields=["id"])
            want = sum(1 for m in objects if m.get(key) == value)
            if len(hits) != want:
                failures.append(f"{engine}: JSON filter metadata[{key!r}] == {value!r} found {len(hits)}, expected {want}")


# ---------------------------------------------------------------- Qdrant

def run_qdrant(folder, work):
    from qdrant_client import QdrantClient, models

    manifest, sample = manifest_of(folder), sample_of(folder)
    k = sample["k"]
    # The exported file is the body of `PUT /collections/NAME`: validate it as Qdrant's REST model.
    body = models.CreateCollection.model_validate(json.loads((folder / "qdrant_collection.json").read_text()))
    client = QdrantClient(path=str(work / "qdrant"))
    name = "magpie"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=body.vectors)
    info = client.get_collection(name).config.params.vectors
    start = time.perf_counter()
    vectors, payloads = {}, {}
    with open(folder / "gallery.ndjson", encoding="utf-8") as f:
        batch = []
        for line in f:
            batch.append(json.loads(line))
            if len(batch) == BATCH:
                upsert_qdrant(client, models, name, batch, vectors, payloads)
                batch = []
        if batch:
            upsert_qdrant(client, models, name, batch, vectors, payloads)
    load_s = time.perf_counter() - start
    count = client.count(name, exact=True).count
    if count != manifest["count"]:
        failures.append(f"Qdrant: {count} points, manifest says {manifest['count']}")
    queries = [q["id"] for q in sample["queries"]]
    answers = {}
    for q in queries:
        found = client.query_points(name, query=vectors[q], limit=k + 1).points
        answers[q] = [p.id for p in found]
    # Payloads read back as the lines gave them (metadata as a JSON value, absent fields absent).
    for point in client.retrieve(name, ids=queries[:20], with_payload=True):
        if point.payload != payloads[point.id]:
            failures.append(f"Qdrant: point {point.id} payload {point.payload} != {payloads[point.id]}")
    value, _ = recall(folder, work, "qdrant-local", answers)
    report("Qdrant local mode", count, load_s, f"exact (local mode) {info.distance.value}", value,
           f"upserted in batches of {BATCH}; collection size {info.size}")
    if value is not None and value < 1.0:
        failures.append(f"Qdrant local mode (exact): recall {value} < 1")
    client.close()


def upsert_qdrant(client, models, name, batch, vectors, payloads):
    # The lines, untouched, as the body of `PUT /collections/NAME/points`.
    points = models.PointsList.model_validate({"points": batch}).points
    client.upsert(name, points=points, wait=True)
    for p in batch:
        vectors[p["id"]] = p["vector"]
        payloads[p["id"]] = p.get("payload")


# ---------------------------------------------------------------- DuckDB

def run_duckdb(folder, work):
    import duckdb

    manifest, sample = manifest_of(folder), sample_of(folder)
    dim, metric, k = manifest["dimension"], manifest["metric"], sample["k"]
    con = duckdb.connect(str(work / "duckdb.db"))
    con.execute("DROP TABLE IF EXISTS gallery")
    start = time.perf_counter()
    con.execute("CREATE TABLE gallery AS SELECT * FROM read_parquet(?)", [str(folder / "gallery.parquet")])
    load_s = time.perf_counter() - start
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE gallery").fetchall()}
    want = {"id": "BIGINT", "vector": "FLOAT[]", "label": "BIGINT", "path": "VARCHAR", "metadata": "VARCHAR"}
    if types != want:
        failures.append(f"DuckDB: column types {types}, expected {want}")
    count, bad_len, ids, invalid_json, null_ids = con.execute(
        f"SELECT count(*), count(*) FILTER (len(vector) <> {dim}), count(DISTINCT id),"
        " count(*) FILTER (metadata IS NOT NULL AND NOT json_valid(metadata)), count(*) FILTER (id IS NULL)"
        " FROM gallery").fetchone()
    if (count, bad_len, ids, invalid_json, null_ids) != (manifest["count"], 0, manifest["count"], 0, 0):
        failures.append(f"DuckDB: rows {count}, wrong-length vectors {bad_len}, distinct ids {ids}, "
                        f"invalid metadata JSON {invalid_json}, null ids {null_ids}")
    queries = [q["id"] for q in sample["queries"]]
    score = ("array_inner_product(g.v, q.v)" if metric == "IP" else "array_distance(g.v, q.v)")
    order = "DESC" if metric == "IP" else "ASC"
    start = time.perf_counter()
    rows = con.execute(f"""
        WITH g AS (SELECT id, CAST(vector AS FLOAT[{dim}]) AS v FROM gallery),
             q AS (SELECT id AS qid, v FROM g WHERE id IN (SELECT unnest(?::BIGINT[])))
        SELECT qid, id FROM (
            SELECT q.qid, g.id, row_number() OVER (PARTITION BY q.qid ORDER BY {score} {order}, g.id) AS r
            FROM q CROSS JOIN g)
        WHERE r <= {k + 1} ORDER BY qid, r""", [queries]).fetchall()
    search_s = time.perf_counter() - start
    answers = {q: [] for q in queries}
    for qid, gid in rows:
        answers[qid].append(gid)
    value, _ = recall(folder, work, "duckdb", answers)
    report("DuckDB", count, load_s, f"exact SQL ({'array_inner_product' if metric == 'IP' else 'array_distance'})",
           value, f"read_parquet into a table; top-{k + 1} of {len(queries)} queries in {search_s:.2f} s")
    if value is not None and value < 1.0:
        failures.append(f"DuckDB (exact): recall {value} < 1")
    con.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--npy", type=pathlib.Path)
    parser.add_argument("--parquet", type=pathlib.Path)
    parser.add_argument("--qdrant", type=pathlib.Path)
    parser.add_argument("--work", type=pathlib.Path)
    parser.add_argument("--engines", default="milvus,qdrant,duckdb")
    args = parser.parse_args()
    work = args.work or pathlib.Path(tempfile.mkdtemp(prefix="magpie-live-engines."))
    work.mkdir(parents=True, exist_ok=True)
    engines = set(args.engines.split(","))
    versions = []
    for package in ("milvus_lite", "pymilvus", "qdrant_client", "duckdb", "pyarrow", "numpy"):
        from importlib.metadata import version, PackageNotFoundError
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{package.replace('_', '-')} {version(package.replace('_', '-'))}")
    print("versions: " + ", ".join(versions))
    global K
    first = args.npy or args.parquet or args.qdrant
    if first is None:
        parser.error("give at least one of --npy, --parquet, --qdrant")
    gallery, K = manifest_of(first), sample_of(first)["k"]
    print(f"gallery: {gallery['count']:,} × {gallery['dimension']}, metric {gallery['metric']}; work folder {work}")
    steps = []
    if "milvus" in engines:
        steps += [("Milvus Lite (npy)", lambda: run_milvus(args.npy, work, "npy")) if args.npy else None,
                  ("Milvus Lite (parquet)", lambda: run_milvus(args.parquet, work, "parquet")) if args.parquet else None]
    if "qdrant" in engines and args.qdrant:
        steps.append(("Qdrant local mode", lambda: run_qdrant(args.qdrant, work)))
    if "duckdb" in engines and args.parquet:
        steps.append(("DuckDB", lambda: run_duckdb(args.parquet, work)))
    for name, step in filter(None, steps):
        try:
            step()
        except Exception as error:  # an engine refusing the files: report it, go on with the others
            failures.append(f"{name} refused: {type(error).__name__}: {error}")
            print(f"{name:<22} REFUSED: {type(error).__name__}: {error}", flush=True)
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failed" if failures else "all engines loaded the exports; flat/exact recall@k is 1")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
