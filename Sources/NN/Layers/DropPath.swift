import TensorCore

/// Stochastic depth ("drop connect" in EfficientNet's code): in training, each sample's residual
/// branch is zeroed with probability `p` and the survivors are scaled by 1 / (1 − p); in eval it
/// is the identity. Apply it to the branch before the skip connection adds the input back.
public final class DropPath: Layer {
    public let p: Float
    private var rng: RNG

    public init(p: Float) {
        precondition(p >= 0 && p < 1, "drop-path probability must be in [0, 1), got \(p)")
        self.p = p
        rng = Initializers.spawn()
    }

    override public func forward(_ x: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return x }
        let n = x.shape[0]
        var mask = [Float](repeating: 0, count: n)
        for i in 0..<n { mask[i] = rng.uniform() >= p ? 1 / (1 - p) : 0 }
        return x * Tensor(shape: [n] + Array(repeating: 1, count: x.rank - 1), data: mask)
    }
}
