import Testing
@testable import TensorCore

/// Fused kernels against the unfused ops they replace (forward and gradients) and finite differences.
@Suite struct FusedOpsTests {
    static let activations: [FusedActivation] = [.identity, .relu, .leakyRelu(0.1)]

    /// Forward and input/parameter gradients of `fused` and `unfused` on fresh copies of `inputs`.
    func expectSame(_ inputs: [Tensor], tolerance: Float = 1e-5, _ label: String,
                    fused: ([Tensor]) -> Tensor, unfused: ([Tensor]) -> Tensor) {
        func run(_ f: ([Tensor]) -> Tensor) -> (Tensor, [[Float]]) {
            let copies = inputs.map { Tensor(shape: $0.shape, data: $0.data, requiresGrad: true) }
            let y = f(copies)
            var rng = RNG(seed: 5)
            let seed = (0..<y.count).map { _ in rng.uniform(-1, 1) }
            y.backward(seed: seed)
            return (y, copies.map { $0.grad ?? [] })
        }
        let (a, ga) = run(fused), (b, gb) = run(unfused)
        #expect(a.shape == b.shape, "\(label): shapes")
        #expect(maxAbsDiff(a.data, b.data) <= tolerance, "\(label): forward differs by \(maxAbsDiff(a.data, b.data))")
        for (i, (x, y)) in zip(ga, gb).enumerated() {
            #expect(x.count == y.count && maxAbsDiff(x, y) <= tolerance, "\(label): gradient of input \(i) differs")
        }
    }

    @Test(arguments: activations)
    func batchNormActivationMatchesUnfused(activation: FusedActivation) {
        for (shape, training) in [([4, 3, 5, 7], true), ([4, 3, 5, 7], false), ([6, 5], true), ([2, 19, 33], true)] {
            let c = shape[1]
            let x = GradCheck.random(shape, seed: 11, low: -2, high: 2)
            let w = GradCheck.random([c], seed: 12, low: 0.5, high: 1.5), b = GradCheck.random([c], seed: 13)
            let stats = { (Tensor(shape: [c], data: GradCheck.random([c], seed: 14).data),
                           Tensor(shape: [c], data: GradCheck.random([c], seed: 15, low: 0.5, high: 2).data)) }
            let (m1, v1) = stats(), (m2, v2) = stats()
            expectSame([x, w, b], "\(activation) \(shape) training \(training)", fused: { t in
                batchNorm(t[0], weight: t[1], bias: t[2], runningMean: m1, runningVar: v1, training: training,
                          activation: activation)
            }, unfused: { t in
                activation.apply(to: batchNorm(t[0], weight: t[1], bias: t[2], runningMean: m2, runningVar: v2,
                                               training: training))
            })
            #expect(maxAbsDiff(m1.data, m2.data) < 1e-6 && maxAbsDiff(v1.data, v2.data) < 1e-6, "running statistics")
        }
    }

    @Test(arguments: activations)
    func batchNormActivationGradientsMatchFiniteDifferences(activation: FusedActivation) {
        // Away from the kink: inputs whose normalised values stay clear of 0 by more than eps.
        let x = GradCheck.distinct([4, 2, 3, 3], seed: 21, spacing: 0.07)
        let w = GradCheck.random([2], seed: 22, low: 0.5, high: 1.5), b = Tensor([0.03, -0.02])
        GradCheck.check([x, w, b], eps: 1e-3, atol: 3e-3, rtol: 3e-2) { t in
            batchNorm(t[0], weight: t[1], bias: t[2], runningMean: nil, runningVar: nil, training: true, activation: activation)
        }
        let rm = Tensor([0.1, -0.2]), rv = Tensor([0.5, 1.5])
        GradCheck.check([x, w, b], eps: 1e-3, atol: 3e-3, rtol: 3e-2) { t in
            batchNorm(t[0], weight: t[1], bias: t[2], runningMean: rm, runningVar: rv, training: false, activation: activation)
        }
    }

