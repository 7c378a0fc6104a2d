import Foundation
import Hummingbird
import Retrieval

/// A gallery item as the API shows it; the vector only when asked for (`?vector=true`).
public struct GalleryItemResponse: ResponseCodable, Sendable {
    public var id: Int64
    public var label: Int64?
    public var path: String?
    public var metadata: JSONValue?
    public var vector: [Float]?

    init(id: Int64, record: GalleryRecord, vector: [Float]? = nil) {
        self.id = id
        label = record.label
        path = record.path
        metadata = record.metadata.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        self.vector = vector
    }
}
