import TensorCore

/// RMSProp (PyTorch semantics, no centring): s ← α·s + (1−α)·g²; θ ← θ − lr·g/(√s + eps), with momentum optional.
public final class RMSProp: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let alpha: Float, eps: Float, momentum: Float
    let state = OptimizerState()

    public init(groups: [ParameterGroup], learningRate: Float = 0.01, alpha: Float = 0.99, eps: Float = 1e-8, momentum: Float = 0) {
        self.groups = groups
        self.learningRate = learningRate
        self.alpha = alpha; self.eps = eps; self.momentum = momentum
    }

    public func step() {
        state.step += 1
        for group in groups {
            let lr = learningRate * group.lrScale, wd = group.weightDecay
            for (key, p) in group.parameters {
                guard let grad = p.grad else { continue }
                let n = p.count
                var s = state.slot(key + ".square_avg", count: n)
                var b = momentum > 0 ? state.slot(key + ".momentum_buffer", count: n) : []
                for i in 0..<n {
                    let g = grad[i] + wd * p.data[i]
                    s[i] = alpha * s[i] + (1 - alpha) * g * g
                    let update = g / (s[i].squareRoot() + eps)
                    if momentum > 0 {
                        b[i] = momentum * b[i] + update
                        p.data[i] -= lr * b[i]
                    } else {
                        p.data[i] -= lr * update
                    }
                }
                state.set(key + ".square_avg", s)
                if momentum > 0 { state.set(key + ".momentum_buffer", b) }
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.export(shapes: groups.shapesByKey) }

    public func load(stateDict: [String: Tensor]) throws {
        try state.restore(stateDict, counts: groups.countsByKey, slotNames: ["square_avg", "momentum_buffer"])
    }
}
