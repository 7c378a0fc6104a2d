import TensorCore

/// Exponential moving average of a model's weights: ema ← decay·ema + (1−decay)·θ after each
/// step; buffers (BN statistics) are copied, as FixMatch's reference implementation does.
/// The average lives in a second model of the same architecture, used for evaluation.
public final class ModelEMA {
    public let model: Module
    public let shadow: Module
    public var decay: Float

    /// `shadow` must be a freshly built model of the same architecture; it starts as a copy of `model`.
    public init(model: Module, shadow: Module, decay: Float) throws {
        self.model = model
        self.shadow = shadow
        self.decay = decay
        try shadow.load(stateDict: Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, $0.1) }))
        for (_, p) in shadow.namedParameters() { p.requiresGrad = false }
        shadow.eval()
    }

    public func update() {
        let source = model.namedParameters(), target = shadow.namedParameters()
        for ((_, p), (_, e)) in zip(source, target) {
            let d = decay
            e.data.withUnsafeMutableBufferPointer { ev in
                p.data.withUnsafeBufferPointer { pv in
                    for i in 0..<ev.count { ev[i] = d * ev[i] + (1 - d) * pv[i] }
                }
            }
        }
        for ((_, b), (_, e)) in zip(model.namedBuffers(), shadow.namedBuffers()) { e.data = b.data }
    }
}
