import Hummingbird

/// `GET /v1/gallery/stats`: the gallery's manifest and size, its search index, and the served model.
public struct StatsResponse: ResponseCodable, Sendable {
    public var path: String
    public var items: Int
    public var embeddingSize: Int
    public var distType: String
    public var model: String
    public var fingerprint: String
    public var bytes: Int
    public var servedModel: String
    public var servedFingerprint: String
    /// "FLAT (exact)" or "HNSW16 (efConstruction 200, efSearch 64)".
    public var index: String
    /// Memory of the index and of the writes searched beside it.
    public var indexBytes: Int
    /// Items added and removed since the index base was built (folded in by compaction).
    public var pendingAdds: Int
    public var pendingRemovals: Int

    enum CodingKeys: String, CodingKey {
        case path, items, embeddingSize = "embedding_size", distType = "dist_type", model, fingerprint, bytes
        case servedModel = "served_model", servedFingerprint = "served_fingerprint"
        case index, indexBytes = "index_bytes", pendingAdds = "pending_adds", pendingRemovals = "pending_removals"
    }
}
