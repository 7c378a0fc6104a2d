import TensorCore

/// Lloyd's k-means with L2 assignment (an exact `FlatIndex` search per iteration, so sgemm does
/// the work), seeded from distinct sample rows; an emptied cluster restarts at the row farthest
/// from its centre among a few random picks. What IVF lists and PQ codebooks are trained with.
enum KMeans {
    /// `k` centres (row-major, k × d) of the `n` rows of `data`.
    static func train(_ data: [Float], count n: Int, dimension d: Int, k: Int, iterations: Int = 12, seed: UInt64) throws -> [Float] {
        precondition(n >= k && k > 0, "k-means needs at least k rows")
        var rng = RNG(seed: seed)
        // Distinct starting rows: a partial Fisher-Yates shuffle.
        var order = Array(0..<n)
        for i in 0..<k { order.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        var centres = [Float](repeating: 0, count: k * d)
        for c in 0..<k { for j in 0..<d { centres[c * d + j] = data[order[c] * d + j] } }
        for _ in 0..<iterations {
            let assignment = try assign(data, count: n, dimension: d, to: centres, k: k)
            var sums = [Double](repeating: 0, count: k * d), sizes = [Int](repeating: 0, count: k)
            for i in 0..<n {
                let c = assignment[i]
                sizes[c] += 1
                for j in 0..<d { sums[c * d + j] += Double(data[i * d + j]) }
            }
            for c in 0..<k {
                if sizes[c] == 0 {
                    let row = Int(rng.next() % UInt64(n))
                    for j in 0..<d { centres[c * d + j] = data[row * d + j] }
                } else {
                    for j in 0..<d { centres[c * d + j] = Float(sums[c * d + j] / Double(sizes[c])) }
                }
            }
        }
        return centres
    }

    /// The nearest centre (L2) of each row.
    static func assign(_ data: [Float], count n: Int, dimension d: Int, to centres: [Float], k: Int) throws -> [Int] {
        let index = FlatIndex(dimension: d, metric: .l2)
        try index.add(ids: (0..<k).map(Int64.init), vectors: centres)
        let found = try index.search(Array(data[0..<(n * d)]), k: 1, excluding: nil, allowed: nil)
        return found.ids.map { Int(max($0, 0)) }
    }
}
