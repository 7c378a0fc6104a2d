import Foundation
import TensorCore

/// Adam and AdamW (PyTorch semantics). Adam adds weight decay to the gradient (L2);
/// AdamW (`decoupled: true`) shrinks the weights directly: θ ← θ − lr·wd·θ before the Adam step.
public final class Adam: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float
    public let decoupled: Bool
    let state = OptimizerState()

    public init(groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, decoupled: Bool = false) {
        self.groups = groups
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.decoupled = decoupled
    }

    /// AdamW with PyTorch's default decay 0.01 unless the groups say otherwise.
    public static func adamW(groups: [ParameterGroup], learningRate: Float = 1e-3) -> Adam {
        Adam(groups: groups, learningRate: learningRate, decoupled: true)
    }

    public func step() {
        state.step += 1
        let t = Float(state.step)
        let c1 = 1 - Float(pow(Double(beta1), Double(t))), c2 = 1 - Float(pow(Double(beta2), Double(t)))
        for group in groups {
            let lr = learningRate * group.lrScale, wd = group.weightDecay
            for (key, p) in group.parameters {
                guard let grad = p.grad else { continue }
                let n = p.count
                var m = state.slot(key + ".exp_avg", count: n), v = state.slot(key + ".exp_avg_sq", count: n)
                for i in 0..<n {
                    if decoupled { p.data[i] -= lr * wd * p.data[i] }
                    let g = decoupled ? grad[i] : grad[i] + wd * p.data[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * g
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    p.data[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                }
                state.set(key + ".exp_avg", m)
                state.set(key + ".exp_avg_sq", v)
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.export(shapes: groups.shapesByKey) }

    public func load(stateDict: [String: Tensor]) throws {
        try state.restore(stateDict, counts: groups.countsByKey, slotNames: ["exp_avg", "exp_avg_sq"])
    }
}

