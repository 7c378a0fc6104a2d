/// Sizes of one 2-D convolution or pooling window sweep.
/// Letters: N batch, C input channels, K output channels, H×W input, OH×OW output, kh×kw kernel.
public struct ConvGeometry: Hashable, Sendable {
    public let n, c, h, w: Int
    public let k: Int
    public let kernel, stride, padding, dilation: Size2
    public let groups: Int
    public internal(set) var oh, ow: Int

    public init(input: [Int], outChannels: Int, kernel: Size2, stride: Size2, padding: Size2,
                dilation: Size2, groups: Int, ceilMode: Bool = false) {
        precondition(input.count == 4, "expected an NCHW input, got shape \(input)")
        n = input[0]; c = input[1]; h = input[2]; w = input[3]
        k = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
        self.groups = groups
        oh = ConvGeometry.outputSize(h, kernel.h, stride.h, padding.h, dilation.h, ceilMode)
        ow = ConvGeometry.outputSize(w, kernel.w, stride.w, padding.w, dilation.w, ceilMode)
        precondition(oh > 0 && ow > 0, "window \(kernel) (stride \(stride), padding \(padding), dilation \(dilation)) does not fit input \(h)×\(w)")
    }

    /// PyTorch's output size; with ceil mode the last window must start inside the input or left padding.
    static func outputSize(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, _ ceil: Bool) -> Int {
        let span = d * (k - 1) + 1
        let numerator = size + 2 * p - span
        if numerator < 0 { return 0 }
        var out = (ceil ? (numerator + s - 1) / s : numerator / s) + 1
        if ceil && (out - 1) * s >= size + p { out -= 1 }
        return out
    }

    /// Input channels per group.
    public var cg: Int { c / groups }
    /// Output channels per group.
    public var kg: Int { k / groups }
    /// Output pixels per image.
    public var p: Int { oh * ow }
    /// Rows of the im2col matrix per group (Cg·kh·kw).
    public var patch: Int { cg * kernel.h * kernel.w }
    /// True when the input itself is the im2col matrix (1×1, stride 1, no padding).
    public var isPointwise: Bool {
        kernel == Size2(1) && stride == Size2(1) && padding == Size2(0)
    }
    /// Multiply-adds of the forward pass.
    public var macs: Int { n * k * p * patch }
}
