import TensorCore

/// 2-D convolution with weight [out, in/groups, kh, kw] (OIHW) and optional bias.
public final class Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Size2
    public let padding: Size2
    public let dilation: Size2
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Size2, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: \(inChannels)→\(outChannels) channels do not split into \(groups) groups")
        let shape = [outChannels, inChannels / groups, kernel.h, kernel.w]
        weight = Initializers.torchDefault(shape)
        self.bias = bias ? Initializers.uniform([outChannels], bound: 1 / Float(Initializers.fans(shape).in).squareRoot()) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public var inChannels: Int { weight.shape[1] * groups }
    public var outChannels: Int { weight.shape[0] }
    public var kernel: Size2 { Size2(weight.shape[2], weight.shape[3]) }

    override public var parameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    override public func forward(_ x: Tensor) -> Tensor {
        conv2d(x, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
