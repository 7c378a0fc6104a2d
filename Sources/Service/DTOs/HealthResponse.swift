import Hummingbird

/// `GET /healthz`.
struct HealthResponse: ResponseCodable {
    var status: String
    var galleryItems: Int
    var model: String

    enum CodingKeys: String, CodingKey { case status, galleryItems = "gallery_items", model }
}
