import Testing
@testable import TensorCore

/// The oneDNN kernels (direct, Winograd, bf16) against the im2col + OpenBLAS reference on every
/// kind of convolution the zoo uses. Tolerances are on the largest error relative to the
/// reference's largest magnitude: fp32 direct sums in another order (1e-5), Winograd's
/// transforms add rounding (1e-4), and bf16 rounds inputs and weights to 8 significant bits
/// (an error of about 2⁻⁹ per product, growing with the square root of the patch: 1.5e-2).
@Suite struct OneDNNConvTests {
    typealias Case = ConvTests.Case

    /// A zoo-like layer: channels a multiple of 16 (Winograd's shape), same-size padding, no bias.
    static func layer(n: Int = 2, c: Int = 16, k: Int = 32, h: Int = 9, w: Int = 8, kernel: Size2 = 3, stride: Size2 = 1,
                      padding: Size2 = 1, dilation: Size2 = 1, groups: Int = 1, bias: Bool = false) -> Case {
        Case(n: n, c: c, k: k, h: h, w: w, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
             groups: groups, bias: bias)
    }

    static let cases: [Case] = [
        layer(),                                                        // 3×3 stride 1: Winograd's shape
        layer(n: 3, c: 32, k: 16, h: 12, w: 12, bias: true),
        layer(kernel: 1, padding: 0),                                   // pointwise
        layer(kernel: 1, stride: 2, padding: 0),                        // strided 1×1 shortcut
        layer(h: 10, w: 10, stride: 2),                                 // strided 3×3
        layer(n: 2, c: 3, k: 16, h: 20, w: 20, kernel: 7, stride: 2, padding: 3), // stem
        layer(c: 32, k: 32, groups: 32),                                // depthwise
        layer(c: 16, k: 16, h: 11, w: 11, kernel: 5, stride: 2, padding: 2, groups: 16, bias: true), // depthwise 5×5 s2
        layer(c: 16, k: 32, groups: 4),                                 // grouped
        layer(c: 8, k: 8, h: 12, w: 12, padding: 2, dilation: 2),       // dilated
        layer(n: 1, c: 5, k: 7, h: 6, w: 7, kernel: [3, 2], stride: [2, 1], padding: [1, 0], bias: true), // odd sizes
    ]

    struct Result { var y, gx, gw: [Float]; var gb: [Float]? }

