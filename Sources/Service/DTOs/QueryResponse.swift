import Hummingbird

/// `POST /v1/query`: the neighbours of one image.
public struct QueryResponse: ResponseCodable, Sendable {
    public var k: Int
    public var rerank: Bool
    /// Items in the gallery snapshot that was searched.
    public var galleryItems: Int
    public var neighbours: [Neighbour]

    enum CodingKeys: String, CodingKey {
        case k, rerank, galleryItems = "gallery_items", neighbours
    }
}