    @Test func statisticsStayAccurateOnLargeMaps() {
        // One-pass float sums drift on 10⁵ values with a large mean; the SIMD two-pass must not.
        var rng = RNG(seed: 31)
        let x = Tensor.randn([2, 2, 300, 300], mean: 1000, std: 0.5, rng: &rng)
        let y = batchNorm(x, weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        let mean = y.mean(axes: [0, 2, 3]), variance = (y * y).mean(axes: [0, 2, 3])
        for ch in 0..<2 {
            #expect(abs(mean.data[ch]) < 1e-3)
            #expect(abs(variance.data[ch] - 1) < 1e-3)
        }
    }

    @Test(arguments: activations)
    func addActivationMatchesUnfused(activation: FusedActivation) {
        let a = GradCheck.random([3, 4, 5, 6], seed: 41), b = GradCheck.random([3, 4, 5, 6], seed: 42)
        expectSame([a, b], "\(activation) same shape", fused: { add($0[0], $0[1], activation: activation) },
                   unfused: { activation.apply(to: $0[0] + $0[1]) })
        let c = GradCheck.random([4, 1, 6], seed: 43)
        expectSame([a, c], "\(activation) broadcast", fused: { add($0[0], $0[1], activation: activation) },
                   unfused: { activation.apply(to: $0[0] + $0[1]) })
        expectSame([a], "\(activation) same tensor twice", fused: { add($0[0], $0[0], activation: activation) },
                   unfused: { activation.apply(to: $0[0] * 2) })
    }

    @Test func addAndSubGradientsMatchFiniteDifferences() {
        let a = GradCheck.awayFromZero([2, 3, 4], seed: 51), b = GradCheck.awayFromZero([3, 1], seed: 52)
        GradCheck.check([a, b]) { t in t[0] + t[1] }
        GradCheck.check([a, b]) { t in t[0] - t[1] }
        GradCheck.check([b, a]) { t in t[0] - t[1] }
        GradCheck.check([a, b]) { t in add(t[0], t[1], activation: .relu) }
        GradCheck.check([a, b]) { t in add(t[0], t[1], activation: .leakyRelu(0.2)) }
    }

    @Test func addGradientIsNotAliasedBetweenOperands() {
        // Both operands receive the same gradient array; later accumulation must not leak across.
        let a = Tensor([1, 2, 3], requiresGrad: true), b = Tensor([4, 5, 6], requiresGrad: true)
        let y = (a + b) + a * 3
        y.sum().backward()
        #expect(a.grad == [4, 4, 4])
        #expect(b.grad == [1, 1, 1])
    }

    struct ConvCase: Sendable, CustomStringConvertible {
        var c = 16, k = 32, h = 40, w = 36, kernel: Size2 = 3, stride: Size2 = 1, padding: Size2 = 1, groups = 1
        var bias = false
        var description: String { "c\(c) k\(k) \(h)x\(w) k\(kernel) s\(stride) p\(padding) g\(groups) bias \(bias)" }
    }

    /// Per-image work ≥ ConvKernel.splitThreshold, so a single image takes the split paths
    /// (rows: output ≥ 512 pixels; channels: smaller maps; grouped and depthwise too).
    static let convCases: [ConvCase] = [
        ConvCase(), ConvCase(bias: true), ConvCase(c: 64, k: 64, kernel: 1, padding: 0),
        ConvCase(c: 64, k: 64, kernel: 1, stride: 2, padding: 0),
        ConvCase(c: 64, k: 96, h: 12, w: 13), ConvCase(c: 256, k: 128, h: 9, w: 9, kernel: 1, padding: 0, bias: true),
        ConvCase(c: 32, k: 48, h: 20, w: 20, stride: 2), ConvCase(c: 32, k: 64, groups: 2),
        ConvCase(c: 32, k: 32, groups: 32),
    ]

    @Test(arguments: convCases)
    func singleImageConvMatchesBatchedConv(c: ConvCase) {
        let x = GradCheck.random([1, c.c, c.h, c.w], seed: 61)
        let w = GradCheck.random([c.k, c.c / c.groups, c.kernel.h, c.kernel.w], seed: 62, low: -0.2, high: 0.2)
        let b = c.bias ? GradCheck.random([c.k], seed: 63) : nil
        let g = ConvGeometry(input: x.shape, outChannels: c.k, kernel: c.kernel, stride: c.stride, padding: c.padding,
                             dilation: 1, groups: c.groups)
        #expect(g.macs >= ConvKernel.splitThreshold || g.cg == 1, "too small to split")
        let single = conv2d(x, w, bias: b, stride: c.stride, padding: c.padding, groups: c.groups)
        // Two images take the batch-parallel path; the first must equal the single image.
        let pair = Tensor(shape: [2, c.c, c.h, c.w], data: x.data + x.data.map { -$0 })
        let batched = conv2d(pair, w, bias: b, stride: c.stride, padding: c.padding, groups: c.groups)
        #expect(maxAbsDiff(single.data, Array(batched.data[0..<single.count])) < 1e-4)
    }

    @Test(arguments: convCases)
    func convBatchNormMatchesUnfusedEval(c: ConvCase) {
        for n in [1, 3] {
            let x = GradCheck.random([n, c.c, c.h, c.w], seed: 71)
            let w = GradCheck.random([c.k, c.c / c.groups, c.kernel.h, c.kernel.w], seed: 72, low: -0.2, high: 0.2)
            let b = c.bias ? GradCheck.random([c.k], seed: 73) : nil
            let gamma = GradCheck.random([c.k], seed: 74, low: 0.5, high: 1.5), beta = GradCheck.random([c.k], seed: 75)
            let mean = GradCheck.random([c.k], seed: 76), variance = GradCheck.random([c.k], seed: 77, low: 0.5, high: 2)
            for activation in Self.activations {
                let fused = withNoGrad {
                    conv2dBatchNorm(x, w, bias: b, stride: c.stride, padding: c.padding, groups: c.groups,
                                    bnWeight: gamma, bnBias: beta, runningMean: mean, runningVar: variance,
                                    activation: activation)
                }
                let unfused = withNoGrad {
                    activation.apply(to: batchNorm(conv2d(x, w, bias: b, stride: c.stride, padding: c.padding, groups: c.groups),
                                                   weight: gamma, bias: beta, runningMean: mean, runningVar: variance,
                                                   training: false))
                }
                #expect(fused.shape == unfused.shape)
                #expect(maxAbsDiff(fused.data, unfused.data) < 1e-4, "n \(n) \(activation)")
            }
        }
    }

    @Test func convBatchNormKeepsTheTapeWhenGradientsAreWanted() {
        let x = GradCheck.random([2, 3, 5, 5], seed: 81), w = GradCheck.random([4, 3, 3, 3], seed: 82)
        let gamma = GradCheck.random([4], seed: 83, low: 0.5, high: 1.5), beta = GradCheck.random([4], seed: 84)
        let mean = GradCheck.random([4], seed: 85), variance = GradCheck.random([4], seed: 86, low: 0.5, high: 2)
        GradCheck.check([x, w, gamma, beta]) { t in
            conv2dBatchNorm(t[0], t[1], padding: 1, bnWeight: t[2], bnBias: t[3], runningMean: mean, runningVar: variance)
        }
        expectSame([x, w, gamma, beta], "leaky ReLU", fused: { t in
            conv2dBatchNorm(t[0], t[1], padding: 1, bnWeight: t[2], bnBias: t[3], runningMean: mean, runningVar: variance,
                            activation: .leakyRelu(0.1))
        }, unfused: { t in
            batchNorm(conv2d(t[0], t[1], padding: 1), weight: t[2], bias: t[3], runningMean: mean, runningVar: variance,
                      training: false).leakyRelu(0.1)
        })
    }

    @Test func tracingRecordsTheUnfusedOps() {
        let x = GradCheck.random([2, 3, 4, 4], seed: 91), w = GradCheck.random([3, 3, 1, 1], seed: 92)
        let mean = Tensor([0, 0.1, -0.1]), variance = Tensor([1, 2, 0.5])
        let (_, trace) = withNoGrad {
            OpTrace.recording {
                add(conv2dBatchNorm(x, w, bnWeight: nil, bnBias: nil, runningMean: mean, runningVar: variance,
                                    activation: .relu), x, activation: .relu)
            }
        }
        let ops = trace.nodes.map(\.op)
        #expect(ops.contains(.conv2d(stride: 1, padding: 0, dilation: 1, groups: 1)))
        #expect(ops.contains(.batchNorm(eps: 1e-5, training: false)))
        #expect(ops.contains(.add))
        #expect(ops.filter { $0 == .relu }.count == 2)
    }
}
