import TensorCore

/// Dropout with its own seeded generator; `mode` picks PyTorch's or Paddle's scaling convention.
public final class Dropout: Layer {
    public let p: Float
    public let mode: DropoutMode
    private var rng: RNG

    public init(p: Float = 0.5, mode: DropoutMode = .upscaleInTrain) {
        self.p = p
        self.mode = mode
        rng = Initializers.spawn()
    }

    override public func forward(_ x: Tensor) -> Tensor {
        dropout(x, p: p, training: isTraining, mode: mode, rng: &rng)
    }
}
