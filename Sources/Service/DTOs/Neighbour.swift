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

    init(rank: Int, id: Int64, score: Float, record: GalleryRecord?) {
        self.rank = rank
        self.id = id
        self.score = score
        label = record?.label
        path = record?.path
        metadata = record?.metadata.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}
