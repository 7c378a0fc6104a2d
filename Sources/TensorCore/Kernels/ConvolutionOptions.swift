import CDNNL

/// Which kernels run `conv2d`, chosen per process (configs and CLI flags set `defaults`) or for a
/// scope (`withOptions`, used by tests and benchmarks to compare kernel sets side by side).
public struct ConvolutionOptions: Sendable, Equatable, CustomStringConvertible {
    /// The kernel library.
    public enum Backend: String, Sendable, CaseIterable {
        /// oneDNN primitives (the default where oneDNN has a CPU engine).
        case onednn
        /// im2col + OpenBLAS sgemm (and a direct depthwise loop): the reference the tests compare against.
        case im2col
    }

    /// The convolution algorithm oneDNN runs (ignored by the im2col backend).
    public enum Algorithm: String, Sendable, CaseIterable {
        /// Winograd F(4×4, 3×3) where oneDNN offers it for the shape and it is the faster
        /// kernel, direct otherwise.
        case auto
        /// Direct convolution everywhere.
        case direct
        /// Winograd wherever oneDNN offers it (3×3, stride 1, undilated, ungrouped, channels a
        /// multiple of 16), direct elsewhere. oneDNN's Winograd is fp32 only: under bf16 those
        /// layers compute in fp32.
        case winograd
    }

    /// Arithmetic of the convolution products (oneDNN only).
    public enum Precision: String, Sendable, CaseIterable {
        case fp32
        /// Inputs and weights rounded to bfloat16, products accumulated and written in fp32.
        case bf16
    }

    /// How eval-mode forward passes run on the oneDNN backend.
    public enum Inference: String, Sendable, CaseIterable {
        /// Compiled once per input shape into an `InferenceGraph`: activations stay in oneDNN's
        /// layouts, BatchNorm is folded into the weights, residual adds and activations are
        /// post-ops.
        case graph
        /// Op by op, as in training (each convolution reorders in and out of NCHW).
        case eager
    }

    public var backend: Backend
    public var algorithm: Algorithm
    public var precision: Precision
    public var inference: Inference = .graph

    /// Whether eval-mode forward passes should run through an `InferenceGraph`.
    public var usesInferenceGraph: Bool { backend == .onednn && inference == .graph }

    /// `backend` nil picks oneDNN where it has a CPU engine, else im2col.
    public init(backend: Backend? = nil, algorithm: Algorithm = .auto, precision: Precision = .fp32) {
        self.backend = backend ?? (OneDNN.engine != nil ? .onednn : .im2col)
        self.algorithm = algorithm
        self.precision = precision
    }

    public var description: String {
        backend == .im2col ? "im2col" : "onednn \(algorithm.rawValue) \(precision.rawValue)\(inference == .eager ? " eager" : "")"
    }

    /// The options new convolutions use outside any `withOptions` scope.
    nonisolated(unsafe) public static var defaults = ConvolutionOptions()

    @TaskLocal static var scoped: ConvolutionOptions?

    /// The options in force here: the innermost `withOptions` scope's, else `defaults`.
    public static var current: ConvolutionOptions { scoped ?? defaults }

    /// Runs `body` with `options` for every convolution it starts (on this task or thread).
    public static func withOptions<R>(_ options: ConvolutionOptions, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(options, operation: body)
    }

    /// Whether this CPU has native bf16 instructions (avx512_bf16) for oneDNN. Without them
    /// oneDNN emulates bf16 on AVX-512, correct but slower than fp32.
    public static var hasNativeBF16: Bool {
        OneDNN.engine != nil && (dnnl_get_effective_cpu_isa().rawValue & dnnl_cpu_isa_avx512_core_bf16.rawValue)
            == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// Throws when this machine cannot run these options: the oneDNN backend without a CPU
    /// engine, or bf16 on a CPU whose oneDNN has no bf16 convolution (no AVX-512).
    public func validate() throws {
        guard backend == .onednn else {
            if precision == .bf16 {
                throw TensorCoreError.unsupported("bf16 convolutions need the onednn backend, not im2col")
            }
            return
        }
        guard OneDNN.engine != nil else {
            throw TensorCoreError.unsupported("oneDNN has no CPU engine here; use the im2col backend")
        }
        if precision == .bf16 && !OneDNNConvolution.supportsBF16 {
            throw TensorCoreError.unsupported(
                "this CPU has no bf16 convolution in oneDNN \(OneDNN.version) (needs AVX-512); use precision fp32")
        }
    }
}
