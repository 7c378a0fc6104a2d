import Testing
@testable import TensorCore

@Suite struct DropoutTests {
    @Test func upscaleInTrainKeepsExpectation() {
        var rng = RNG(seed: 1)
        let x = Tensor.ones([100_000])
        let y = dropout(x, p: 0.3, training: true, rng: &rng)
        let zeros = y.data.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 100_000 - 0.3) < 0.01)
        #expect(Set(y.data.filter { $0 != 0 }) == [Float(1) / 0.7])
        #expect(dropout(x, p: 0.3, training: false, rng: &rng).data == x.data)
    }

    @Test func downscaleInInferScalesAtInference() {
        var rng = RNG(seed: 2)
        let x = Tensor.ones([1000])
        #expect(Set(dropout(x, p: 0.2, training: true, mode: .downscaleInInfer, rng: &rng).data) == [0, 1])
        #expect(dropout(x, p: 0.2, training: false, mode: .downscaleInInfer, rng: &rng).data.allSatisfy { abs($0 - 0.8) < 1e-7 })
    }

    @Test func gradientUsesTheSameMask() {
        var rng = RNG(seed: 3)
        let x = Tensor.ones([64], requiresGrad: true)
        let y = dropout(x, p: 0.5, training: true, rng: &rng)
        y.sum().backward()
        #expect(x.grad! == y.data)
    }
}
