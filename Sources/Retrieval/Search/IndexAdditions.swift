/// The checks every in-memory index runs before it takes new items, so a bad batch leaves it
/// unchanged: `dimension` floats per id, ids non-negative, new (`isStored` false) and not
/// repeated, vectors finite. `index` names the index in errors ("FlatIndex.add").
func validateAdditions(ids: [Int64], vectors: [Float], dimension: Int, index: String,
                       isStored: (Int64) -> Bool) throws {
    guard vectors.count == ids.count * dimension else {
        throw RetrievalError.dimensionMismatch(expected: dimension, got: ids.isEmpty ? vectors.count : vectors.count / ids.count,
                                               context: index)
    }
    var seen = Set<Int64>(minimumCapacity: ids.count)
    for id in ids {
        guard id >= 0 else { throw RetrievalError.invalidID(id: id) }
        guard !isStored(id), seen.insert(id).inserted else { throw RetrievalError.duplicateID(id: id) }
    }
    guard vectors.allSatisfy(\.isFinite) else { throw RetrievalError.invalidArgument("\(index): vectors contain NaN or infinity") }
}

/// The checks an approximate index runs before a search (query shape, k, one filter flag per row)
/// and its empty answer: ids −1 and the worst score (−∞ for inner product, +∞ for L2).
func preparedSearch(_ queries: [Float], k: Int, allowed: [Bool]?, dimension: Int, rows: Int,
                    metric: DistanceMetric) throws -> (queries: Int, ids: [Int64], scores: [Float]) {
    guard k >= 0, queries.count % dimension == 0 else {
        throw RetrievalError.invalidArgument("queries must be a multiple of the dimension \(dimension) and k non-negative")
    }
    if let allowed, allowed.count != rows {
        throw RetrievalError.invalidArgument("the filter has \(allowed.count) flags for \(rows) rows")
    }
    let nq = queries.count / dimension
    return (nq, [Int64](repeating: -1, count: nq * k), [Float](repeating: metric == .innerProduct ? -.infinity : .infinity, count: nq * k))
}

/// Indexes whose removed items keep their rows (tombstones): the id → row table and the removed
/// rows give `remove` and the live-row lookup.
protocol TombstonedRows: AnyObject {
    var position: [Int64: Int] { get }
    var removedRows: Set<Int> { get set }
}

extension TombstonedRows {
    /// Marks `id` removed: it is never returned again. False when it was not there.
    @discardableResult
    public func remove(_ id: Int64) -> Bool {
        guard let row = position[id], !removedRows.contains(row) else { return false }
        removedRows.insert(row)
        return true
    }

    /// The live row of `id`, nil when absent or removed.
    public func row(of id: Int64) -> Int? {
        guard let row = position[id], !removedRows.contains(row) else { return nil }
        return row
    }
}
