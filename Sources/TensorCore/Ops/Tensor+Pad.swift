// Zero padding of the two spatial axes of an NCHW tensor, with a side each (asymmetric padding).

/// Rows and columns of zeros added on each side of an image.
public struct Padding2D: Hashable, Sendable, CustomStringConvertible {
    public var top, bottom, left, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "padding must not be negative")
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }

    /// TensorFlow's "SAME" padding for a `kernel`×`kernel` window at `stride` over an h×w input:
    /// the output is ceil(input / stride) and the odd pixel of an uneven total goes after
    /// (bottom / right), which is what TF-trained weights (EfficientNet and its Lite family) expect.
    public static func same(height h: Int, width w: Int, kernel: Int, stride: Int, dilation: Int = 1) -> Padding2D {
        func total(_ size: Int) -> Int {
            let out = (size + stride - 1) / stride
            return Swift.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        }
        let (ph, pw) = (total(h), total(w))
        return Padding2D(top: ph / 2, bottom: ph - ph / 2, left: pw / 2, right: pw - pw / 2)
    }

    public var isZero: Bool { top == 0 && bottom == 0 && left == 0 && right == 0 }
    public var description: String { "(top \(top), bottom \(bottom), left \(left), right \(right))" }
}

extension Tensor {
    /// An NCHW tensor with zeros around each image (torch's `F.pad(x, (left, right, top, bottom))`).
    public func zeroPadded(_ p: Padding2D) -> Tensor {
        precondition(rank == 4, "zeroPadded expects an NCHW tensor, got \(Shape.describe(shape))")
        if p.isZero { return self }
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h + p.top + p.bottom, w + p.left + p.right)
        var out = [Float](repeating: 0, count: planes * oh * ow)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for plane in 0..<planes {
                    for row in 0..<h {
                        let src = (plane * h + row) * w, dst = (plane * oh + row + p.top) * ow + p.left
                        for col in 0..<w { o[dst + col] = x[src + col] }
                    }
                }
            }
        }
        let n = count
        return Tensor(shape: [shape[0], shape[1], oh, ow], data: out, op: "pad", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: n)
            for plane in 0..<planes {
                for row in 0..<h {
                    let dst = (plane * h + row) * w, src = (plane * oh + row + p.top) * ow + p.left
                    for col in 0..<w { gx[dst + col] = g[src + col] }
                }
            }
            self.accumulateGrad(gx)
        }.traced(.pad(p), [self])
    }
}
