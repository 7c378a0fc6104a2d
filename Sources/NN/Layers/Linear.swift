import TensorCore

/// y = x·Wᵀ + b with weight [out, in] (PyTorch layout; PaddleClas's [in, out] is transposed on import).
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Initializers.torchDefault([outFeatures, inFeatures])
        self.bias = bias ? Initializers.uniform([outFeatures], bound: 1 / Float(inFeatures).squareRoot()) : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    override public var parameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    override public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got input \(x.shape)")
        let flat = x.rank == 2 ? x : x.reshaped([-1, inFeatures])
        var y = matmul(flat, weight, transposeB: true)
        if let bias { y = y + bias }
        return x.rank == 2 ? y : y.reshaped(Array(x.shape.dropLast()) + [outFeatures])
    }
}
