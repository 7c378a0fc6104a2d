import NN

/// Builds metric learning's `Loss.Train` entry: one of ContrastiveLoss, MultiSimilarityLoss or
/// TripletLoss, each with an `_XBM` form that adds the cross-batch memory (xbm_size, xbm_weight,
/// start_iter, xbm_mode).
enum MetricLossBuilder {
    struct Built {
        let loss: XBMLoss
        /// The config name, e.g. `ContrastiveLoss_XBM`.
        let name: String
        /// The log key of the batch term, e.g. `contrastive_loss`.
        let batchKey: String
        let usesMemory: Bool
    }

    static let baseNames = ["ContrastiveLoss", "MultiSimilarityLoss", "TripletLoss"]
    static let names = baseNames.flatMap { [$0, $0 + "_XBM"] }

    static func build(_ config: Config, embeddingSize dim: Int) throws -> Built {
        let section = config.section("Loss")
        let losses = try section.namedList("Train")
        section.ignore("Eval")
        guard losses.count == 1, let (name, p) = losses.first, names.contains(name) else {
            throw ConfigError.invalidValue(path: config.path, key: "Loss.Train",
                                           reason: "metric learning takes one of \(names.joined(separator: ", ")), got \(losses.map(\.name))")
        }
        _ = try p.float("weight"); _ = try p.int("embedding_size"); _ = try p.string("feature_from")
        _ = try p.bool("normalize_feature")
        let base = name.hasSuffix("_XBM") ? String(name.dropLast(4)) : name
        let epsilon = try p.float("epsilon", default: 1e-5)
        let pairLoss: any MetricLoss
        let key: String
        switch base {
        case "MultiSimilarityLoss":
            pairLoss = MultiSimilarityLoss(scalePositive: try p.float("scale_pos", default: 2), scaleNegative: try p.float("scale_neg", default: 40),
                                           threshold: try p.float("thresh", default: 0.5), margin: try p.float("margin", default: 0.1), epsilon: epsilon)
            key = "ms_loss"
        case "TripletLoss":
            pairLoss = TripletLoss(margin: try p.float("margin", default: 0.1), epsilon: epsilon)
            key = "triplet_loss"
        default:
            pairLoss = ContrastiveLoss(margin: try p.float("margin", default: 0.5), epsilon: epsilon)
            key = "contrastive_loss"
        }
        guard name.hasSuffix("_XBM") else {
            let unused = XBMLoss(loss: pairLoss, memory: CrossBatchMemory(capacity: 1, dimension: dim), weight: 0, startIteration: Int.max)
            return Built(loss: unused, name: name, batchKey: key, usesMemory: false)
        }
        let memory = CrossBatchMemory(capacity: try p.int("xbm_size", default: 55_000), dimension: dim,
                                      mode: CrossBatchMemory.Mode(rawValue: try p.choice("xbm_mode", ["reference", "ring"], default: "reference"))!)
        let loss = XBMLoss(loss: pairLoss, memory: memory, weight: try p.float("xbm_weight", default: 1),
                           startIteration: try p.int("start_iter", default: 1000))
        return Built(loss: loss, name: name, batchKey: key, usesMemory: true)
    }
}
