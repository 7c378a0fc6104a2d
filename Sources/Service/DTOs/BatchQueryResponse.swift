import Hummingbird

/// `POST /v1/query/batch`: the neighbours of each image, in request order.
public struct BatchQueryResponse: ResponseCodable, Sendable {
    public struct Result: Codable, Sendable {
        public var index: Int
        public var source: String
        public var neighbours: [Neighbour]
    }

    public var k: Int
    public var rerank: Bool
    public var galleryItems: Int
    public var results: [Result]

    enum CodingKeys: String, CodingKey {
        case k, rerank, galleryItems = "gallery_items", results
    }
}
