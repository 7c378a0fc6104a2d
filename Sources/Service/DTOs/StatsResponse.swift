import Hummingbird

/// `GET /v1/gallery/stats`: the gallery's manifest and size, and the served model.
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

    enum CodingKeys: String, CodingKey {
        case path, items, embeddingSize = "embedding_size", distType = "dist_type", model, fingerprint, bytes
        case servedModel = "served_model", servedFingerprint = "served_fingerprint"
    }
}
