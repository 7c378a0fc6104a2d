import NN
import TensorCore

/// PaddleClas's `FC` neck: one Linear from the backbone's pooled features to the embedding
/// (key `fc`). XBM initialises it kaiming-normal with fan = embedding size (std √(2/128)) and bias 0.
public final class FCNeck: Layer {
    public let fc: Linear

    public init(inFeatures: Int, embeddingSize: Int) {
        fc = Linear(inFeatures, embeddingSize)
        fc.weight.data = Initializers.normal(fc.weight.shape, std: (2 / Float(embeddingSize)).squareRoot()).data
        fc.bias?.data = [Float](repeating: 0, count: embeddingSize)
    }

    override public var children: [(String, Module)] { [("fc", fc)] }
    override public func forward(_ x: Tensor) -> Tensor { fc(x) }
}
