/// What `magpie eval --embeddings/--gallery/--query` computes, on loaded embedding sets.
extension RetrievalEvaluator {
    /// `query` against `gallery`, or the gallery against itself (own entries excluded) when
    /// `query` is nil. `metric` nil: the gallery's, else inner product. With `reranker`,
    /// k-reciprocal re-ranking over the union (queries first), ranked by re-ranked similarity.
    /// The names are the sets' paths, for errors about missing labels.
    public func evaluate(gallery: EmbeddingSet, galleryName: String, query: EmbeddingSet? = nil, queryName: String = "query",
                         metric: DistanceMetric? = nil, reranker: KReciprocalReRanker? = nil) throws -> EvaluationReport {
        let galleryLabels = try gallery.requireLabels(galleryName)
        let d = gallery.dimension
        let ranking = reranker == nil ? (metric ?? gallery.metric ?? .innerProduct) : .innerProduct
        guard let query else {
            var rescorer: RowRescorer?
            if let reranker {
                let state = try reranker.prepare(items: gallery.vectors, dimension: d, queryCount: gallery.count, galleryOffset: 0)
                rescorer = { i, row in state.rescore(query: i, similarities: row) }
            }
            return try evaluateSelf(embeddings: gallery.vectors, labels: galleryLabels, dimension: d, metric: ranking, rescorer: rescorer)
        }
        guard query.dimension == d else {
            throw RetrievalError.dimensionMismatch(expected: d, got: query.dimension, context: "query set \(queryName)")
        }
        var rescorer: RowRescorer?
        if let reranker {
            let state = try reranker.prepare(items: query.vectors + gallery.vectors, dimension: d, queryCount: query.count,
                                             galleryOffset: query.count)
            rescorer = { i, row in state.rescore(query: i, similarities: row) }
        }
        return try evaluate(queries: query.vectors, queryLabels: try query.requireLabels(queryName), gallery: gallery.vectors,
                            galleryLabels: galleryLabels, dimension: d, metric: ranking, rescorer: rescorer)
    }
}
