/// Search followed by k-reciprocal re-ranking of the neighbours.
extension FlatIndex {
    /// The k best gallery entries for each query after k-reciprocal re-ranking.
    ///
    /// `depth` nil re-ranks against the whole index: the items are [queries; gallery], as the
    /// reference treats separate query and gallery sets, and every gallery entry can move into the
    /// top k. `depth` N restricts each query to its N nearest by plain search first (a shortlist,
    /// bounding the cost on large galleries; reciprocal lists are then computed within it).
    /// Scores are −(final re-ranked distance): higher is closer, as with inner products.
    /// `allowed` (one flag per row) restricts the results as in `search`.
    public func searchReRanked(_ queries: [Float], k: Int, reranker: KReciprocalReRanker, depth: Int? = nil,
                               allowed: [Bool]? = nil) throws -> SearchResults {
        guard k >= 0 else { throw RetrievalError.invalidArgument("k must be non-negative, got \(k)") }
        guard queries.count % dimension == 0 else {
            throw RetrievalError.dimensionMismatch(expected: dimension, got: queries.count, context: "queries (flattened length not a multiple)")
        }
        if let depth, depth < 1 { throw RetrievalError.invalidArgument("re-ranking depth must be at least 1, got \(depth)") }
        let nq = queries.count / dimension
        guard k > 0, count > 0, nq > 0 else { return try search(queries, k: k, allowed: allowed) }
        var ids = [Int64](repeating: -1, count: nq * k)
        var scores = [Float](repeating: -.infinity, count: nq * k)
        if let depth, depth < count {
            let shortlist = try search(queries, k: depth, allowed: allowed)
            for q in 0..<nq {
                let candidates = shortlist.ids(ofQuery: q).filter { $0 >= 0 }
                let query = Array(queries[(q * dimension)..<((q + 1) * dimension)])
                var gallery: [Float] = []
                gallery.reserveCapacity(candidates.count * dimension)
                for id in candidates { let i = index(of: id)!; gallery += vectors[(i * dimension)..<((i + 1) * dimension)] }
                let ranked = try Self.rerank(queries: query, gallery: gallery, galleryIDs: candidates, dimension: dimension,
                                             k: k, reranker: reranker)
                for r in 0..<min(k, ranked.count) { ids[q * k + r] = ranked[r].id; scores[q * k + r] = ranked[r].score }
            }
        } else {
            var gallery = vectors, galleryIDs = self.ids
            if let allowed {  // only the rows that pass the filter take part
                let kept = (0..<count).filter { allowed[$0] }
                galleryIDs = kept.map { self.ids[$0] }
                gallery = kept.flatMap { vectors[($0 * dimension)..<(($0 + 1) * dimension)] }
            }
            guard !galleryIDs.isEmpty else { return SearchResults(k: k, ids: ids, scores: scores) }
            let rows = try Self.rerankAll(queries: queries, gallery: gallery, galleryIDs: galleryIDs, dimension: dimension,
                                          k: k, reranker: reranker)
            for (q, ranked) in rows.enumerated() {
                for r in 0..<min(k, ranked.count) { ids[q * k + r] = ranked[r].id; scores[q * k + r] = ranked[r].score }
            }
        }
        return SearchResults(k: k, ids: ids, scores: scores)
    }

    private static func rerank(queries: [Float], gallery: [Float], galleryIDs: [Int64], dimension d: Int, k: Int,
                               reranker: KReciprocalReRanker) throws -> [(id: Int64, score: Float)] {
        try rerankAll(queries: queries, gallery: gallery, galleryIDs: galleryIDs, dimension: d, k: k, reranker: reranker)[0]
    }

    /// Per query, the k best (id, −distance) pairs, ties broken by smaller id.
    private static func rerankAll(queries: [Float], gallery: [Float], galleryIDs: [Int64], dimension d: Int, k: Int,
                                  reranker: KReciprocalReRanker) throws -> [[(id: Int64, score: Float)]] {
        let nq = queries.count / d, ng = galleryIDs.count
        let state = try reranker.prepare(items: queries + gallery, dimension: d, queryCount: nq, galleryOffset: nq)
        var out: [[(id: Int64, score: Float)]] = []
        out.reserveCapacity(nq)
        var row = [Float](repeating: 0, count: ng)
        for q in 0..<nq {
            for g in 0..<ng {
                var s: Float = 0
                for t in 0..<d { s += queries[q * d + t] * gallery[g * d + t] }
                row[g] = s
            }
            row.withUnsafeMutableBufferPointer { state.rescore(query: q, similarities: $0) }
            let order = (0..<ng).sorted { row[$0] != row[$1] ? row[$0] > row[$1] : galleryIDs[$0] < galleryIDs[$1] }
            out.append(order.prefix(k).map { (galleryIDs[$0], row[$0]) })
        }
        return out
    }
}
