import Foundation
@testable import Retrieval
import TestSupport
import Testing

@Suite struct MetricsTests {
    /// 8 unit vectors at known angles, query = gallery (ranks worked out by hand).
    static let angles: [Float] = [0, 23, 51, 104, 167, 211, 263, 331]
    static let labels: [Int64] = [1, 1, 2, 1, 2, 3, 3, 2]
    static var vectors: [Float] {
        angles.flatMap { a -> [Float] in
            let r = Double(a) * .pi / 180
            return [Float(cos(r)), Float(sin(r))]
        }
    }

    @Test func specExampleStandardProtocol() throws {
        let report = try RetrievalEvaluator(ks: [1, 2]).evaluateSelf(embeddings: Self.vectors, labels: Self.labels, dimension: 2)
        #expect(report.recall(at: 1) == 0.375)
        #expect(report.recall(at: 2) == 0.5)
        #expect(abs(report.mAP - 0.531399) < 1e-6)
        #expect(abs(report.mapAtR - 0.25) < 1e-12)
        #expect(abs(report.rPrecision - 0.25) < 1e-12)
        #expect(report.precisionAt1 == 0.375)
        #expect(report.validQueries == 8)
    }

    @Test func specExamplePaddleClasKeepsSelfAtZero() throws {
        let report = try RetrievalEvaluator(ks: [1, 2], protocol: .paddleclas)
            .evaluateSelf(embeddings: Self.vectors, labels: Self.labels, dimension: 2)
        #expect(report.recall(at: 1) == 0.375)
        #expect(report.recall(at: 2) == 0.5)
        #expect(abs(report.mAP - 0.508482) < 1e-6)
    }

    @Test func perQueryAveragePrecisionMatchesHandComputedRanks() {
        // Relevant items at 0-based ranks 0, 2, 5 of a full ranking: AP = (1/1 + 2/3 + 3/6) / 3;
        // R = 3, so MAP@R counts ranks 0 and 2 only: (1 + 2/3) / 3, R-precision 2/3.
        let s = QueryScores(ranks: [0, 2, 5])
        #expect(abs(s.averagePrecision - (1 + 2.0 / 3 + 0.5) / 3) < 1e-12)
        #expect(abs(s.mapAtR - (1 + 2.0 / 3) / 3) < 1e-12)
        #expect(abs(s.rPrecision - 2.0 / 3) < 1e-12)
        #expect(s.firstRank == 0)
    }

    @Test func tiesAreBrokenBySmallerGalleryIndex() throws {
        // Query 0 = (1, 0); items 1 and 2 tie exactly (score 1). Item 2 is relevant, item 1 not:
        // item 1 comes first, so the relevant item is at rank 2 (1-based) → recall@1 = 0.
        let x: [Float] = [1, 0, 1, 0, 1, 0, 0, 1]
        let labels: [Int64] = [5, 6, 5, 7]
        let report = try RetrievalEvaluator(ks: [1, 2])
            .evaluate(queries: [1, 0], queryLabels: [5], gallery: Array(x[2...]), galleryLabels: Array(labels[1...]), dimension: 2)
        #expect(report.recall(at: 1) == 0)
        #expect(report.recall(at: 2) == 1)
        #expect(report.mAP == 0.5)
    }

    @Test func queriesWithoutRelevantItemsAreLeftOut() throws {
        let report = try RetrievalEvaluator(ks: [1]).evaluateSelf(embeddings: [1, 0, 0.9, 0.1, 0, 1], labels: [1, 1, 2], dimension: 2)
        #expect(report.queries == 3)
        #expect(report.validQueries == 2)
        #expect(report.recall(at: 1) == 1)
    }

    @Test(arguments: ["metrics_ints", "metrics_floats"])
    func matchesNumpyReference(_ name: String) throws {
        let f = try Fixture(name)
        let x = f.floats("x"), labels = f.ints("labels"), d = f.shape("x")[1]
        let ks = f.ints("ks").map(Int.init)
        let standard = f.doubles("standard")  // recall@ks…, mAP, MAP@R, R-precision, P@1, #valid
        let r = try RetrievalEvaluator(ks: ks).evaluateSelf(embeddings: x, labels: labels, dimension: d)
        for (i, k) in ks.enumerated() { #expect(abs(r.recall(at: k)! - standard[i]) < 1e-6, "recall@\(k)") }
        #expect(abs(r.mAP - standard[ks.count]) < 1e-6)
        #expect(abs(r.mapAtR - standard[ks.count + 1]) < 1e-6)
        #expect(abs(r.rPrecision - standard[ks.count + 2]) < 1e-6)
        #expect(abs(r.precisionAt1 - standard[ks.count + 3]) < 1e-6)
        #expect(Double(r.validQueries) == standard[ks.count + 4])

        let paddle = f.doubles("paddleclas")
        let p = try RetrievalEvaluator(ks: ks, protocol: .paddleclas).evaluateSelf(embeddings: x, labels: labels, dimension: d)
        for (i, k) in ks.enumerated() { #expect(abs(p.recall(at: k)! - paddle[i]) < 1e-6, "paddleclas recall@\(k)") }
        #expect(abs(p.mAP - paddle[ks.count]) < 1e-6)
    }

    @Test func separateQuerySetMatchesNumpyReference() throws {
        let f = try Fixture("metrics_ints")
        let ks = f.ints("ks").map(Int.init)
        let expected = f.doubles("separate")
        let r = try RetrievalEvaluator(ks: ks).evaluate(queries: f.floats("q"), queryLabels: f.ints("qlabels"),
                                                        gallery: f.floats("x"), galleryLabels: f.ints("labels"), dimension: 4)
        for (i, k) in ks.enumerated() { #expect(abs(r.recall(at: k)! - expected[i]) < 1e-6) }
        #expect(abs(r.mAP - expected[ks.count]) < 1e-6)
        #expect(abs(r.mapAtR - expected[ks.count + 1]) < 1e-6)
        #expect(Double(r.validQueries) == expected[ks.count + 4])
    }

    @Test func smallBlocksGiveTheSameStandardMetrics() throws {
        let f = try Fixture("metrics_floats")
        var small = RetrievalEvaluator(ks: [1, 5])
        small.computeBlock = 7
        let a = try small.evaluateSelf(embeddings: f.floats("x"), labels: f.ints("labels"), dimension: 16)
        let b = try RetrievalEvaluator(ks: [1, 5]).evaluateSelf(embeddings: f.floats("x"), labels: f.ints("labels"), dimension: 16)
        #expect(a == b)
    }

    @Test func badInputIsRejected() {
        #expect(throws: RetrievalError.self) {
            try RetrievalEvaluator().evaluateSelf(embeddings: [1, 2, 3], labels: [1, 2], dimension: 2)
        }
        #expect(throws: RetrievalError.self) {
            try RetrievalEvaluator().evaluateSelf(embeddings: [1, .nan, 3, 4], labels: [1, 2], dimension: 2)
        }
        #expect(throws: RetrievalError.self) {
            try RetrievalEvaluator(ks: [0]).evaluateSelf(embeddings: [1, 2, 3, 4], labels: [1, 2], dimension: 2)
        }
    }
}
