import Foundation

/// Retrieval metrics over a query set (see `RetrievalEvaluator` for the definitions).
public struct EvaluationReport: Codable, Equatable, Sendable {
    public var queries: Int
    /// Queries with at least one relevant gallery item; the others are left out of every mean.
    public var validQueries: Int
    public var `protocol`: EvaluationProtocol
    public var reranked: Bool
    /// recall@k for each requested k, in the order requested.
    public var recall: [RecallAtK]
    /// Full-ranking mean average precision (PaddleClas `mAP`).
    public var mAP: Double
    /// MAP@R (pytorch-metric-learning `mean_average_precision_at_r`).
    public var mapAtR: Double
    /// R-precision (pytorch-metric-learning `r_precision`).
    public var rPrecision: Double
    /// precision@1 (pytorch-metric-learning `precision_at_1`).
    public var precisionAt1: Double

    public struct RecallAtK: Codable, Equatable, Sendable {
        public var k: Int
        public var value: Double
    }

    enum CodingKeys: String, CodingKey {
        case queries, validQueries = "valid_queries", `protocol`, reranked, recall, mAP
        case mapAtR = "map_at_r", rPrecision = "r_precision", precisionAt1 = "precision_at_1"
    }

    public func recall(at k: Int) -> Double? { recall.first { $0.k == k }?.value }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    public var table: String {
        var lines = ["queries \(queries) (with a relevant item: \(validQueries)), protocol \(self.protocol.rawValue)\(reranked ? ", k-reciprocal re-ranking" : "")"]
        for r in recall { lines.append(String(format: "recall@%-5d %.6f", r.k, r.value)) }
        lines.append(String(format: "mAP          %.6f", mAP))
        lines.append(String(format: "MAP@R        %.6f", mapAtR))
        lines.append(String(format: "R-precision  %.6f", rPrecision))
        lines.append(String(format: "precision@1  %.6f", precisionAt1))
        return lines.joined(separator: "\n")
    }
}
