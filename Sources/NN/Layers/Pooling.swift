import TensorCore

public final class MaxPool2d: Layer {
    public let kernel: Size2, stride: Size2, padding: Size2, dilation: Size2, ceilMode: Bool
    public init(kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1, ceilMode: Bool = false) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
        self.dilation = dilation; self.ceilMode = ceilMode
    }
    override public func forward(_ x: Tensor) -> Tensor {
        maxPool2d(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

public final class AvgPool2d: Layer {
    public let kernel: Size2, stride: Size2, padding: Size2, ceilMode: Bool, countIncludePad: Bool
    public init(kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }
    override public func forward(_ x: Tensor) -> Tensor {
        avgPool2d(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

public final class AdaptiveAvgPool2d: Layer {
    public let outputSize: Size2
    public init(_ outputSize: Size2 = 1) { self.outputSize = outputSize }
    override public func forward(_ x: Tensor) -> Tensor { adaptiveAvgPool2d(x, outputSize: outputSize) }
}

public final class AdaptiveMaxPool2d: Layer {
    public let outputSize: Size2
    public init(_ outputSize: Size2 = 1) { self.outputSize = outputSize }
    override public func forward(_ x: Tensor) -> Tensor { adaptiveMaxPool2d(x, outputSize: outputSize) }
}
