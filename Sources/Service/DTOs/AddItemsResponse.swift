import Hummingbird

/// `POST /v1/gallery/items`: the items written (committed before this response) and the new size.
public struct AddItemsResponse: ResponseCodable, Sendable {
    public var items: [GalleryItemResponse]
    public var galleryItems: Int

    enum CodingKeys: String, CodingKey { case items, galleryItems = "gallery_items" }
}
