import TensorCore

/// Layers applied in order; children are keyed "0", "1", … as torch.nn.Sequential.
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }
    public convenience init(_ layers: Layer...) { self.init(layers) }

    override public var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }

    public func append(_ layer: Layer) { layers.append(layer) }

    /// Runs the layers in order, fusing Conv2d → BatchNorm2d (→ ReLU / leaky ReLU) and
    /// BatchNorm2d → activation runs into one kernel (`BatchNorm.forward(_:after:activation:)`).
    override public func forward(_ x: Tensor) -> Tensor {
        var y = x, i = 0
        while i < layers.count {
            let conv = layers[i] as? Conv2d
            let bnIndex = conv == nil ? i : i + 1
            guard bnIndex < layers.count, let bn = layers[bnIndex] as? BatchNorm2d else {
                y = layers[i](y); i += 1; continue
            }
            var activation = FusedActivation.identity, next = bnIndex + 1
            if next < layers.count, let act = layers[next] as? ActivationLayer, let fused = act.kind.fused(slope: act.slope) {
                activation = fused; next += 1
            }
            y = conv.map { bn.forward(y, after: $0, activation: activation) } ?? bn.forward(y, activation: activation)
            i = next
        }
        return y
    }
}
