import Foundation
import TensorCore
import Testing
@testable import Retrieval

/// HNSW against exact search on clustered data (real embeddings cluster; uniform noise is the
/// easy case for neither).
@Suite struct HNSWIndexTests {
    /// `n` unit vectors around `clusters` random centres.
    static func mixture(_ n: Int, _ d: Int, clusters: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in rng.normal() }
        var out: [Float] = []
        out.reserveCapacity(n * d)
        for _ in 0..<n {
            let c = Int(rng.next() % UInt64(clusters))
            var v = (0..<d).map { centres[c * d + $0] + 0.35 * rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for j in 0..<d { v[j] /= norm }
            out += v
        }
        return out
    }

    static func recall(_ approx: SearchResults, _ exact: SearchResults, k: Int) -> Double {
        var hits = 0
        for q in 0..<exact.queryCount { hits += Set(approx.ids(ofQuery: q)).intersection(exact.ids(ofQuery: q)).count }
        return Double(hits) / Double(exact.queryCount * k)
    }

    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func recallAt10IsHighOnClusteredData(_ metric: DistanceMetric) throws {
        let n = 4000, d = 32, k = 10
        // Queries from the same clusters as the items (held out), as real queries are.
        let all = Self.mixture(n + 200, d, clusters: 40, seed: 1)
        let base = Array(all[0..<(n * d)]), queries = Array(all[(n * d)...])
        let ids = (0..<n).map { Int64($0 * 3) }
        let hnsw = HNSWIndex(dimension: d, metric: metric, parameters: .init(m: 16, efConstruction: 100, efSearch: 64))
        try hnsw.add(ids: ids, vectors: base)
        let exact = FlatIndex(dimension: d, metric: metric)
        try exact.add(ids: ids, vectors: base)
        let r = Self.recall(try hnsw.search(queries, k: k), try exact.search(queries, k: k), k: k)
        #expect(r >= 0.95, "recall@10 \(r)")
    }

    @Test func removedItemsAreNeverReturned() throws {
        let n = 2000, d = 16
        let base = Self.mixture(n, d, clusters: 20, seed: 3)
        let hnsw = HNSWIndex(dimension: d)
        try hnsw.add(ids: (0..<n).map(Int64.init), vectors: base)
        for id in stride(from: 0, to: n, by: 3) { #expect(hnsw.remove(Int64(id))) }
        #expect(!hnsw.remove(0) && hnsw.count == n - (n + 2) / 3)
        let found = try hnsw.search(Array(base[0..<(50 * d)]), k: 10)
        #expect(found.ids.allSatisfy { $0 < 0 || $0 % 3 != 0 })
        #expect(found.ids.filter { $0 >= 0 }.count == 500)
        #expect(throws: RetrievalError.duplicateID(id: 5)) { try hnsw.add(ids: [5], vectors: [Float](repeating: 0.1, count: d)) }
    }
}
