import Testing
@testable import TensorCore

@Suite struct BatchNormTests {
    @Test func matchesPyTorchFixtures() throws {
        let cases = try KernelFixture.cases(in: "batchnorm")
        #expect(cases.count >= 6)
        for c in cases {
            let x = try c.tensor("x"), weight = try c.tensor("weight"), bias = try c.tensor("bias")
            let runningMean = try c.tensor("running_mean_in"), runningVar = try c.tensor("running_var_in")
            try c.expectMatches(inputs: ["x": x, "weight": weight, "bias": bias],
                                gradients: [("x", "gx"), ("weight", "gweight"), ("bias", "gbias")]) {
                batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                          training: c.bool("training"), momentum: c.float("momentum"), eps: c.float("eps"))
            }
            #expect(maxAbsDiff(runningMean.data, try c.tensor("running_mean_out").data) < 1e-5, "\(c.name) running mean")
            #expect(maxAbsDiff(runningVar.data, try c.tensor("running_var_out").data) < 1e-5, "\(c.name) running var")
        }
    }

    @Test(arguments: [[4, 3, 2, 2], [5, 3], [2, 3, 4]])
    func trainingGradients(shape: [Int]) {
        let x = GradCheck.random(shape, seed: 1, low: -2, high: 2)
        let w = GradCheck.random([3], seed: 2, low: 0.5, high: 1.5), b = GradCheck.random([3], seed: 3)
        GradCheck.check([x, w, b], eps: 5e-3) { t in
            batchNorm(t[0], weight: t[1], bias: t[2], runningMean: nil, runningVar: nil, training: true)
        }
    }

    @Test func evalGradientsAndNoAffine() {
        let x = GradCheck.random([2, 3, 2, 2], seed: 4)
        let w = GradCheck.random([3], seed: 5), b = GradCheck.random([3], seed: 6)
        let rm = Tensor([0.1, -0.2, 0.3]), rv = Tensor([0.5, 1.5, 2.0])
        GradCheck.check([x, w, b]) { t in
            batchNorm(t[0], weight: t[1], bias: t[2], runningMean: rm, runningVar: rv, training: false)
        }
        GradCheck.check([x], eps: 5e-3) { t in
            batchNorm(t[0], weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        }
    }

    @Test func trainingOutputIsStandardised() {
        var rng = RNG(seed: 7)
        let x = Tensor.randn([8, 2, 3, 3], mean: 5, std: 3, rng: &rng)
        let y = batchNorm(x, weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        let mean = y.mean(axes: [0, 2, 3]), variance = (y * y).mean(axes: [0, 2, 3])
        for ch in 0..<2 {
            #expect(abs(mean.data[ch]) < 1e-5)
            #expect(abs(variance.data[ch] - 1) < 1e-3)
        }
    }
}
