import Foundation
import Models
import NN

/// `Arch` section → model. `name: RecModel` builds backbone + neck (retrieval); any zoo name
/// builds that classifier with `class_num`.
public enum ModelBuilder {
    public struct Built {
        public let model: Layer
        public let arch: String
        /// Input side the architecture expects by default.
        public let inputSize: Int
        /// Width of a `RecModel`'s embeddings (nil for classifiers).
        public var embeddingSize: Int? {
            let core = (model as? L2NormalizedOutput)?.inner ?? model
            return (core as? RecModel)?.embeddingSize
        }
    }

    /// The embedding model of a retrieval config: `build`, then L2 normalisation of its output
    /// when `Global.feature_normalize` (default true). The one place that key is read; training,
    /// evaluation, inference, bundles and ONNX export all run the model this returns.
    public static func buildEmbedding(_ config: Config) throws -> Built {
        let built = try build(config)
        guard try config.section("Global").bool("feature_normalize", default: true) else { return built }
        return Built(model: L2NormalizedOutput(built.model), arch: built.arch, inputSize: built.inputSize)
    }

    public static func build(_ config: Config) throws -> Built {
        let arch = config.section("Arch")
        let name = try arch.requiredString("name")
        if name == "RecModel" {
            let backbone = try arch.section("Backbone")
            var backboneName = try backbone.requiredString("name")
            var options = try modelOptions(backbone, classNum: 0)
            // PaddleClas's XBM backbone is a registered variant: ResNet50 with global max pooling.
            if backboneName.hasSuffix("_adaptive_max_pool2d") {
                backboneName = String(backboneName.dropLast("_adaptive_max_pool2d".count))
                options.pooling = .max
            }
            options.classNum = 0
            try rejectWideResNetOnlyKeys(backbone, family: try ModelRegistry.entry(backboneName).family)
            _ = try backbone.bool("pretrained")
            _ = try arch.section("BackboneStopLayer").string("name")
            let neck = try arch.section("Neck")
            var embedding: Int?
            if neck.exists {
                let neckName = try neck.string("name", default: "FC")
                guard neckName == "FC" else {
                    throw ConfigError.invalidValue(path: config.path, key: "Arch.Neck.name", reason: "must be FC (the only neck so far), got '\(neckName)'")
                }
                _ = try neck.int("embedding_size")
                embedding = try neck.int("class_num")
            }
            _ = try arch.string("infer_output_key")  // PaddleClas: "features"
            let model = try RecModel(backbone: backboneName, options: options, embeddingSize: embedding)
            return Built(model: model, arch: "RecModel", inputSize: try ModelRegistry.entry(backboneName).inputSize)
        }
        let entry = try ModelRegistry.entry(name)
        let options = try modelOptions(arch, classNum: entry.defaultClassNum)
        try rejectWideResNetOnlyKeys(arch, family: entry.family)
        _ = try arch.bool("pretrained")
        return Built(model: try entry.make(options), arch: name, inputSize: entry.inputSize)
    }

    /// PaddleClas backbone keys → `ModelOptions`.
    static func modelOptions(_ s: ConfigSection, classNum: Int) throws -> ModelOptions {
        var o = ModelOptions(classNum: try s.int("class_num", default: classNum))
        if s.has("stem_act") {
            let act = try s.string("stem_act")!
            guard let a = Activation(rawValue: act) else {
                throw ConfigError.invalidValue(path: s.config.path, key: s.full("stem_act"), reason: "unknown activation '\(act)'")
            }
            o.stemAct = a
        } else if s.exists, case .null? = s.value?["stem_act"] {
            o.stemAct = nil
        }
        let pool = try s.choice("pooling", ["avg", "max"], default: "avg")
        o.pooling = GlobalPooling(rawValue: pool)!
        o.useFirstShortConv = try s.bool("use_first_short_conv")
        o.dropout = try s.float("dropout")
        o.bnMomentum = try bnMomentum(s)
        if let faithful = try s.bool("faithful") { o.faithfulWideResNet = faithful }
        return o
    }

    /// `faithful` chooses between two WideResNet block wirings; elsewhere it would be ignored.
    static func rejectWideResNetOnlyKeys(_ s: ConfigSection, family: String) throws {
        guard s.has("faithful"), family != "WideResNet" else { return }
        throw ConfigError.invalidValue(path: s.config.path, key: s.full("faithful"),
                                       reason: "applies only to WideResNet models, not \(family); remove it")
    }

    /// `Arch.bn_momentum` in (0, 1], PyTorch's convention (the new batch's weight).
    static func bnMomentum(_ arch: ConfigSection) throws -> Float? {
        guard let m = try arch.float("bn_momentum") else { return nil }
        guard m > 0, m <= 1 else {
            throw ConfigError.invalidValue(path: arch.config.path, key: arch.full("bn_momentum"),
                                           reason: "must be in (0, 1] (PyTorch's convention: the new batch's weight), got \(m)")
        }
        return m
    }
}
