import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie bench ann`: an approximate index's build time, memory and queries/s at each search
/// setting (HNSW efSearch, IVF nprobe), with recall@10 against exact search, on a seeded
/// clustered set.
struct BenchANNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "HNSW or IVF-PQ index: build time, peak memory, queries/s and recall@10 against exact search.",
        discussion: """
        The vectors are a seeded Gaussian mixture (--clusters centres, unit length), the queries \
        held out from the same mixture; --base X.npy --query-file Q.npy bring your own (float32 \
        rows; Scripts/bench-ann-peer.sh runs hnswlib and faiss on the same files). Queries run one at a time on one thread, as a service \
        answers them; exact search (FlatIndex, all cores) gives the ground truth.
        """
    )

    @Option(help: "Items in the index.") var n = 100_000
    @Option(help: "Vector dimension.") var dim = 128
    @Option(help: "Query vectors.") var queries = 1000
    @Option(help: "Gaussian centres of the data.") var clusters = 1000
    @Option(help: "hnsw or ivfpq.") var type = "hnsw"
    @Option(help: "HNSW M (neighbours per item; 2·M on layer 0).") var m = 16
    @Option(help: "IVF: coarse lists.") var nlist = 1024
    @Option(name: .customLong("pq-m"), help: "IVF-PQ: sub-quantizers (bytes per item; 0: IVF-Flat).") var pqM = 16
    @Option(help: "IVF-PQ: candidates re-scored exactly, × k (0: codes only).") var rescore = 8
    @Option(help: "IVF: lists visited per query, to measure (comma-separated).") var nprobe = "4,8,16,32,64"
    @Option(name: .customLong("ef-construction"), help: "Beam width while building.") var efConstruction = 200
    @Option(name: .customLong("ef-search"), help: "Search beam widths to measure (comma-separated).") var efSearch = "16,32,64,128,256"
    @Option(help: "Items as a .npy (rows × dim float32) instead of the generated mixture.") var base: String?
    @Option(name: .customLong("query-file"), help: "Queries as a .npy (with --base).") var queryFile: String?
    @Option(name: .customLong("index-file"), help: ArgumentHelp(
        "Save the built index to this file, or load it from there when it exists, to measure searches without rebuilding.",
        discussion: "The file must come from a run with the same vectors (--n, --dim, --clusters or --base) and index settings; build time then reports the load.",
        valueName: "path")) var indexFile: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard type == "hnsw" || type == "ivfpq" else { throw ValidationError("--type is hnsw or ivfpq") }
        let ivf = type == "ivfpq"
        let beams = (ivf ? nprobe : efSearch).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard n > 0, dim > 0, queries > 0, m >= 2, efConstruction > 0, !beams.isEmpty, beams.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--n, --dim, --queries and --ef-construction must be positive, --m at least 2, --ef-search positive integers")
        }
        var n = self.n, dim = self.dim, queries = self.queries
        let base: [Float], query: [Float]
        if let basePath = self.base {
            guard let queryFile else { throw ValidationError("--base needs --query-file") }
            let b = try NPY.read(URL(fileURLWithPath: basePath)).tensor, q = try NPY.read(URL(fileURLWithPath: queryFile)).tensor
            guard b.shape.count == 2, q.shape.count == 2, b.shape[1] == q.shape[1] else {
                throw ValidationError("--base and --query-file must be 2-D float arrays of the same width")
            }
            (n, dim, queries) = (b.shape[0], b.shape[1], q.shape[0])
            base = b.data; query = q.data
        } else {
            let all = RetrievalBench.mixture(n + queries, dim, clusters: clusters, seed: 7)
            base = Array(all[0..<(n * dim)]); query = Array(all[(n * dim)...])
        }
        let ids = (0..<n).map(Int64.init)
        var hnsw = ivf ? nil : HNSWIndex(dimension: dim, parameters: .init(m: m, efConstruction: efConstruction))
        var ivfpq = ivf ? try IVFPQIndex(dimension: dim, parameters: .init(nlist: nlist, m: pqM, rescore: rescore)) : nil
        let file = indexFile.map { URL(fileURLWithPath: $0) }
        let loads = file.map { FileManager.default.fileExists(atPath: $0.path) } ?? false
        let build = try RetrievalBench.seconds {
            if let file, loads {
                if ivf { ivfpq = try IVFPQIndex.load(from: file).index } else { hnsw = try HNSWIndex.load(from: file).index }
            } else {
                try (hnsw as (any PersistentIndex)? ?? ivfpq!).add(ids: ids, vectors: base)
            }
        }
        let index: any PersistentIndex = hnsw ?? ivfpq!
        if loads {
            guard index.count == n, index.dimension == dim else {
                throw ValidationError("--index-file holds \(index.count) × \(index.dimension) vectors, not \(n) × \(dim): remove it to rebuild")
            }
        } else if let file {
            try index.save(to: file, stamp: n)
        }
        let exact = FlatIndex(dimension: dim)
        try exact.add(ids: ids, vectors: base)
        let truth = try exact.search(query, k: 10)
        // Exact search as a service runs it: one query per call (the scan uses every core).
        let sample = min(queries, 200)
        let exactSeconds = try RetrievalBench.seconds {
            for q in 0..<sample { _ = try exact.search(Array(query[(q * dim)..<((q + 1) * dim)]), k: 10) }
        }
        var rows: [[String: Any]] = []
        let knob = ivf ? "nprobe" : "ef_search"
        // Queries on one thread, IVF's sgemms included.
        let blasThreads = GEMM.threads
        GEMM.threads = 1
        defer { GEMM.threads = blasThreads }
        for setting in beams {
            hnsw?.parameters.efSearch = setting
            ivfpq?.parameters.nprobe = setting
            var found: SearchResults?
            let seconds = try RetrievalBench.seconds { found = try index.search(query, k: 10, allowed: nil) }
            var hits = 0
            for q in 0..<queries { hits += Set(found!.ids(ofQuery: q)).intersection(truth.ids(ofQuery: q)).count }
            rows.append([knob: setting, "queries_per_s": Double(queries) / seconds, "recall_at_10": Double(hits) / Double(queries * 10)])
        }
        if json {
            let object: [String: Any] = ["type": type, "n": n, "dim": dim, "m": m, "ef_construction": efConstruction, "nlist": nlist,
                                         "pq_m": pqM, "rescore": rescore, "build_s": build, "loaded": loads,
                                         "peak_rss_mib": RetrievalBench.peakRSSMiB, "search": rows,
                                         "index_bytes": index.memoryBytes, "exact_bytes": exact.memoryBytes,
                                         "exact_queries_per_s": Double(sample) / exactSeconds]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        let made = loads ? String(format: "loaded in %.1f s", build) : String(format: "build %.1f s (%.0f items/s)", build, Double(n) / build)
        print(String(format: "%@ over %d × %d (%d clusters): %@, peak RSS %.0f MiB",
                     "\(index.spec)", n, dim, clusters, made, RetrievalBench.peakRSSMiB))
        for row in rows {
            print(String(format: "  %@ %4d: %8.0f queries/s (one thread), recall@10 %.4f", knob,
                         row[knob] as! Int, row["queries_per_s"] as! Double, row["recall_at_10"] as! Double))
        }
        print(String(format: "  exact (FlatIndex, one query per call, %d threads): %.0f queries/s; memory: index %.1f MB, exact %.1f MB",
                     Parallel.cores, Double(sample) / exactSeconds, Double(index.memoryBytes) / 1e6, Double(exact.memoryBytes) / 1e6))
    }
}
