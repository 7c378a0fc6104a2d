import TensorCore

/// A network component with explicitly listed tensors and children, keyed by PyTorch names.
///
/// Subclasses override `parameters` (trainable tensors), `buffers` (persistent non-trainable
/// tensors such as BN running statistics) and `children` (sub-modules). No reflection: what a
/// module lists is exactly what it saves, loads and trains, under those keys.
open class Module {
    public init() {}

    /// Own trainable tensors under their PyTorch names ("weight", "bias").
    open var parameters: [(String, Tensor)] { [] }
    /// Own persistent non-trainable tensors ("running_mean", "running_var", "num_batches_tracked").
    open var buffers: [(String, Tensor)] { [] }
    /// Sub-modules under their PyTorch names ("conv1", "layer1", "0"). A child named "" is
    /// transparent: its keys are its parent's (a wrapper such as `L2NormalizedOutput` adds no level).
    open var children: [(String, Module)] { [] }

    /// The key prefix of the child `name` under `prefix`.
    static func childPrefix(_ prefix: String, _ name: String) -> String { name.isEmpty ? prefix : prefix + name + "." }

    /// Training mode (batch statistics, dropout) versus evaluation mode.
    public private(set) var isTraining = true

    /// Sets training mode on this module and every descendant.
    public func train(_ mode: Bool = true) {
        isTraining = mode
        for (_, child) in children { child.train(mode) }
    }

    /// Evaluation mode (running statistics, no dropout).
    public func eval() { train(false) }

    /// Every trainable tensor with its dotted key ("layer1.0.conv1.weight"), in PyTorch order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        parameters.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.namedParameters(prefix: Self.childPrefix(prefix, $0.0)) }
    }

    /// Every buffer with its dotted key.
    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        buffers.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.namedBuffers(prefix: Self.childPrefix(prefix, $0.0)) }
    }

    /// Every descendant module with its dotted path ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        [(prefix, self)] + children.flatMap { name, child in
            child.namedModules(prefix: name.isEmpty ? prefix : prefix.isEmpty ? name : prefix + "." + name)
        }
    }

    /// Parameters and buffers in `torch.nn.Module.state_dict()` order: each module's own
    /// parameters, then its buffers, then its children.
    public func stateDict(prefix: String = "") -> [(String, Tensor)] {
        parameters.map { (prefix + $0.0, $0.1) } + buffers.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.stateDict(prefix: Self.childPrefix(prefix, $0.0)) }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Trainable tensors, without keys.
    public var trainableTensors: [Tensor] { namedParameters().map(\.1) }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for (_, p) in namedParameters() { p.zeroGrad() } }
}

/// A module mapping one tensor to one tensor.
open class Layer: Module {
    open func forward(_ x: Tensor) -> Tensor { fatalError("\(type(of: self)) must override forward(_:)") }
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x) }
}
