import TensorCore

/// Parameters that share optimizer settings (PyTorch's param group), e.g. "no weight decay on BN and bias".
public struct ParameterGroup {
    public var parameters: [(String, Tensor)]
    public var weightDecay: Float
    /// Multiplies the optimizer's learning rate for this group (PaddleClas `lr_mult`).
    public var lrScale: Float

    public init(_ parameters: [(String, Tensor)], weightDecay: Float = 0, lrScale: Float = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.lrScale = lrScale
    }

    /// Splits a model's parameters into a decayed group and an undecayed group holding every
    /// 1-D tensor (BN weights/biases, all biases), as FixMatch and PaddleClas configs ask.
    public static func splitDecay(_ parameters: [(String, Tensor)], weightDecay: Float) -> [ParameterGroup] {
        let decayed = parameters.filter { $0.1.rank > 1 }
        let exempt = parameters.filter { $0.1.rank <= 1 }
        return [ParameterGroup(decayed, weightDecay: weightDecay), ParameterGroup(exempt, weightDecay: 0)]
    }
}

/// A gradient-descent rule over parameter groups, with per-parameter state for checkpoints.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    /// Base learning rate; schedules set it before each step.
    var learningRate: Float { get set }
    /// Applies one update from the parameters' current gradients (parameters without a gradient are skipped).
    func step()
    /// Per-parameter state tensors keyed "<param key>.<state name>" (e.g. "fc.weight.momentum_buffer").
    func stateDict() -> [String: Tensor]
    /// Restores state written by `stateDict()`; unknown or mis-shaped entries throw.
    func load(stateDict: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for g in groups { for (_, p) in g.parameters { p.zeroGrad() } } }
}

/// Per-parameter state slots shared by the optimizers ("momentum_buffer", "exp_avg", …).
final class OptimizerState {
    private(set) var slots: [String: [Float]] = [:]
    var step = 0

    func slot(_ key: String, count: Int) -> [Float] { slots[key] ?? [Float](repeating: 0, count: count) }
    func set(_ key: String, _ values: [Float]) { slots[key] = values }
    func has(_ key: String) -> Bool { slots[key] != nil }

    func export(shapes: [String: [Int]]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, values) in slots {
            let param = key.split(separator: ".").dropLast().joined(separator: ".")
            out[key] = Tensor(shape: shapes[param] ?? [values.count], data: values)
        }
        out["step"] = Tensor(scalar: Float(step))
        return out
    }

    func restore(_ source: [String: Tensor], counts: [String: Int], slotNames: [String]) throws {
        var restored: [String: [Float]] = [:]
        for (key, t) in source where key != "step" {
            let parts = key.split(separator: ".")
            let param = parts.dropLast().joined(separator: ".")
            guard let name = parts.last.map(String.init), slotNames.contains(name), let count = counts[param] else {
                throw NNError.invalidArgument("optimizer state has unknown entry '\(key)'")
            }
            guard t.count == count else {
                throw NNError.invalidArgument("optimizer state '\(key)' has \(t.count) values, parameter has \(count)")
            }
            restored[key] = t.data
        }
        slots = restored
        step = Int(source["step"]?.item ?? 0)
    }
}

extension Array where Element == ParameterGroup {
    var shapesByKey: [String: [Int]] {
        var out: [String: [Int]] = [:]
        for g in self { for (k, p) in g.parameters { out[k] = p.shape } }
        return out
    }

    var countsByKey: [String: Int] { shapesByKey.mapValues { Shape.count($0) } }
}
