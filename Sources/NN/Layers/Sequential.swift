import TensorCore

/// Layers applied in order; children are keyed "0", "1", … as torch.nn.Sequential.
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }
    public convenience init(_ layers: Layer...) { self.init(layers) }

    override public var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }

    public func append(_ layer: Layer) { layers.append(layer) }

    override public func forward(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}
