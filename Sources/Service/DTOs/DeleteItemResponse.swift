import Hummingbird

/// `DELETE /v1/gallery/items/{id}`.
public struct DeleteItemResponse: ResponseCodable, Sendable {
    public var deleted: Int64
    public var galleryItems: Int

    enum CodingKeys: String, CodingKey { case deleted, galleryItems = "gallery_items" }
}
