/// Top-k neighbours of each query: row-major `queryCount × k`, best first.
/// Missing neighbours (k > gallery count) have id -1 and score -inf (IP) / +inf (L2).
public struct SearchResults: Equatable, Sendable {
    public let k: Int
    public var ids: [Int64]
    /// Inner products (IP) or squared Euclidean distances (L2).
    public var scores: [Float]
    public var queryCount: Int { k == 0 ? 0 : ids.count / k }

    public func ids(ofQuery q: Int) -> ArraySlice<Int64> { ids[(q * k)..<((q + 1) * k)] }
    public func scores(ofQuery q: Int) -> ArraySlice<Float> { scores[(q * k)..<((q + 1) * k)] }
}
