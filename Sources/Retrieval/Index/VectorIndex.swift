/// A searchable set of vectors with ids: what a gallery searches. `FlatIndex` is exact;
/// `HNSWIndex` is approximate. LMDB stays the source of truth: an index is built from a gallery
/// snapshot and can always be rebuilt from it.
///
/// Rows are the index's storage order; a removed item may keep its row (HNSW keeps it as a
/// waypoint of the graph), so `contains` says whether a row's id can still be returned.
public protocol VectorIndex: AnyObject, Sendable {
    var dimension: Int { get }
    var metric: DistanceMetric { get }
    /// Items that can be returned.
    var count: Int { get }
    /// What kind of index this is, with its parameters.
    var spec: IndexSpec { get }
    /// The id of every row, in row order.
    var rowIDs: [Int64] { get }
    /// The row of `id`, nil when absent or removed.
    func row(of id: Int64) -> Int?
    /// The vector of `id`, nil when absent or removed.
    func vector(of id: Int64) -> ArraySlice<Float>?
    /// Adds items (ids new and non-negative, vectors finite, `dimension` floats each).
    func add(ids: [Int64], vectors: [Float]) throws
    /// Removes `id` so that no later search returns it; false when it was not there.
    @discardableResult func remove(_ id: Int64) -> Bool
    /// The k best items for each row-major query, best first (ids −1 past the items found).
    /// `allowed`, one flag per row, restricts the results inside the search, so a query still
    /// gets k results when k allowed items exist (approximate indexes: as far as they find them).
    func search(_ queries: [Float], k: Int, allowed: [Bool]?) throws -> SearchResults
    /// A new index holding these items without `gone` and with the new ones; this one unchanged
    /// (searches running on it are undisturbed).
    func merged(without gone: Set<Int64>, addingIDs: [Int64], vectors: [Float]) throws -> any VectorIndex
    /// Bytes held: vectors, ids and the index's own structures.
    var memoryBytes: Int { get }
}

extension VectorIndex {
    public func contains(_ id: Int64) -> Bool { row(of: id) != nil }
}
