import Testing
@testable import TensorCore

/// Training activations stored `blocked16` (bf16: `blocked16BF16`) between oneDNN convolutions:
/// the conversion itself, and a residual block whose ops hand blocked maps and gradients to each
/// other, against the same block on the im2col reference, where every tensor is plain fp32.
@Suite struct BlockedLayoutTests {
    /// Whether bf16 convolutions run here (AVX-512; elsewhere they are refused, tested in
    /// `OneDNNConvTests`): the bf16 cases are left out, not passed without asserting.
    static let bf16Runs = (try? ConvolutionOptions(backend: .onednn, precision: .bf16).validate()) != nil
    static let precisions: [ConvolutionOptions.Precision] = [.fp32] + (bf16Runs ? [.bf16] : [])

    @Test func conversionPutsEachChannelInItsLane() {
        let shape = [2, 32, 3, 5], pixels = 15
        let plain = (0..<Shape.count(shape)).map(Float.init)
        let blocked = TensorLayout.convert(plain, shape: shape, from: .plain, to: .blocked16)
        for n in 0..<2 {
            for c in 0..<32 {
                for p in 0..<pixels {
                    #expect(blocked[((n * 2 + c / 16) * pixels + p) * 16 + c % 16] == plain[(n * 32 + c) * pixels + p])
                }
            }
        }
        #expect(TensorLayout.convert(blocked, shape: shape, from: .blocked16, to: .plain) == plain)
        #expect(!TensorLayout.canBlock([2, 24, 3, 3]) && !TensorLayout.canBlock([2, 32]))
    }

    struct Run {
        var loss: Float
        /// Gradients of x, of every parameter, and of the retained intermediate map; running statistics.
        var gradients: [[Float]]
        var statistics: [[Float]]
        var intermediateLayout: TensorLayout
    }

    /// conv 3×3 → BN + leaky ReLU → conv 3×3 → BN → + shortcut (1×1 conv) and ReLU → ReLU → Σ·r,
    /// forward and backward under `options`.
    static func block(_ options: ConvolutionOptions) -> Run {
        ConvolutionOptions.withOptions(options) {
            let x = GradCheck.random([2, 16, 6, 5], seed: 1)
            let w1 = GradCheck.random([32, 16, 3, 3], seed: 2, low: -0.2, high: 0.2)
            let w2 = GradCheck.random([32, 32, 3, 3], seed: 3, low: -0.2, high: 0.2)
            let shortcut = GradCheck.random([32, 16, 1, 1], seed: 4, low: -0.3, high: 0.3)
            let gamma1 = GradCheck.random([32], seed: 5, low: 0.5, high: 1.5), beta1 = GradCheck.random([32], seed: 6)
            let gamma2 = GradCheck.random([32], seed: 7, low: 0.5, high: 1.5), beta2 = GradCheck.random([32], seed: 8)
            let parameters = [x, w1, w2, shortcut, gamma1, beta1, gamma2, beta2]
            for t in parameters { t.requiresGrad = true }
            let mean1 = Tensor.zeros([32]), var1 = Tensor.ones([32]), mean2 = Tensor.zeros([32]), var2 = Tensor.ones([32])
            let h = conv2d(x, w1, padding: 1)
            h.retainsGrad = true
            let layout = h.storageLayout
            let a = batchNorm(h, weight: gamma1, bias: beta1, runningMean: mean1, runningVar: var1, training: true,
                              activation: .leakyRelu(0.1))
            let b = batchNorm(conv2d(a, w2, padding: 1), weight: gamma2, bias: beta2, runningMean: mean2, runningVar: var2,
                              training: true)
            let y = add(b, conv2d(x, shortcut), activation: .relu).relu()
            // A random weight per value: a pooled head would give BatchNorm an output gradient
            // constant over pixels, which its backward almost cancels (a poor test of rounding).
            let loss = (y * GradCheck.random(y.shape, seed: 9)).sum()
            loss.backward()
            return Run(loss: loss.item, gradients: parameters.map { $0.grad! } + [h.grad!],
                       statistics: [mean1, var1, mean2, var2].map(\.data), intermediateLayout: layout)
        }
    }

    @Test func residualBlockMatchesThePlainReference() throws {
        let reference = Self.block(ConvolutionOptions(backend: .im2col))
        #expect(reference.intermediateLayout == .plain)
        try #require(OneDNN.engine != nil, "oneDNN is a dependency of the project")
        let blocked = Self.block(ConvolutionOptions(backend: .onednn, algorithm: .direct))
        #expect(blocked.intermediateLayout == .blocked16)
        #expect(abs(blocked.loss - reference.loss) <= 1e-5 * max(1, abs(reference.loss)))
        for (i, (got, want)) in zip(blocked.gradients + blocked.statistics, reference.gradients + reference.statistics).enumerated() {
            let error = OneDNNConvTests.relativeError(got, want)
            #expect(error <= 1e-4, "tensor \(i): relative error \(error)")
        }
    }

