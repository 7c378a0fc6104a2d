/// How a tensor's values are ordered in memory.
///
/// Every tensor a user sees is `plain` (row-major, NCHW for image batches). Training
/// convolutions on oneDNN return `blocked16`, the layout their kernels read and write (and under
/// bf16 precision `blocked16BF16`, as PyTorch's autocast returns bfloat16 activations), and the
/// ops that usually sit between two convolutions (BatchNorm, residual adds, elementwise
/// activations) keep it, so a network's activations and their gradients go from one convolution
/// to the next without reorders. Gradients are always fp32. Any other reader of `Tensor.data`
/// gets the plain fp32 values: the storage is converted once, on first read.
public enum TensorLayout: Sendable, Equatable {
    /// Row-major: `[N, C, H, W]`.
    case plain
    /// oneDNN's nChw16c: `[N, C/16, H, W, 16]`, the sixteen channels of one pixel of a channel
    /// block side by side. Only for rank-4 tensors whose channel count is a multiple of 16.
    case blocked16
    /// `blocked16` in bfloat16, two values packed in each Float of the storage array.
    case blocked16BF16

    var isBlocked: Bool { self != .plain }

    /// The layout of gradients for a tensor stored in this layout (fp32).
    var gradientLayout: TensorLayout { self == .blocked16BF16 ? .blocked16 : self }

    /// Floats of storage for `count` values.
    func storageCount(_ count: Int) -> Int { self == .blocked16BF16 ? count / 2 : count }

    /// Whether `shape` can be stored `blocked16`.
    static func canBlock(_ shape: [Int]) -> Bool { shape.count == 4 && shape[1] > 0 && shape[1] % 16 == 0 }

    /// `values` (a tensor of `shape` laid out as `from`) laid out as `to`, on oneDNN's reorders
    /// (blocked maps only come from oneDNN convolutions, so it is there whenever one exists).
    static func convert(_ values: [Float], shape: [Int], from: TensorLayout, to: TensorLayout) -> [Float] {
        if from == to { return values }
        precondition(canBlock(shape), "blocked16 needs [N, C, H, W] with C a multiple of 16, got \(shape)")
        guard let converted = OneDNNLayoutConversion.convert(values, shape: shape, from: from, to: to) else {
            preconditionFailure("blocked layouts need oneDNN")
        }
        return converted
    }
}
