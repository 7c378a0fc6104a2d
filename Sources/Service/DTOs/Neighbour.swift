import Foundation
import Hummingbird
import Retrieval

/// One search result: rank (from 1), gallery id, score (inner product, or −re-ranked distance)
/// and the item's record.
public struct Neighbour: Codable, Equatable, Sendable {
    public var rank: Int
    public var id: Int64
    public var score: Float
    public var label: Int64?
    public var path: String?
    public var metadata: JSONValue?

    init(_ hit: GalleryHit) {
        rank = hit.rank
        id = hit.id
        score = hit.score
        label = hit.record.label
        path = hit.record.path
        metadata = hit.record.metadata.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}