    /// bf16 rounds the inputs and weights of each product, and the stored activations, to 8
    /// significant bits (2⁻⁹ relative), as PyTorch's autocast does. A rounded activation moves
    /// BatchNorm's output a little, so values near zero can change sign, and the gradient there
    /// changes by the leaky ReLU's slope: element-wise the gradients differ by far more than 2⁻⁹.
    /// The check is on the whole gradient, ‖bf16 − fp32‖ / ‖fp32‖; on this block about 4 % (0.4 %
    /// with fp32 activations; 12 to 84 % with one term of BatchNorm's input gradient dropped).
    @Test(.enabled(if: bf16Runs, "needs AVX-512"))
    func residualBlockInBF16StaysCloseToFP32() throws {
        let options = ConvolutionOptions(backend: .onednn, algorithm: .direct, precision: .bf16)
        let reference = Self.block(ConvolutionOptions(backend: .im2col))
        let bf16 = Self.block(options)
        #expect(bf16.intermediateLayout == .blocked16BF16)
        #expect(abs(bf16.loss - reference.loss) <= 1e-2 * max(1, abs(reference.loss)))
        for (i, (got, want)) in zip(bf16.gradients + bf16.statistics, reference.gradients + reference.statistics).enumerated() {
            let difference = zip(got, want).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
            let norm = want.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            #expect(difference <= 8e-2 * norm, "tensor \(i): relative L2 error \(difference / norm)")
        }
    }

    /// A training convolution's blocked output max-pooled as it is stored (ResNet's stem: 3×3,
    /// stride 2, padding 1) against the plain pooling of the same values: the same maxima and the
    /// same gradient, exactly (fp32 and bf16 maps; ties go to the first maximum in both).
    @Test(arguments: precisions)
    func maxPoolingKeepsTheBlockedLayout(precision: ConvolutionOptions.Precision) throws {
        try Self.withDirectOneDNN(precision, input: [2, 8, 9, 11], outputChannels: 32) { x, w in
            let h = conv2d(x, w, padding: 1)
            h.retainsGrad = true
            #expect(h.storageLayout == (precision == .bf16 ? .blocked16BF16 : .blocked16))
            let plain = Tensor(shape: h.shape, data: TensorLayout.convert(h.storage, shape: h.shape, from: h.storageLayout, to: .plain),
                               requiresGrad: true)
            let y = maxPool2d(h, kernel: 3, stride: 2, padding: 1), reference = maxPool2d(plain, kernel: 3, stride: 2, padding: 1)
            #expect(y.storageLayout == h.storageLayout)
            let r = GradCheck.random(y.shape, seed: 13)
            (y * r).sum().backward()
            (reference * r).sum().backward()
            #expect(y.data == reference.data)
            #expect(h.grad! == plain.grad!)
        }
    }

    /// A caller's plain input keeps its values: an fp32 convolution may store it blocked (losslessly),
    /// a bf16 one reads it through a rounded copy and leaves it as it was.
    @Test(arguments: precisions)
    func convolutionInputsKeepTheirValues(precision: ConvolutionOptions.Precision) throws {
        try Self.withDirectOneDNN(precision, input: [2, 16, 5, 5], outputChannels: 16) { x, w in
            let original = x.data
            conv2d(x, w, padding: 1).sum().backward()
            #expect(x.storageLayout != .blocked16BF16)
            #expect(x.data == original)
        }
    }

    /// Runs `body` on a random input of `shape` and a random 3×3 weight that requires grad, under
    /// direct oneDNN kernels in `precision`.
    static func withDirectOneDNN(_ precision: ConvolutionOptions.Precision, input shape: [Int], outputChannels: Int,
                                 _ body: (Tensor, Tensor) -> Void) throws {
        let options = ConvolutionOptions(backend: .onednn, algorithm: .direct, precision: precision)
        try #require(OneDNN.engine != nil, "oneDNN is a dependency of the project")
        try options.validate()
        ConvolutionOptions.withOptions(options) {
            let x = GradCheck.random(shape, seed: 11)
            let w = GradCheck.random([outputChannels, shape[1], 3, 3], seed: 12, low: -0.3, high: 0.3)
            w.requiresGrad = true
            body(x, w)
        }
    }
}
