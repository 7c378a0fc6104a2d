import Foundation

/// One gallery entry: an id, its vector and what the vector describes.
public struct GalleryItem: Equatable, Sendable {
    /// Non-negative id (the LMDB key, stored big-endian so keys sort numerically).
    public var id: Int64
    public var vector: [Float]
    public var record: GalleryRecord

    public init(id: Int64, vector: [Float], record: GalleryRecord = GalleryRecord()) {
        self.id = id
        self.vector = vector
        self.record = record
    }
}

/// The `items` database value: label, image path and free-form metadata (a JSON object as text).
public struct GalleryRecord: Codable, Equatable, Sendable {
    public var label: Int64?
    public var path: String?
    /// A JSON document (normally an object) kept verbatim.
    public var metadata: String?

    public init(label: Int64? = nil, path: String? = nil, metadata: String? = nil) {
        self.label = label
        self.path = path
        self.metadata = metadata
    }

    var isEmpty: Bool { label == nil && path == nil && metadata == nil }
}
