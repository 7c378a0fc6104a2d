import Testing
import TensorCore
@testable import Retrieval

@Suite struct FlatIndexTests {
    /// Brute force: every score, sorted by (score desc, id asc), in plain loops.
    static func reference(_ q: [Float], _ g: [Float], ids: [Int64], d: Int, k: Int, metric: DistanceMetric,
                          exclude: Int64? = nil) -> [(Int64, Float)] {
        var all: [(Int64, Float)] = []
        for i in 0..<ids.count where ids[i] != exclude {
            var s: Float = 0
            for t in 0..<d {
                s += metric == .innerProduct ? q[t] * g[i * d + t] : (q[t] - g[i * d + t]) * (q[t] - g[i * d + t])
            }
            all.append((ids[i], s))
        }
        all.sort { metric == .innerProduct
            ? ($0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0))
            : ($0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0)) }
        return Array(all.prefix(k))
    }

    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func matchesBruteForceAcrossBlocksAndChunks(_ metric: DistanceMetric) throws {
        var rng = RNG(seed: 3)
        let d = 12, n = 5000, nq = 300, k = 17
        let g = (0..<(n * d)).map { _ in rng.normal() }
        let q = (0..<(nq * d)).map { _ in rng.normal() }
        let ids = rng.permutation(n).map { Int64($0 * 3 + 1) }  // ids not in position order
        let index = FlatIndex(dimension: d, metric: metric)
        try index.add(ids: ids, vectors: g)
        let result = try index.search(q, k: k)
        for qi in stride(from: 0, to: nq, by: 7) {
            let want = Self.reference(Array(q[(qi * d)..<((qi + 1) * d)]), g, ids: ids, d: d, k: k, metric: metric)
            #expect(Array(result.ids(ofQuery: qi)) == want.map(\.0))
            for (got, w) in zip(result.scores(ofQuery: qi), want) { #expect(abs(got - w.1) < 1e-3 * max(1, abs(w.1))) }
        }
    }

    @Test func tiesComeBackInIDOrder() throws {
        let index = FlatIndex(dimension: 2)
        // Four identical vectors with ids given out of order, and one worse vector.
        try index.add(ids: [40, 7, 19, 3, 100], vectors: [1, 0, 1, 0, 1, 0, 1, 0, 0, 1])
        let r = try index.search([1, 0], k: 3)
        #expect(r.ids == [3, 7, 19])
        #expect(r.scores == [1, 1, 1])
    }

    @Test func kBeyondCountIsPaddedWithMinusOne() throws {
        let index = FlatIndex(dimension: 2)
        try index.add(ids: [5, 6], vectors: [1, 0, 0, 1])
        let r = try index.search([1, 0, 0, 1], k: 4)
        #expect(r.ids == [5, 6, -1, -1, 6, 5, -1, -1])
        #expect(r.scores[2] == -.infinity)
        let l2 = FlatIndex(dimension: 2, metric: .l2)
        try l2.add(ids: [5], vectors: [1, 0])
        let r2 = try l2.search([0, 0], k: 2)
        #expect(r2.ids == [5, -1])
        #expect(r2.scores == [1, .infinity])
    }

    @Test func excludingOwnIDDropsSelfOnly() throws {
        var rng = RNG(seed: 9)
        let d = 6, n = 700
        let g = (0..<(n * d)).map { _ in rng.normal() }
        let ids = (0..<n).map { Int64($0) }
        let index = FlatIndex(dimension: d)
        try index.add(ids: ids, vectors: g)
        let r = try index.search(g, k: 5, excluding: ids)
        for qi in [0, 1, 333, 699] {
            #expect(!r.ids(ofQuery: qi).contains(Int64(qi)))
            let want = Self.reference(Array(g[(qi * d)..<((qi + 1) * d)]), g, ids: ids, d: d, k: 5, metric: .innerProduct, exclude: Int64(qi))
            #expect(Array(r.ids(ofQuery: qi)) == want.map(\.0))
        }
    }

    @Test func badInputIsRejected() throws {
        let index = FlatIndex(dimension: 3)
        #expect(throws: RetrievalError.self) { try index.add(ids: [1], vectors: [1, 2]) }
        #expect(throws: RetrievalError.self) { try index.add(ids: [1, 1], vectors: [1, 2, 3, 4, 5, 6]) }
        #expect(throws: RetrievalError.self) { try index.add(ids: [-2], vectors: [1, 2, 3]) }
        try index.add(ids: [1], vectors: [1, 2, 3])
        #expect(throws: RetrievalError.self) { try index.search([1, 2], k: 1) }
        #expect(throws: RetrievalError.self) { try index.search([1, .nan, 3], k: 1) }
        #expect(throws: RetrievalError.self) { try index.search([1, 2, 3], k: -1) }
    }
}
