import Foundation
import Testing
@testable import Engine
@testable import NN
@testable import TensorCore

/// The numpy reference fixture written by Scripts/fixtures/make_classification_fixtures.py.
struct ClassificationFixture {
    let file: NPZFile
    init() throws { file = try NPZ.read(Bundle.module.resourceURL!.appendingPathComponent("Fixtures/classification.npz")) }
    func floats(_ key: String) -> [Float] { file.arrays[key]!.tensor.data }
    /// float64 arrays arrive as Float32 tensors (about 7 significant digits).
    func doubles(_ key: String) -> [Double] { file.arrays[key]!.tensor.data.map(Double.init) }
    func ints(_ key: String) -> [Int] { file.arrays[key]!.integers!.values.map(Int.init) }
}

@Suite struct TprAtFprTests {
    @Test func specWorkedExample() {
        // PaddleClas's TprAtFpr: the smallest grid threshold with ≤ 2 of 2000 negatives above it is 0.5.
        var metric = TprAtFpr()
        metric.update(scores: [0.99, 0.95, 0.7, 0.4, 0.2], labels: [1, 1, 1, 1, 1])
        metric.update(scores: Array(repeating: 0.1, count: 1997) + [0.97, 0.8, 0.5], labels: Array(repeating: 0, count: 2000))
        let r = metric.result
        #expect(r.threshold == 0.5)
        #expect(r.tpr == 0.6)
        #expect(r.fpr == 0.001)
        #expect(r.info == "threshold: 0.5, fpr: 0.001, tpr: 0.60000")
    }

    @Test func matchesNumpyOnLogits() throws {
        let fx = try ClassificationFixture()
        var metric = TprAtFpr()
        let logits = fx.floats("tpr_logits"), labels = fx.ints("tpr_labels")
        // In two batches, as an evaluation loop feeds it.
        let half = labels.count / 2
        try metric.update(logits: Array(logits[..<(2 * half)]), classes: 2, labels: Array(labels[..<half]))
        try metric.update(logits: Array(logits[(2 * half)...]), classes: 2, labels: Array(labels[half...]))
        let expected = fx.doubles("tpr_result")
        let r = metric.result
        #expect(r.positives == 500 && r.negatives == 2500)
        #expect(abs(r.tpr - expected[0]) < 1e-6)
        #expect(abs(r.fpr - expected[1]) < 1e-6)
        #expect(abs(r.threshold! - expected[2]) < 1e-6)
    }

    @Test func strictComparisonOnGridScores() throws {
        // Scores equal to a grid threshold are not above it: numpy gives t = 0.7, TPR 3/8.
        let fx = try ClassificationFixture()
        var metric = TprAtFpr()
        metric.update(scores: fx.floats("grid_scores"), labels: fx.ints("grid_labels"))
        let expected = fx.doubles("grid_result")
        #expect(abs(metric.result.tpr - expected[0]) < 1e-6)
        #expect(abs(metric.result.fpr - expected[1]) < 1e-6)
        #expect(abs(metric.result.threshold! - expected[2]) < 1e-6)
        #expect(metric.result.threshold == 0.7)
    }

    @Test func degenerateSets() throws {
        var none = TprAtFpr()
        none.update(scores: [0.9, 0.2], labels: [0, 0])
        #expect(none.result.tpr == 0 && none.result.threshold == nil)
        // No negatives: the FPR bound cannot be checked; the best TPR is at the lowest threshold.
        var noNegatives = TprAtFpr()
        noNegatives.update(scores: [0.9, 0.3], labels: [1, 1])
        #expect(noNegatives.result.tpr == 1 && noNegatives.result.threshold == 0)
        // A positive scored exactly 0 is never above any threshold.
        var zero = TprAtFpr()
        zero.update(scores: [0, 0.5], labels: [1, 0])
        #expect(zero.result.tpr == 0)
        var bad = TprAtFpr()
        #expect(throws: EngineError.self) { try bad.update(logits: [1, 2, 3], classes: 3, labels: [0, 1]) }
        #expect(throws: EngineError.self) { try bad.update(logits: [1, 2], classes: 1, labels: [0, 1]) }
    }

    @Test func topKMatchesNumpy() throws {
        let fx = try ClassificationFixture()
        var acc = TopKAccuracy(ks: [1, 2, 5])
        try acc.update(logits: fx.floats("topk_logits"), classes: 10, labels: fx.ints("topk_labels"))
        for (a, e) in zip(acc.accuracies, fx.doubles("topk_result")) { #expect(abs(a - e) < 1e-6) }
    }

    @Test func dmlLossMatchesNumpyAndItsGradient() throws {
        let fx = try ClassificationFixture()
        let s = Tensor(shape: [6, 3], data: fx.floats("dml_student"), requiresGrad: true)
        let t = Tensor(shape: [6, 3], data: fx.floats("dml_teacher"))
        let loss = DMLLoss()(s, t)
        #expect(abs(Double(loss.item) - fx.doubles("dml_loss")[0]) < 1e-5)
        loss.backward()
        let grad = try #require(s.grad)
        // Central differences in Float64 of the same formula.
        func value(_ x: [Double]) -> Double {
            var total = 0.0
            for r in 0..<6 {
                func softmax(_ v: [Double]) -> [Double] { let m = v.max()!; let e = v.map { Foundation.exp($0 - m) }; let z = e.reduce(0, +); return e.map { $0 / z } }
                let ps = softmax(Array(x[(r * 3)..<(r * 3 + 3)])), pt = softmax(fx.floats("dml_teacher")[(r * 3)..<(r * 3 + 3)].map(Double.init))
                for c in 0..<3 { total += (pt[c] * Foundation.log(pt[c] / ps[c]) + ps[c] * Foundation.log(ps[c] / pt[c])) * 3 / 2 }
            }
            return total / 18
        }
        let x = fx.floats("dml_student").map(Double.init)
        for i in 0..<x.count {
            var a = x, b = x
            a[i] += 1e-5; b[i] -= 1e-5
            #expect(abs((value(a) - value(b)) / 2e-5 - Double(grad[i])) < 1e-3)
        }
        // Same distributions: zero loss.
        #expect(abs(DMLLoss()(t, t).item) < 1e-6)
    }
}
