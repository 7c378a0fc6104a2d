import Foundation
import Testing
@testable import NN
@testable import TensorCore

/// Multi-similarity and batch-hard triplet losses against loop implementations in float64 PyTorch
/// (Scripts/fixtures/make_metric_loss_fixtures.py), in the batch and the memory setting.
@Suite struct MetricLossTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/metric_losses.safetensors")
        return try! SafeTensors.read(url)
    }()

    static func labels(_ name: String) -> [Int] { file.integers[name]!.values.map { Int($0) } }

    static func check(_ loss: any MetricLoss, case name: String, memory: Bool) throws {
        let anchors = try file.tensor("anchors").detached()
        anchors.requiresGrad = true
        let ya = labels("labels")
        let value: Tensor
        if memory {
            value = loss(anchors, labels: ya, references: try file.tensor("memory"), referenceLabels: labels("memory_labels"))
        } else {
            value = loss(anchors, labels: ya, references: anchors, referenceLabels: ya)
        }
        value.backward()
        let expectedLoss = try file.tensor("\(name)/loss").data[0]
        #expect(abs(value.item - expectedLoss) < 1e-5 * max(1, abs(expectedLoss)), "\(name) loss")
        let expectedGrad = try file.tensor("\(name)/grad").data
        let diff = zip(anchors.grad!, expectedGrad).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-4, "\(name) gradient differs by \(diff)")
    }

    @Test(arguments: [false, true])
    func multiSimilarityMatchesReference(memory: Bool) throws {
        try Self.check(MultiSimilarityLoss(), case: memory ? "ms_memory" : "ms_batch", memory: memory)
    }

    @Test(arguments: [false, true])
    func tripletMatchesReference(memory: Bool) throws {
        try Self.check(TripletLoss(), case: memory ? "triplet_memory" : "triplet_batch", memory: memory)
    }

    /// Hand-computed triplet: anchors at 0° and 90° (labels 1, 2), references at 0°, 60° (label 1)
    /// and 30° (label 2). Anchor 0: hardest positive 60° (0.5; 0° is its own copy), hardest negative
    /// 30° (0.866) → 0.866 − 0.5 + 0.1. Anchor 1 has no positive and is left out of the mean.
    @Test func tripletHandExample() {
        func unit(_ d: [Double]) -> Tensor {
            Tensor(shape: [d.count, 2], data: d.flatMap { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] })
        }
        let value = TripletLoss(margin: 0.1)(unit([0, 90]), labels: [1, 2], references: unit([0, 60, 30]), referenceLabels: [1, 1, 2])
        #expect(abs(value.item - Float(3.0.squareRoot() / 2 - 0.5 + 0.1)) < 1e-6)
    }

    /// With every anchor lacking a negative, multi-similarity is exactly 0 (and has no NaN).
    @Test func multiSimilarityWithoutNegativesIsZero() {
        let a = Tensor(shape: [2, 2], data: [1, 0, 0.6, 0.8])
        #expect(MultiSimilarityLoss()(a, labels: [3, 3], references: a, referenceLabels: [3, 3]).item == 0)
    }
}
