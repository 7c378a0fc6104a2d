import Testing
@testable import NN
@testable import TensorCore

/// Sequential's Conv2d → BatchNorm2d → activation fusion against the same layers run one by one.
@Suite struct FusedLayersTests {
    func layers(_ act: Activation) -> (Sequential, [Layer]) {
        Initializers.seed(3)
        let conv = Conv2d(3, 5, kernel: 3, padding: 1, bias: false), bn = BatchNorm2d(5)
        let bn2 = BatchNorm2d(5), act2 = ActivationLayer(act, slope: 0.1)
        bn.runningMean.data = [0.1, -0.1, 0.2, 0, 0.3]
        bn.runningVar.data = [1, 2, 0.5, 1.5, 0.8]
        let seq = Sequential(conv, bn, ActivationLayer(act, slope: 0.1), bn2, act2)
        return (seq, [conv, bn, ActivationLayer(act, slope: 0.1), bn2, act2])
    }

    @Test(arguments: [Activation.relu, .leakyRelu, .sigmoid])
    func sequentialFusionMatchesLayerByLayer(act: Activation) {
        var rng = RNG(seed: 4)
        let x = Tensor.randn([2, 3, 6, 6], rng: &rng)
        for training in [true, false] {
            let (fusedSeq, _) = layers(act)
            let (plainSeq, plain) = layers(act)
            fusedSeq.train(training); plainSeq.train(training)
            let y1 = fusedSeq(x)
            let y2 = plain.reduce(x) { $1($0) }
            #expect(maxAbsDiff(y1.data, y2.data) < 1e-5, "\(act) training \(training): forward")
            y1.sum().backward(); y2.sum().backward()
            for ((name, p1), (_, p2)) in zip(fusedSeq.namedParameters(), plainSeq.namedParameters()) {
                #expect(maxAbsDiff(p1.grad ?? [], p2.grad ?? []) < 1e-4, "\(act) training \(training): \(name) gradient")
            }
            for ((name, b1), (_, b2)) in zip(fusedSeq.namedBuffers(), plainSeq.namedBuffers()) {
                #expect(maxAbsDiff(b1.data, b2.data) < 1e-6, "\(act) training \(training): \(name)")
            }
            // Eval without the tape folds BN into the convolution.
            if !training {
                let y3 = withNoGrad { fusedSeq(x) }
                #expect(maxAbsDiff(y3.data, y2.data) < 1e-5, "\(act): folded eval forward")
            }
        }
    }
}

private func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
