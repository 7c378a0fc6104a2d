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

    /// `values` (a tensor of `shape` laid out as `from`) laid out as `to`.
    static func convert(_ values: [Float], shape: [Int], from: TensorLayout, to: TensorLayout) -> [Float] {
        if from == to { return values }
        precondition(canBlock(shape), "blocked16 needs [N, C, H, W] with C a multiple of 16, got \(shape)")
        if let converted = OneDNNLayoutConversion.convert(values, shape: shape, from: from, to: to) {
            return converted
        }
        precondition(from != .blocked16BF16 && to != .blocked16BF16, "bf16 layouts need oneDNN")
        return transpose(values, shape: shape, toBlocked: to == .blocked16)
    }

    /// The same conversion in Swift, for a machine without oneDNN.
    private static func transpose(_ values: [Float], shape: [Int], toBlocked: Bool) -> [Float] {
        let (n, c, s) = (shape[0], shape[1], shape[2] * shape[3]), blocks = c / 16
        return [Float].overwritten(count: values.count) { out in
            values.withUnsafeBufferPointer { src in
                Parallel.chunks(n * blocks, costPerItem: 16 * s) { range in
                    for item in range {
                        let blockBase = item * 16 * s
                        let plainBase = (item / blocks * c + item % blocks * 16) * s
                        for lane in 0..<16 {
                            for p in 0..<s {
                                let (blocked, plain) = (blockBase + p * 16 + lane, plainBase + lane * s + p)
                                if toBlocked { out[blocked] = src[plain] } else { out[plain] = src[blocked] }
                            }
                        }
                    }
                }
            }
        }
    }
}
