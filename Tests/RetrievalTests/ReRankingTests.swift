import Foundation
@testable import Retrieval
import TestSupport
import Testing

@Suite struct ReRankingTests {
    static func unit(_ degrees: [Double]) -> [Float] {
        degrees.flatMap { a in [Float(cos(a * .pi / 180)), Float(sin(a * .pi / 180))] }
    }

    /// Test vector from the upstream re_ranking_ranklist.py output, k1 3, k2 2, λ 0.3.
    @Test func specExample() throws {
        let q = Self.unit([5, 130, 250])
        let g = Self.unit([0, 17, 44, 95, 122, 141, 188, 236, 262, 300, 333])
        let expected: [[Float]] = [
            [0.00057, 0.15772, 0.49865, 0.85010, 0.91825, 0.95808, 1.00000, 0.94457, 0.88387, 0.56208, 0.18917],
            [0.94830, 0.91021, 0.84060, 0.05141, 0.00147, 0.01550, 0.53772, 0.89281, 0.95229, 1.00000, 0.99028],
            [0.91120, 0.95208, 0.99882, 1.00000, 0.95426, 0.90861, 0.69282, 0.15657, 0.00344, 0.54517, 0.79293],
        ]
        let d = try KReciprocalReRanker(k1: 3, k2: 2, lambda: 0.3).distances(queries: q, gallery: g, dimension: 2)
        for i in 0..<3 { for j in 0..<11 { #expect(abs(d[i * 11 + j] - expected[i][j]) < 1e-5, "q\(i) g\(j)") } }
    }

    @Test func separateSetsMatchNumpyReference() throws {
        let f = try Fixture("rerank")
        let d = try KReciprocalReRanker().distances(queries: f.floats("q"), gallery: f.floats("g"), dimension: 8)
        let expected = f.floats("separate")
        #expect(d.count == expected.count)
        let worst = zip(d, expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    @Test func singleSetMatchesNumpyReference() throws {
        let f = try Fixture("rerank")
        let x = f.floats("single_x")
        let n = x.count / 8
        let state = try KReciprocalReRanker(k1: 6, k2: 3).prepare(items: x, dimension: 8, queryCount: n, galleryOffset: 0)
        let expected = f.floats("single")
        var worst: Float = 0
        for p in 0..<n {
            var row = (0..<n).map { g in (0..<8).reduce(Float(0)) { $0 + x[p * 8 + $1] * x[g * 8 + $1] } }
            row.withUnsafeMutableBufferPointer { state.rescore(query: p, similarities: $0) }
            for g in 0..<n { worst = max(worst, abs(-row[g] - expected[p * n + g])) }
        }
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    @Test func rerankedEvaluationMatchesNumpyReference() throws {
        let f = try Fixture("rerank")
        let x = f.floats("single_x"), labels = f.ints("single_labels")
        let state = try KReciprocalReRanker(k1: 6, k2: 3).prepare(items: x, dimension: 8, queryCount: labels.count, galleryOffset: 0)
        let report = try RetrievalEvaluator(ks: [1]).evaluateSelf(embeddings: x, labels: labels, dimension: 8) { q, row in
            state.rescore(query: q, similarities: row)
        }
        let expected = f.doubles("single_eval")  // precision@1, mAP
        #expect(report.reranked)
        #expect(abs(report.precisionAt1 - expected[0]) < 1e-6)
        #expect(abs(report.mAP - expected[1]) < 1e-5)
    }

    @Test func sparseStateStaysSmall() throws {
        var rng = SystemRandomNumberGenerator()
        let n = 500, d = 8
        let x = (0..<(n * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let state = try KReciprocalReRanker().prepare(items: x, dimension: d, queryCount: n, galleryOffset: 0)
        // Each V row holds at most the expanded reciprocal set merged over k2 neighbours.
        #expect(state.nonZeros < n * 21 * 6)
        #expect(state.nonZeros >= n)
    }

    @Test func invalidParametersAreRejected() {
        #expect(throws: RetrievalError.self) {
            try KReciprocalReRanker(k1: 0).prepare(items: [1, 0], dimension: 2, queryCount: 1, galleryOffset: 0)
        }
        #expect(throws: RetrievalError.self) {
            try KReciprocalReRanker(lambda: 2).prepare(items: [1, 0], dimension: 2, queryCount: 1, galleryOffset: 0)
        }
    }
}
