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
