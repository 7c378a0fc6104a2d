import Foundation

/// How an approximate index's answers compare with exact search on the same vectors (what
/// `magpie eval --index` prints beside the usual metrics): for each k, the share of the exact
/// top-k the index also returns (its recall@k against exact search), and the label recall@k
/// (a relevant item among the top k) that the index's answers give.
public struct IndexAgreement: Codable, Sendable {
    public struct AtK: Codable, Sendable {
        public var k: Int
        /// |index top-k ∩ exact top-k| / k, mean over queries.
        public var agreement: Double
        /// Share of queries with a same-label item in the index's top k.
        public var recall: Double
    }

    public var index: String
    public var buildSeconds: Double
    /// Queries per second, one query per call on one thread.
    public var queriesPerSecond: Double
    public var atK: [AtK]

    /// Builds `spec` over `gallery`, searches it with every query (the gallery's own items when
    /// `query` is nil, each excluding itself) and compares with exact search.
    public static func measure(spec: IndexSpec, gallery: EmbeddingSet, query: EmbeddingSet?, ks: [Int],
                               metric: DistanceMetric) throws -> IndexAgreement {
        let d = gallery.dimension
        let maxK = ks.max() ?? 10
        let selfQueries = query == nil
        let queries = query ?? gallery
        let exact = FlatIndex(dimension: d, metric: metric)
        try exact.add(ids: gallery.ids, vectors: gallery.vectors)
        let approximate: any VectorIndex
        switch spec {
        case .flat: approximate = exact
        case .hnsw(let p):
            approximate = HNSWIndex(dimension: d, metric: metric, parameters: p)
        case .ivfpq(let p):
            approximate = try IVFPQIndex(dimension: d, metric: metric, parameters: p)
        }
        let start = Date()
        if !(approximate is FlatIndex) { try approximate.add(ids: gallery.ids, vectors: gallery.vectors) }
        let build = Date().timeIntervalSince(start)
        // One more than k when the query's own item may come back, dropped below.
        let fetch = maxK + (selfQueries ? 1 : 0)
        let truth = try exact.search(queries.vectors, k: maxK, excluding: selfQueries ? queries.ids : nil, allowed: nil)
        var found: [[Int64]] = []
        found.reserveCapacity(queries.count)
        let searchStart = Date()
        for q in 0..<queries.count {
            let result = try approximate.search(Array(queries.vectors[(q * d)..<((q + 1) * d)]), k: fetch, allowed: nil)
            found.append(Array(result.ids(ofQuery: 0).filter { $0 >= 0 && !(selfQueries && $0 == queries.ids[q]) }.prefix(maxK)))
        }
        let qps = Double(queries.count) / max(Date().timeIntervalSince(searchStart), 1e-9)
        var labelOf: [Int64: Int64] = [:]
        for (id, record) in zip(gallery.ids, gallery.records) { if let l = record.label { labelOf[id] = l } }
        let atK = ks.map { k -> AtK in
            var agree = 0.0, hits = 0.0
            for q in 0..<queries.count {
                let mine = found[q].prefix(k)
                agree += Double(Set(mine).intersection(truth.ids(ofQuery: q).prefix(k)).count) / Double(k)
                if let label = queries.records[q].label, mine.contains(where: { labelOf[$0] == label }) { hits += 1 }
            }
            let n = Double(max(queries.count, 1))
            return AtK(k: k, agreement: agree / n, recall: hits / n)
        }
        return IndexAgreement(index: "\(spec)", buildSeconds: build, queriesPerSecond: qps, atK: atK)
    }

    /// `index HNSW16 (…): built in 1.2 s, 8,000 queries/s; recall@k against exact: @1 0.99, …`
    public var table: String {
        String(format: "index %@: built in %.1f s, %.0f queries/s (one per call, one thread)\n", index, buildSeconds, queriesPerSecond)
            + "  against exact search: " + atK.map { String(format: "@%d %.4f", $0.k, $0.agreement) }.joined(separator: ", ") + "\n"
            + "  label recall with it: " + atK.map { String(format: "@%d %.4f", $0.k, $0.recall) }.joined(separator: ", ")
    }
}
