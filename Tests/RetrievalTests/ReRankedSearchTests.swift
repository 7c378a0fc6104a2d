import Foundation
@testable import Retrieval
import TestSupport
import Testing

@Suite struct ReRankedSearchTests {
    /// Ranking by the numpy reference's re-ranked distances (ties by position) must be the index's.
    @Test func ranksByTheReferenceDistances() throws {
        let f = try Fixture("rerank")
        let q = f.floats("q"), g = f.floats("g"), expected = f.floats("separate")
        let d = 8, nq = q.count / d, ng = g.count / d
        let index = FlatIndex(dimension: d)
        try index.add(ids: (0..<ng).map { Int64(100 + $0) }, vectors: g)
        let k = 5
        let results = try index.searchReRanked(q, k: k, reranker: KReciprocalReRanker())
        for i in 0..<nq {
            let row = Array(expected[(i * ng)..<((i + 1) * ng)])
            let order = (0..<ng).sorted { row[$0] != row[$1] ? row[$0] < row[$1] : $0 < $1 }.prefix(k)
            #expect(Array(results.ids(ofQuery: i)) == order.map { Int64(100 + $0) }, "query \(i)")
            for (r, j) in order.enumerated() { #expect(abs(results.scores[i * k + r] + row[j]) < 1e-5) }
        }
    }

    /// The spec example (k1 3, k2 2): query 0 at 5° is nearest to gallery 0° then 17°.
    @Test func specExampleTopTwo() throws {
        let q = ReRankingTests.unit([5, 130, 250])
        let g = ReRankingTests.unit([0, 17, 44, 95, 122, 141, 188, 236, 262, 300, 333])
        let index = FlatIndex(dimension: 2)
        try index.add(ids: (0..<11).map(Int64.init), vectors: g)
        let results = try index.searchReRanked(q, k: 2, reranker: KReciprocalReRanker(k1: 3, k2: 2, lambda: 0.3))
        #expect(Array(results.ids(ofQuery: 0)) == [0, 1])  // distances 0.00057, 0.15772
        #expect(Array(results.ids(ofQuery: 1)) == [4, 5])  // 0.00147, 0.01550
        #expect(Array(results.ids(ofQuery: 2)) == [8, 7])  // 0.00344, 0.15657
    }

    @Test func shortlistKeepsToThePlainNeighbours() throws {
        let f = try Fixture("rerank")
        let q = f.floats("q"), g = f.floats("g")
        let index = FlatIndex(dimension: 8)
        try index.add(ids: (0..<(g.count / 8)).map(Int64.init), vectors: g)
        let plain = try index.search(q, k: 6)
        let reranked = try index.searchReRanked(q, k: 3, reranker: KReciprocalReRanker(k1: 3, k2: 2), depth: 6)
        for i in 0..<(q.count / 8) {
            #expect(Set(reranked.ids(ofQuery: i)).isSubset(of: Set(plain.ids(ofQuery: i))), "query \(i)")
        }
        #expect(throws: RetrievalError.self) { try index.searchReRanked(q, k: 3, reranker: KReciprocalReRanker(), depth: 0) }
    }
}
