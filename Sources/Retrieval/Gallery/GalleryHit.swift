/// One search result: rank (from 1), gallery id, score (inner product or negated L2 distance;
/// the negated re-ranked distance when re-ranked) and the item's record.
public struct GalleryHit: Equatable, Sendable {
    public var rank: Int
    public var id: Int64
    public var score: Float
    public var record: GalleryRecord

    public init(rank: Int, id: Int64, score: Float, record: GalleryRecord) {
        self.rank = rank
        self.id = id
        self.score = score
        self.record = record
    }
}
