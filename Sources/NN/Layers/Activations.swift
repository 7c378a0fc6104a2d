import TensorCore

/// Pointwise activations by name, as layers (for Sequential) and as a value (for configurable blocks).
public enum Activation: String, Sendable, CaseIterable {
    case identity, relu, relu6, leakyRelu = "leaky_relu", sigmoid, tanh, hardSwish = "hardswish",
         hardSigmoid = "hardsigmoid", hardSigmoidPaddle = "hardsigmoid_paddle"

    /// The same activation as a kernel can fuse it (identity, ReLU, leaky ReLU with slope ≥ 0), else nil.
    public func fused(slope: Float = 0.01) -> FusedActivation? {
        switch self {
        case .identity: return .identity
        case .relu: return .relu
        case .leakyRelu: return slope >= 0 ? .leakyRelu(slope) : nil
        default: return nil
        }
    }

    /// Applies the activation (`leakyRelu` uses `slope`).
    public func apply(_ x: Tensor, slope: Float = 0.01) -> Tensor {
        switch self {
        case .identity: return x
        case .relu: return x.relu()
        case .relu6: return x.relu6()
        case .leakyRelu: return x.leakyRelu(slope)
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .hardSwish: return x.hardSwish()
        case .hardSigmoid: return x.hardSigmoid()
        case .hardSigmoidPaddle: return x.hardSigmoid(slope: 0.2, offset: 0.5)
        }
    }
}

/// An activation as a layer.
public final class ActivationLayer: Layer {
    public let kind: Activation
    public let slope: Float
    public init(_ kind: Activation, slope: Float = 0.01) { self.kind = kind; self.slope = slope }
    override public func forward(_ x: Tensor) -> Tensor { kind.apply(x, slope: slope) }
}

public final class Identity: Layer {
    override public init() {}
    override public func forward(_ x: Tensor) -> Tensor { x }
}

/// Collapses all dimensions from `startAxis` on (torch.nn.Flatten).
public final class Flatten: Layer {
    public let startAxis: Int
    public init(startAxis: Int = 1) { self.startAxis = startAxis }
    override public func forward(_ x: Tensor) -> Tensor { x.flattened(startAxis: startAxis) }
}
