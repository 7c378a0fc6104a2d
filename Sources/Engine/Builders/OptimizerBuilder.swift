import NN
import TensorCore

/// `Optimizer` section → optimizer + learning-rate schedule (PaddleClas names).
///
///     Optimizer:
///       name: Momentum | SGD | Adam | AdamW | RMSProp
///       momentum: 0.9
///       use_nesterov: False
///       no_weight_decay_name: "bn bias"        # parameters whose key contains any word skip decay
///       one_dim_param_no_weight_decay: False   # 1-D tensors (BN, biases) skip decay
///       lr: {name: Cosine | Piecewise | Constant | ReduceOnPlateau | FixMatchCosine, learning_rate, warmup_epoch, …}
///       regularizer: {name: L2, coeff: 0.0005}
public enum OptimizerBuilder {
    public struct Built {
        public let optimizer: Optimizer
        /// Step-wise schedule; nil for ReduceOnPlateau, which the trainer steps per evaluation.
        public let schedule: (any LRSchedule)?
        public let plateau: ReduceOnPlateau?
    }

    public static func build(_ config: Config, parameters: [(String, Tensor)], stepsPerEpoch: Int, epochs: Int) throws -> Built {
        let s = config.section("Optimizer")
        let name = try s.choice("name", ["Momentum", "SGD", "Adam", "AdamW", "RMSProp"], default: "Momentum")
        let reg = try s.section("regularizer")
        _ = try reg.choice("name", ["L2"], default: "L2")
        var decay = try reg.float("coeff", default: 0)
        if let wd = try s.float("weight_decay") { decay = wd }
        let exemptWords = try s.string("no_weight_decay_name", default: "").split(separator: " ").map(String.init)
        let exemptOneDim = try s.bool("one_dim_param_no_weight_decay", default: false)
        let decayed = parameters.filter { k, p in !(exemptOneDim && p.rank <= 1) && !exemptWords.contains { k.contains($0) } }
        let exempt = parameters.filter { k, _ in !decayed.contains { $0.0 == k } }
        let groups = [ParameterGroup(decayed, weightDecay: decay), ParameterGroup(exempt, weightDecay: 0)]

        let lr = try s.section("lr")
        let lrName = try lr.choice("name", ["Cosine", "Piecewise", "Constant", "ReduceOnPlateau", "FixMatchCosine"], default: "Constant")
        let base = try lr.float("learning_rate", default: 0.1)
        let optimizer: Optimizer
        switch name {
        case "Momentum", "SGD":
            optimizer = SGD(groups: groups, learningRate: base, momentum: try s.float("momentum", default: name == "SGD" ? 0 : 0.9),
                            nesterov: try s.bool("use_nesterov", default: false))
        case "Adam", "AdamW":
            optimizer = Adam(groups: groups, learningRate: base, beta1: try s.float("beta1", default: 0.9),
                             beta2: try s.float("beta2", default: 0.999), eps: try s.float("epsilon", default: 1e-8),
                             decoupled: name == "AdamW")
        default:
            optimizer = RMSProp(groups: groups, learningRate: base, alpha: try s.float("rho", default: 0.95),
                                eps: try s.float("epsilon", default: 1e-6), momentum: try s.float("momentum", default: 0))
        }
        let total = stepsPerEpoch * epochs
        let warmup = try lr.int("warmup_epoch", default: 0) * stepsPerEpoch
        let warmupStart = try lr.float("warmup_start_lr", default: 0)
        var schedule: (any LRSchedule)?
        var plateau: ReduceOnPlateau?
        switch lrName {
        case "Cosine":
            schedule = CosineSchedule(base: base, totalSteps: max(total - warmup, 1), minimum: try lr.float("eta_min", default: 0))
        case "FixMatchCosine":
            schedule = FixMatchCosineSchedule(base: base, totalSteps: try lr.int("total_steps", default: max(total, 1)))
        case "Piecewise":
            let boundaries = try lr.ints("decay_epochs") ?? []
            let values = try lr.doubles("values")?.map(Float.init) ?? []
            guard values.count == boundaries.count + 1 else {
                throw ConfigError.invalidValue(path: config.path, key: "Optimizer.lr.values",
                                               reason: "needs one more value than decay_epochs (\(boundaries.count))")
            }
            schedule = PiecewiseSchedule(boundaries: boundaries.map { $0 * stepsPerEpoch }, values: values)
        case "ReduceOnPlateau":
            plateau = ReduceOnPlateau(base: base, mode: ReduceOnPlateau.Mode(rawValue: try lr.choice("mode", ["max", "min"], default: "max"))!,
                                      factor: try lr.float("factor", default: 0.1), patience: try lr.int("patience", default: 10),
                                      threshold: try lr.double("threshold", default: 1e-4), cooldown: try lr.int("cooldown", default: 0),
                                      minimum: try lr.float("min_lr", default: 0), eps: try lr.float("epsilon", default: 1e-8))
            _ = try lr.choice("threshold_mode", ["rel"], default: "rel")
            _ = try lr.bool("by_epoch")
        default:
            schedule = ConstantSchedule(base)
        }
        if warmup > 0, let inner = schedule { schedule = LinearWarmup(inner, warmupSteps: warmup, startLR: warmupStart) }
        return Built(optimizer: optimizer, schedule: schedule, plateau: plateau)
    }
}
