import TensorCore

/// recall@k, mAP, MAP@R, R-precision and precision@1 of a query set against a gallery, computed
/// one query block at a time (a block × gallery score tile per core): memory is O(block · N),
/// never O(N²).
///
/// Definitions, for a query q with ranking (higher score first, equal scores by smaller gallery
/// index) and R = number of relevant gallery items (same label, own entry never counted):
/// - recall@k: 1 if any relevant item is in the top k, else 0 ("any hit", PaddleClas `Recallk`).
/// - AP (full ranking, PaddleClas `mAP`): (1/R) Σ over relevant ranks r of (#relevant ≤ r) / r.
/// - MAP@R: the same sum restricted to ranks ≤ R, still divided by R (Musgrave et al.).
/// - R-precision: (#relevant in the top R) / R. precision@1: 1 if rank 1 is relevant.
/// Queries with R = 0 are left out of every mean and counted in `queries − validQueries`.
public struct RetrievalEvaluator: Sendable {
    public var ks: [Int]
    public var `protocol`: EvaluationProtocol
    /// Queries per block (PaddleClas `sim_block_size` 64; it also sets the paddleclas weighting).
    public var blockSize = 64
    /// Queries scored per sgemm (memory: computeBlock × gallery floats per core). Does not change results.
    public var computeBlock = 256

    public init(ks: [Int] = [1, 5, 10, 100], protocol: EvaluationProtocol = .standard) {
        self.ks = ks
        self.protocol = `protocol`
    }

    /// Re-scores one row in place: `(queryIndex, row)` gets the query's raw scores against the whole
    /// gallery and leaves scores where higher is closer (used by re-ranking).
    public typealias RowRescorer = @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void

    /// Evaluates `queries` (row-major, `queryLabels.count` rows) against `gallery`.
    /// `selfIndex[q]` is the gallery position of query q's own entry (or -1); pass it when the
    /// query set is the gallery (see `evaluateSelf`).
    public func evaluate(queries: [Float], queryLabels: [Int64], gallery: [Float], galleryLabels: [Int64],
                         dimension d: Int, metric: DistanceMetric = .innerProduct, selfIndex: [Int]? = nil,
                         rescorer: RowRescorer? = nil) throws -> EvaluationReport {
        let nq = queryLabels.count, ng = galleryLabels.count
        guard d > 0, queries.count == nq * d else {
            throw RetrievalError.invalidArgument("queries hold \(queries.count) values, expected \(nq) labels × dimension \(d)")
        }
        guard gallery.count == ng * d else {
            throw RetrievalError.invalidArgument("gallery holds \(gallery.count) values, expected \(ng) labels × dimension \(d)")
        }
        guard !ks.isEmpty, ks.allSatisfy({ $0 > 0 }) else { throw RetrievalError.invalidArgument("ks must be positive integers, got \(ks)") }
        if let selfIndex, selfIndex.count != nq { throw RetrievalError.invalidArgument("selfIndex needs one entry per query") }
        if self.protocol == .paddleclas, metric != .innerProduct {
            throw RetrievalError.invalidArgument("the paddleclas protocol ranks by inner product (similarity); use --metric IP")
        }
        guard queries.allSatisfy(\.isFinite), gallery.allSatisfy(\.isFinite) else {
            throw RetrievalError.invalidArgument("embeddings contain NaN or infinity")
        }

        var byLabel: [Int64: [Int]] = [:]
        for (g, label) in galleryLabels.enumerated() { byLabel[label, default: []].append(g) }

        var perQuery = [QueryScores](repeating: QueryScores(), count: nq)
        let paddleSelf = self.protocol == .paddleclas && rescorer == nil
        perQuery.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            queries.withUnsafeBufferPointer { qp in
                gallery.withUnsafeBufferPointer { gp in
                    var scan = ScoreScan(gallery: gp.baseAddress!, count: ng, dimension: d, metric: metric)
                    scan.queryBlock = computeBlock
                    scan.galleryChunk = max(ng, 1)
                    scan.run(queries: qp.baseAddress!, count: nq) { qr, _, tile in
                        var scratch: [(Float, Int)] = []
                        var counts: [Int] = []
                        for q in qr {
                            let row = tile + (q - qr.lowerBound) * ng
                            if let rescorer { rescorer(q, UnsafeMutableBufferPointer(start: row, count: ng)) }
                            let own = selfIndex?[q] ?? -1
                            var relevant = byLabel[queryLabels[q]] ?? []
                            if own >= 0 {
                                // PaddleClas keeps the own entry at similarity 0 (never relevant);
                                // otherwise -inf puts it after every relevant item, i.e. removes it.
                                row[own] = paddleSelf ? 0 : -.infinity
                                if let at = relevant.firstIndex(of: own) { relevant.remove(at: at) }
                            }
                            let ranks = RelevantRanks.compute(row: row, count: ng, relevant: relevant,
                                                              scratch: &scratch, counts: &counts)
                            outBase[q] = QueryScores(ranks: ranks)
                        }
                    }
                }
            }
        }
        return aggregate(perQuery, reranked: rescorer != nil)
    }

    /// Query set = gallery: each item is a query against all the others.
    public func evaluateSelf(embeddings: [Float], labels: [Int64], dimension: Int, metric: DistanceMetric = .innerProduct,
                             rescorer: RowRescorer? = nil) throws -> EvaluationReport {
        try evaluate(queries: embeddings, queryLabels: labels, gallery: embeddings, galleryLabels: labels,
                     dimension: dimension, metric: metric, selfIndex: Array(0..<labels.count), rescorer: rescorer)
    }

    func aggregate(_ perQuery: [QueryScores], reranked: Bool) -> EvaluationReport {
        let nq = perQuery.count
        let valid = perQuery.filter(\.valid)
        func mean(_ f: (QueryScores) -> Double) -> Double {
            valid.isEmpty ? 0 : valid.reduce(0.0) { $0 + f($1) } / Double(valid.count)
        }
        var recall = ks.map { k in EvaluationReport.RecallAtK(k: k, value: mean { $0.firstRank < k ? 1 : 0 }) }
        var mAP = mean(\.averagePrecision)
        if self.protocol == .paddleclas {
            // Per block: mean over the block's valid queries; blocks weighted by rows / #queries.
            for i in recall.indices { recall[i].value = 0 }
            mAP = 0
            var start = 0
            while start < nq {
                let block = perQuery[start..<min(nq, start + blockSize)].filter(\.valid)
                let weight = Double(min(nq, start + blockSize) - start) / Double(nq)
                if !block.isEmpty {
                    for i in recall.indices {
                        let k = recall[i].k
                        recall[i].value += weight * Double(block.filter { $0.firstRank < k }.count) / Double(block.count)
                    }
                    mAP += weight * block.reduce(0.0) { $0 + $1.averagePrecision } / Double(block.count)
                }
                start += blockSize
            }
        }
        return EvaluationReport(queries: nq, validQueries: valid.count, protocol: self.protocol, reranked: reranked,
                                recall: recall, mAP: mAP, mapAtR: mean(\.mapAtR), rPrecision: mean(\.rPrecision),
                                precisionAt1: mean { $0.firstRank == 0 ? 1 : 0 })
    }
}
