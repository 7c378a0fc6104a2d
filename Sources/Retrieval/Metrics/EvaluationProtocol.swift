/// How the query's own gallery entry is treated when the query set is the gallery.
public enum EvaluationProtocol: String, Codable, Sendable, CaseIterable {
    /// The query's own entry is removed from its ranking; every metric is averaged over the
    /// queries that have at least one relevant item.
    case standard
    /// PaddleClas `retrieval_eval`: the own entry stays in the ranking with similarity 0 and is
    /// never relevant; queries are taken in blocks of 64, recall@k and mAP are averaged over the
    /// valid queries of a block and blocks are weighted by rows / #queries. Inner product only.
    case paddleclas

    public init(parsing text: String) throws {
        guard let p = EvaluationProtocol(rawValue: text.lowercased()) else {
            throw RetrievalError.invalidArgument("unknown protocol '\(text)': use standard or paddleclas")
        }
        self = p
    }
}
