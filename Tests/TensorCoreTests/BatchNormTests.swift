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

/// Synchronised BatchNorm, with a reduction that stands for two ranks holding the same batch
/// (every sum doubled): each rank must normalise and back-propagate exactly as one process
/// running both copies as one batch of twice the size.
@Suite struct BatchNormSyncTests {
    @Test(arguments: [FusedActivation.identity, .relu])
    func twoIdenticalRanksEqualOneDoubleBatch(activation: FusedActivation) {
        let x = GradCheck.random([3, 4, 3, 2], seed: 11, low: -2, high: 2)
        let w = GradCheck.random([4], seed: 12, low: 0.5, high: 1.5), b = GradCheck.random([4], seed: 13)
        let upstream = GradCheck.random([3, 4, 3, 2], seed: 14)

        // One process: both copies in one batch, the same upstream gradient on each.
        let first = Tensor(shape: x.shape, data: x.data, requiresGrad: true)
        let second = Tensor(shape: x.shape, data: x.data, requiresGrad: true)
        let wholeMean = Tensor.zeros([4]), wholeVar = Tensor.ones([4])
        let whole = batchNorm(concat([first, second], axis: 0), weight: w, bias: b, runningMean: wholeMean, runningVar: wholeVar,
                              training: true, activation: activation)
        (whole * concat([upstream, upstream], axis: 0)).sum().backward()

        // One rank of two: its own copy, statistics summed "over ranks".
        let mine = Tensor(shape: x.shape, data: x.data, requiresGrad: true)
        let rankMean = Tensor.zeros([4]), rankVar = Tensor.ones([4])
        let synced = BatchNormSync.$reduce.withValue({ values in for i in values.indices { values[i] *= 2 } }) {
            let y = batchNorm(mine, weight: w, bias: b, runningMean: rankMean, runningVar: rankVar, training: true, activation: activation)
            (y * upstream).sum().backward()
            return y
        }
        #expect(maxAbsDiff(synced.data, Array(whole.data.prefix(x.count))) < 1e-5)
        #expect(maxAbsDiff(mine.grad ?? [], first.grad ?? []) < 1e-5)
        #expect(maxAbsDiff(rankMean.data, wholeMean.data) < 1e-6)
        #expect(maxAbsDiff(rankVar.data, wholeVar.data) < 1e-6)
        // Unsynchronised, the rank normalises by its own copy alone: the running variance
        // (unbiased by M/(M-1) instead of 2M/(2M-1)) tells the two apart.
        let alone = Tensor.ones([4])
        _ = batchNorm(x, weight: w, bias: b, runningMean: Tensor.zeros([4]), runningVar: alone, training: true, activation: activation)
        #expect(maxAbsDiff(alone.data, wholeVar.data) > 1e-4)
    }
}
