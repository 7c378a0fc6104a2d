/// Lowers the learning rate when a watched metric stops improving (PyTorch ReduceLROnPlateau,
/// PaddleClas `ReduceOnPlateau`): after `patience` evaluations without a relative improvement
/// of `threshold`, lr ← max(lr·factor, minimum), then `cooldown` evaluations are ignored.
public final class ReduceOnPlateau {
    public enum Mode: String, Sendable { case min, max }

    public let mode: Mode
    public let factor: Float, threshold: Double, minimum: Float, eps: Float
    public let patience: Int, cooldown: Int
    public private(set) var current: Float
    private var best: Double?
    private var badEpochs = 0
    private var cooldownLeft = 0

    public init(base: Float, mode: Mode = .max, factor: Float = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                cooldown: Int = 0, minimum: Float = 0, eps: Float = 1e-8) {
        current = base
        self.mode = mode; self.factor = factor; self.patience = patience; self.threshold = threshold
        self.cooldown = cooldown; self.minimum = minimum; self.eps = eps
    }

    /// Feeds one evaluation; returns the learning rate to use from now on.
    @discardableResult
    public func step(metric: Double) -> Float {
        let improved: Bool
        if let best {
            improved = mode == .max ? metric > best * (1 + threshold) : metric < best * (1 - threshold)
        } else {
            improved = true
        }
        if improved { best = metric; badEpochs = 0 } else { badEpochs += 1 }
        if cooldownLeft > 0 { cooldownLeft -= 1; badEpochs = 0 }
        if badEpochs > patience {
            let reduced = max(current * factor, minimum)
            if current - reduced > eps { current = reduced }
            cooldownLeft = cooldown
            badEpochs = 0
        }
        return current
    }
}