    /// Forward and all gradients of Σ y·r for a fixed random r, under `options`.
    static func run(_ c: Case, _ options: ConvolutionOptions) -> Result {
        ConvolutionOptions.withOptions(options) {
            let x = GradCheck.random([c.n, c.c, c.h, c.w], seed: 1)
            let w = GradCheck.random([c.k, c.c / c.groups, c.kernel.h, c.kernel.w], seed: 2)
            let b = c.bias ? GradCheck.random([c.k], seed: 3) : nil
            for t in [x, w, b].compactMap({ $0 }) { t.requiresGrad = true }
            let y = conv2d(x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
            (y * GradCheck.random(y.shape, seed: 4)).sum().backward()
            return Result(y: y.data, gx: x.grad!, gw: w.grad!, gb: b?.grad)
        }
    }

    static func relativeError(_ a: [Float], _ reference: [Float]) -> Float {
        precondition(a.count == reference.count)
        let scale = reference.map(abs).max() ?? 0
        let worst = zip(a, reference).map { abs($0 - $1) }.max() ?? 0
        return scale == 0 ? worst : worst / scale
    }

    static func expectClose(_ c: Case, _ options: ConvolutionOptions, tolerance: Float) {
        let reference = run(c, ConvolutionOptions(backend: .im2col))
        let got = run(c, options)
        for (name, a, r) in [("y", got.y, reference.y), ("gx", got.gx, reference.gx), ("gw", got.gw, reference.gw)] {
            let e = relativeError(a, r)
            #expect(e <= tolerance, "\(options) \(c): \(name) relative error \(e) > \(tolerance)")
        }
        if let gb = got.gb, let rb = reference.gb {
            #expect(relativeError(gb, rb) <= tolerance, "\(options) \(c): bias gradient")
        }
    }

    @Test(arguments: cases)
    func directMatchesIm2col(c: Case) {
        Self.expectClose(c, ConvolutionOptions(backend: .onednn, algorithm: .direct), tolerance: 1e-5)
    }

    @Test(arguments: cases)
    func winogradMatchesIm2col(c: Case) {
        Self.expectClose(c, ConvolutionOptions(backend: .onednn, algorithm: .winograd), tolerance: 1e-4)
    }

    @Test(arguments: cases)
    func bf16MatchesIm2col(c: Case) throws {
        let options = ConvolutionOptions(backend: .onednn, precision: .bf16)
        guard (try? options.validate()) != nil else { return }  // a CPU without AVX-512: validate's error is tested below
        Self.expectClose(c, options, tolerance: 1.5e-2)
    }

    @Test func winogradGradientsMatchFiniteDifferences() {
        ConvolutionOptions.withOptions(ConvolutionOptions(backend: .onednn, algorithm: .winograd)) {
            let x = GradCheck.random([1, 16, 6, 6], seed: 1)
            let w = GradCheck.random([16, 16, 3, 3], seed: 2, low: -0.2, high: 0.2)
            GradCheck.check([x, w]) { t in conv2d(t[0], t[1], padding: 1) }
        }
    }

    @Test func winogradRunsWhereOfferedAndDirectElsewhere() {
        let winogradShape = ConvGeometry(input: [8, 16, 32, 32], outChannels: 16, kernel: 3, stride: 1, padding: 1,
                                         dilation: 1, groups: 1)
        let strided = ConvGeometry(input: [8, 16, 32, 32], outChannels: 16, kernel: 3, stride: 2, padding: 1,
                                   dilation: 1, groups: 1)
        func key(_ g: ConvGeometry, _ a: ConvolutionOptions.Algorithm) -> OneDNNConvolution.Key {
            .init(geometry: g, algorithm: a, precision: .fp32, hasBias: false, training: true)
        }
        let wino = OneDNNConvolutionCache.convolution(key(winogradShape, .winograd))
        #expect(wino?.isWinograd == true)
        #expect(wino?.implementations.allSatisfy { $0.contains("wino") } == true, "\(wino?.implementations ?? [])")
        #expect(OneDNNConvolutionCache.convolution(key(strided, .winograd))?.isWinograd == false)
        #expect(OneDNNConvolutionCache.convolution(key(winogradShape, .direct))?.isWinograd == false)
        if OneDNNConvolution.supportsBF16 {
            let bf16 = OneDNNConvolutionCache.convolution(
                .init(geometry: winogradShape, algorithm: .direct, precision: .bf16, hasBias: false, training: true))
            #expect(bf16?.implementations.allSatisfy { $0.contains("bf16") } == true, "\(bf16?.implementations ?? [])")
        }
        // Inference folds BatchNorm + ReLU into post-ops on blocked layouts, not on the plain GEMM path.
        let fusedKey = OneDNNConvolution.Key(geometry: strided, algorithm: .auto, precision: .fp32, hasBias: false,
                                             training: false, epilogueSlope: 0)
        #expect(OneDNNConvolutionCache.convolution(fusedKey)?.fusesEpilogue == true)
        let pointwise = ConvGeometry(input: [1, 16, 8, 8], outChannels: 32, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1)
        let plainKey = OneDNNConvolution.Key(geometry: pointwise, algorithm: .auto, precision: .fp32, hasBias: false,
                                             training: false, epilogueSlope: 0)
        #expect(OneDNNConvolutionCache.convolution(plainKey)?.fusesEpilogue == false)
        // Built once: a steady-state step finds every primitive in the cache.
        #expect(OneDNNConvolutionCache.convolution(key(winogradShape, .winograd)) === wino)
    }

    @Test func inferenceSeesEveryChangeOfTheWeights() {
        // Inference keeps reordered weights between calls; a write to the weights must miss that cache.
        let x = GradCheck.random([1, 16, 8, 8], seed: 5)
        let w = GradCheck.random([16, 16, 3, 3], seed: 6)
        func both() -> (onednn: [Float], reference: [Float]) {
            let ours = ConvolutionOptions.withOptions(ConvolutionOptions(backend: .onednn)) { conv2d(x, w, padding: 1).data }
            let reference = ConvolutionOptions.withOptions(ConvolutionOptions(backend: .im2col)) { conv2d(x, w, padding: 1).data }
            return (ours, reference)
        }
        let first = both()
        #expect(Self.relativeError(first.onednn, first.reference) <= 1e-4)
        #expect(both().onednn == first.onednn)
        w.data[7] += 0.5                       // in place, as an optimizer step writes
        let nudged = both()
        #expect(nudged.onednn != first.onednn)
        #expect(Self.relativeError(nudged.onednn, nudged.reference) <= 1e-4)
        w.data = GradCheck.random([16, 16, 3, 3], seed: 7).data   // replaced, as a checkpoint load does
        let replaced = both()
        #expect(Self.relativeError(replaced.onednn, replaced.reference) <= 1e-4)
    }

    @Test(arguments: [FusedActivation.identity, .relu, .leakyRelu(0.1)])
    func foldedBatchNormMatchesIm2col(activation: FusedActivation) {
        // Eval-mode conv + BatchNorm + activation: oneDNN post-ops on blocked layouts, a Swift
        // epilogue after the plain-layout (pointwise) GEMM convolution.
        for (kernel, padding, stride) in [(3, 1, 1), (1, 0, 1), (3, 1, 2)] {
            let x = GradCheck.random([2, 16, 10, 10], seed: 8)
            let w = GradCheck.random([32, 16, kernel, kernel], seed: 9)
            let b = GradCheck.random([32], seed: 10)
            let gamma = GradCheck.random([32], seed: 11), beta = GradCheck.random([32], seed: 12)
            let mean = GradCheck.random([32], seed: 13), variance = GradCheck.random([32], seed: 14, low: 0.5, high: 2)
            func run(_ backend: ConvolutionOptions.Backend) -> [Float] {
                ConvolutionOptions.withOptions(ConvolutionOptions(backend: backend, algorithm: .winograd)) {
                    conv2dBatchNorm(x, w, bias: b, stride: Size2(stride), padding: Size2(padding), bnWeight: gamma, bnBias: beta,
                                    runningMean: mean, runningVar: variance, activation: activation).data
                }
            }
            let e = Self.relativeError(run(.onednn), run(.im2col))
            #expect(e <= 1e-4, "\(kernel)×\(kernel) stride \(stride) \(activation): relative error \(e)")
        }
    }

    @Test func optionsThatCannotRunAreRefused() {
        #expect(throws: TensorCoreError.self) {
            try ConvolutionOptions(backend: .im2col, precision: .bf16).validate()
        }
        #expect(throws: Never.self) { try ConvolutionOptions(backend: .im2col).validate() }
        if OneDNN.engine != nil {
            #expect(throws: Never.self) { try ConvolutionOptions(backend: .onednn).validate() }
        }
    }

    @Test func scopedOptionsOverrideTheDefaults() {
        let before = ConvolutionOptions.current
        let inner = ConvolutionOptions.withOptions(ConvolutionOptions(backend: .im2col)) { ConvolutionOptions.current }
        #expect(inner.backend == .im2col)
        #expect(ConvolutionOptions.current == before)
    }
}
