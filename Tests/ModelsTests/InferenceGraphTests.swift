import Testing
import NN
import TensorCore
@testable import Models

/// The compiled inference graph against the eager forward pass it was traced from, on zoo
/// models with BatchNorm statistics that are far from the identity (so folding them matters).
@Suite struct InferenceGraphTests {
    /// A model in eval mode with random running statistics and BN affine parameters.
    static func model(_ name: String, classNum: Int = 10) throws -> Layer {
        Initializers.seed(7)
        let model = try ModelRegistry.make(name, options: ModelOptions(classNum: classNum))
        var rng = RNG(seed: 11)
        for (key, t) in model.stateDict() {
            let n = t.count
            if key.hasSuffix("running_mean") {
                t.data = (0..<n).map { _ in rng.uniform(-0.3, 0.3) }
            } else if key.hasSuffix("running_var") {
                t.data = (0..<n).map { _ in rng.uniform(0.5, 2) }
            } else if key.hasSuffix("bn1.weight") || key.hasSuffix("bn2.weight") || key.hasSuffix("bn3.weight") {
                t.data = (0..<n).map { _ in rng.uniform(0.5, 1.5) }
            }
        }
        model.eval()
        return model
    }

    /// max |graph − eager| / max |eager|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.data.map(Swift.abs).max() ?? 0
        return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max()! / Swift.max(scale, 1e-12)
    }

    @Test(arguments: ["ResNet18", "ResNet50_vd", "SE_ResNet18_vd", "WideResNet28_2", "PPLCNet_x0_25",
                      "MobileNetV3_small_x0_35", "EfficientNet_lite0"])
    func graphMatchesEagerFP32(name: String) throws {
        let model = try Self.model(name)
        var rng = RNG(seed: 5)
        let x = Tensor.uniform([2, 3, 64, 64], low: -1, high: 1, rng: &rng)
        let eager = withNoGrad { model(x) }
        let graph = try InferenceGraph.compile(input: x, options: ConvolutionOptions(backend: .onednn)) { model($0) }
        let y = graph(x)
        #expect(y.shape == eager.shape)
        // Winograd and folded BatchNorm round differently from the eager kernels.
        let error = Self.relativeError(y, eager)
        #expect(error < 1e-4, "\(name): relative error \(error); kernels \(graph.summary)")
        // Buffers are reused between runs: a second run on other data, then the first again.
        let x2 = Tensor.uniform([2, 3, 64, 64], low: -1, high: 1, rng: &rng)
        let eager2 = withNoGrad { model(x2) }
        #expect(Self.relativeError(graph(x2), eager2) < 1e-4)
        #expect(graph(x).data == y.data)
    }

    @Test(.enabled(if: ConvolutionOptions.hasNativeBF16, "needs a CPU with avx512_bf16"),
          arguments: ["ResNet50_vd", "MobileNetV3_small_x0_35"])
    func graphMatchesEagerBF16(name: String) throws {
        let model = try Self.model(name)
        var rng = RNG(seed: 5)
        let x = Tensor.uniform([1, 3, 64, 64], low: -1, high: 1, rng: &rng)
        let eager = withNoGrad { model(x) }
        let graph = try InferenceGraph.compile(input: x, options: ConvolutionOptions(backend: .onednn, precision: .bf16)) { model($0) }
        let error = Self.relativeError(graph(x), eager)
        // bf16 keeps 8 bits of mantissa; activations stay bf16 between layers.
        #expect(error < 5e-2, "\(name): relative error \(error)")
        #expect(graph.kernels.contains { $0.contains("bf16") })
    }

    @Test func resNetBlocksBecomeConvolutionsWithPostOps() throws {
        let model = try Self.model("ResNet50", classNum: 0)
        let x = Tensor.zeros([1, 3, 64, 64])
        let graph = try InferenceGraph.compile(input: x, options: ConvolutionOptions(backend: .onednn, algorithm: .direct)) { model($0) }
        // 53 convolutions, the stem's max pool and the global average pool; BatchNorm, the
        // residual adds and every ReLU ride on the convolutions (no eltwise or binary steps).
        // Only the final flatten runs eagerly.
        let kinds = graph.stepKinds
        #expect(kinds.filter { $0 == "convolution" }.count == 53, "\(kinds)")
        #expect(kinds.filter { $0 == "pooling" }.count == 2, "\(kinds)")
        #expect(!kinds.contains("eltwise") && !kinds.contains("binary"), "\(kinds)")
        #expect(kinds.filter { $0.hasPrefix("eager") } == ["eager flatten"], "\(kinds)")
        // Layout changes only at the input and before the eager flatten.
        #expect(kinds.filter { $0 == "reorder" }.count <= 2, "\(kinds)")
    }

    @Test func aResidualAddOfTheConvolutionsOwnInputIsNotWrittenInPlace() throws {
        // relu(h + bn(conv(h))): the sum post-op must not write over the convolution's input.
        var rng = RNG(seed: 4)
        let w = Tensor.randn([16, 16, 3, 3], std: 0.1, rng: &rng), w0 = Tensor.randn([16, 16, 3, 3], std: 0.1, rng: &rng)
        let mean = Tensor.uniform([16], low: -0.2, high: 0.2, rng: &rng), variance = Tensor.uniform([16], low: 0.5, high: 2, rng: &rng)
        let block = { (x: Tensor) -> Tensor in
            let h = conv2d(x, w0, padding: 1).relu()  // already in the next convolution's layout
            return (h + batchNorm(conv2d(h, w, padding: 1), weight: nil, bias: nil, runningMean: mean, runningVar: variance,
                                  training: false)).relu()
        }
        let x = Tensor.uniform([2, 16, 8, 8], low: -1, high: 1, rng: &rng)
        let eager = withNoGrad { block(x) }
        let graph = try InferenceGraph.compile(input: x, options: ConvolutionOptions(backend: .onednn, algorithm: .direct), block)
        #expect(graph.stepKinds.filter { $0 == "convolution" }.count == 2 && !graph.stepKinds.contains("binary"), "\(graph.stepKinds)")
        #expect(Self.relativeError(graph(x), eager) < 1e-5)
    }

    @Test func aResidualReadBetweenItsConvolutionAndTheAddIsNotOverwritten() throws {
        // The fused convolution runs where the convolution was traced, before sigmoid(h): the sum
        // into h's buffer must not happen in place.
        var rng = RNG(seed: 6)
        let w0 = Tensor.randn([16, 16, 3, 3], std: 0.1, rng: &rng), w1 = Tensor.randn([16, 16, 3, 3], std: 0.1, rng: &rng)
        let mean = Tensor.uniform([16], low: -0.2, high: 0.2, rng: &rng), variance = Tensor.uniform([16], low: 0.5, high: 2, rng: &rng)
        let block = { (x: Tensor) -> Tensor in
            let h = conv2d(x, w0, padding: 1).relu()
            let a = batchNorm(conv2d(x, w1, padding: 1), weight: nil, bias: nil, runningMean: mean, runningVar: variance, training: false)
            let g = h.sigmoid()
            return (a + h) * g
        }
        let x = Tensor.uniform([2, 16, 8, 8], low: -1, high: 1, rng: &rng)
        let eager = withNoGrad { block(x) }
        let graph = try InferenceGraph.compile(input: x, options: ConvolutionOptions(backend: .onednn, algorithm: .direct), block)
        #expect(Self.relativeError(graph(x), eager) < 1e-5, "\(graph.stepKinds)")
    }

    @Test func graphsSharingAWorkspaceTakeTurns() throws {
        // Graphs of two batch sizes over one workspace, run alternately, each after the other
        // has moved the buffers' contents.
        let model = try Self.model("ResNet18", classNum: 0)
        var rng = RNG(seed: 8)
        let x1 = Tensor.uniform([1, 3, 32, 32], low: -1, high: 1, rng: &rng)
        let x4 = Tensor.uniform([4, 3, 32, 32], low: -1, high: 1, rng: &rng)
        let workspace = InferenceWorkspace()
        let options = ConvolutionOptions(backend: .onednn)
        let g1 = try InferenceGraph.compile(input: x1, options: options, workspace: workspace) { model($0) }
        let g4 = try InferenceGraph.compile(input: x4, options: options, workspace: workspace) { model($0) }
        let (e1, e4) = withNoGrad { (model(x1), model(x4)) }
        for _ in 0..<2 {
            #expect(Self.relativeError(g1(x1), e1) < 1e-4)
            #expect(Self.relativeError(g4(x4), e4) < 1e-4)
        }
    }

    @Test func aMatmulOverTheBatchIsRefused() throws {
        // [1, D] · [1, D]ᵀ traces as [1, 1] but is [1, N] for N images, not [N, 1].
        let prototype = Tensor.ones([1, 8])
        let x = Tensor.zeros([3, 8])
        #expect(throws: TensorCoreError.self) {
            try InferenceGraph.compile(input: x) { matmul(prototype, $0, transposeB: true) }
        }
    }

    @Test func aValueWithoutTheImageIndexFirstIsRefused() throws {
        // The trace runs on one image and the graph scales every value's first dimension.
        let x = Tensor.zeros([2, 4, 8, 8])
        #expect(throws: TensorCoreError.self) {
            try InferenceGraph.compile(input: x) { $0.reshaped([-1]).relu() }
        }
    }

    @Test func compiledForwardSplitsBatchesAndFallsBackToEager() throws {
        let model = try Self.model("ResNet18", classNum: 0)
        var rng = RNG(seed: 9)
        let x = Tensor.uniform([CompiledForward.wholeBatches + 1, 3, 32, 32], low: -1, high: 1, rng: &rng)
        let eager = withNoGrad { model(x) }
        let compiled = CompiledForward { model($0) }
        let y = ConvolutionOptions.withOptions(ConvolutionOptions(backend: .onednn)) { compiled(x) }  // 16 + 1
        #expect(y.shape == eager.shape)
        #expect(Self.relativeError(y, eager) < 1e-4)

        let notes = NoteBox()
        let untraceable = CompiledForward { concat([$0, $0], axis: 1) }
        untraceable.onFallback = { notes.append($0) }
        let z = ConvolutionOptions.withOptions(ConvolutionOptions(backend: .onednn)) { (untraceable(x), untraceable(x.slice(axis: 0, 0..<3))).0 }
        #expect(z.data == concat([x, x], axis: 1).data)
        #expect(notes.items.count == 1)
    }

    @Test func anUntracedOpIsRefused() throws {
        let x = Tensor.zeros([1, 4, 8, 8])
        #expect(throws: TensorCoreError.self) {
            try InferenceGraph.compile(input: x) { concat([$0, $0], axis: 1) }
        }
    }
}

/// Collects fallback notes from a @Sendable callback.
final class NoteBox: @unchecked Sendable {
    private(set) var items: [String] = []
    func append(_ note: String) { items.append(note) }
}
