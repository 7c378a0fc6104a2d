import Foundation
import Testing
@testable import TensorCore

@Suite struct SoftmaxTests {
    @Test func matchesPyTorchFixtures() throws {
        let cases = try KernelFixture.cases(in: "xent")
        #expect(cases.count >= 6)
        for c in cases {
            switch c.string("op") {
            case "softmax", "log_softmax":
                let x = try c.tensor("x")
                try c.expectMatches(inputs: ["x": x], gradients: [("x", "gx")]) {
                    c.string("op") == "softmax" ? x.softmax() : x.logSoftmax()
                }
            default:
                let logits = try c.tensor("logits")
                if c.string("targets") == "probs" {
                    let targets = try c.tensor("targets")
                    try c.expectMatches(inputs: ["logits": logits, "targets": targets],
                                        gradients: [("logits", "glogits"), ("targets", "gtargets")]) {
                        // PyTorch smooths probability targets too: t' = (1−ε)·t + ε/C.
                        let eps = c.float("label_smoothing")
                        return crossEntropy(logits, targets: eps > 0 ? targets * (1 - eps) + eps / Float(targets.shape[1]) : targets)
                    }
                } else {
                    let labels = c.labels()
                    try c.expectMatches(inputs: ["logits": logits], gradients: [("logits", "glogits")]) {
                        crossEntropy(logits, labels: labels, labelSmoothing: c.float("label_smoothing"))
                    }
                }
            }
        }
    }

    @Test func gradients() {
        let x = GradCheck.random([3, 5], seed: 1, low: -2, high: 2)
        GradCheck.check([x]) { $0[0].softmax() }
        GradCheck.check([x]) { $0[0].logSoftmax() }
        GradCheck.check([x]) { crossEntropy($0[0], labels: [4, 0, 2]) }
        GradCheck.check([x]) { crossEntropy($0[0], labels: [1, 1, 3], labelSmoothing: 0.1) }
        let t = GradCheck.random([3, 5], seed: 2, low: 0, high: 1)
        GradCheck.check([x, t]) { crossEntropy($0[0], targets: $0[1]) }
        GradCheck.check([GradCheck.random([2, 3, 4], seed: 3)]) { $0[0].softmax() }
    }

    @Test func crossEntropyByHand() {
        // logits [0, ln 3] → p = [1/4, 3/4]; label 1 → −ln(3/4).
        let logits = Tensor([0, Float(log(3.0))], shape: [1, 2])
        let loss = crossEntropy(logits, labels: [1])
        #expect(abs(loss.item - Float(-log(0.75))) < 1e-6)
        // Smoothing 0.2 over 2 classes: target [0.1, 0.9].
        let smooth = crossEntropy(logits, labels: [1], labelSmoothing: 0.2)
        #expect(abs(smooth.item - Float(-(0.1 * log(0.25) + 0.9 * log(0.75)))) < 1e-6)
    }

    @Test func l2NormalizeValuesAndGradients() {
        let x = Tensor([3, 4, 0, 0], shape: [2, 2])
        #expect(x.l2Normalized().data == [0.6, 0.8, 0, 0])
        GradCheck.check([GradCheck.random([3, 4], seed: 4)]) { $0[0].l2Normalized() }
    }
}

