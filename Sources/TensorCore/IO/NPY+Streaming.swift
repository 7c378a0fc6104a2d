import Foundation

extension NPY {
    /// The magic, version and header `np.save` writes before the data of an array of `descr`
    /// (e.g. `<f4`, `<i8`, `<U12`) and `shape`, for writers that stream the data after it.
    public static func header(descr: String, shape: [Int]) -> Data { preamble(descr: descr, shape: shape) }

    /// Longest element in Unicode scalars, at least 1: the `N` of the `<UN` dtype numpy picks
    /// (and `encode(strings:)` writes).
    public static func unicodeWidth(_ strings: [String]) -> Int {
        max(1, strings.lazy.map { $0.unicodeScalars.count }.max() ?? 0)
    }
}
