import Foundation

extension NPY {
    /// The `.npy` bytes of a 1-D numpy unicode array (`<U{width}`): each element is `width`
    /// UTF-32LE code points, zero-padded, where `width` is the longest element's length in
    /// Unicode scalars (at least 1, as numpy gives `np.array([], dtype=str)`). This is how
    /// numpy stores `np.array(["a.jpg", ...])`, and what Milvus's NumPy import reads for
    /// VarChar and JSON fields.
    public static func encode(strings: [String]) -> Data {
        let width = unicodeWidth(strings)
        var out = preamble(descr: "<U\(width)", shape: [strings.count])
        out.reserveCapacity(out.count + strings.count * width * 4)
        var row = [UInt32](repeating: 0, count: width)
        for s in strings {
            var i = 0
            for scalar in s.unicodeScalars {
                row[i] = scalar.value.littleEndian
                i += 1
            }
            for j in i..<width { row[j] = 0 }
            row.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The magic, version and header `np.save` writes before the data of an array of `descr`
    /// (e.g. `<f4`, `<i8`, `<U12`) and `shape`, for writers that stream the data after it.
    public static func header(descr: String, shape: [Int]) -> Data { preamble(descr: descr, shape: shape) }

    /// Longest element in Unicode scalars, at least 1: the `N` of the `<UN` dtype numpy picks.
    public static func unicodeWidth(_ strings: [String]) -> Int {
        max(1, strings.lazy.map { $0.unicodeScalars.count }.max() ?? 0)
    }

    public static func write(strings: [String], to url: URL) throws {
        try writeFileAtomically(encode(strings: strings), to: url)
    }
}
