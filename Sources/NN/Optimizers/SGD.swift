import TensorCore

/// Stochastic gradient descent with momentum, Nesterov and L2 weight decay, PyTorch semantics
/// (PaddleClas `Momentum` with `L2Decay` is the same update):
/// g ← ∇ + wd·θ;  v ← μ·v + g (v = g on the first step);  θ ← θ − lr·(nesterov ? g + μ·v : v).
public final class SGD: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    let state = OptimizerState()

    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func step() {
        state.step += 1
        for group in groups {
            let lr = learningRate * group.lrScale, wd = group.weightDecay
            for (key, p) in group.parameters {
                guard let grad = p.grad else { continue }
                let n = p.count
                var v = momentum > 0 ? state.slot(key + ".momentum_buffer", count: n) : []
                let first = !state.has(key + ".momentum_buffer")
                p.data.withUnsafeMutableBufferPointer { theta in
                    v.withUnsafeMutableBufferPointer { buf in
                        for i in 0..<n {
                            let g = grad[i] + wd * theta[i]
                            if momentum == 0 { theta[i] -= lr * g; continue }
                            buf[i] = first ? g : momentum * buf[i] + g
                            theta[i] -= lr * (nesterov ? g + momentum * buf[i] : buf[i])
                        }
                    }
                }
                if momentum > 0 { state.set(key + ".momentum_buffer", v) }
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.export(shapes: groups.shapesByKey) }

    public func load(stateDict: [String: Tensor]) throws {
        try state.restore(stateDict, counts: groups.countsByKey, slotNames: ["momentum_buffer"])
    }
}
