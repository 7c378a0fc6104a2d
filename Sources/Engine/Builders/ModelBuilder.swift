import Foundation
import Models
import NN

/// `Arch` section → model: the one factory for configs. `name: RecModel` builds backbone + neck
/// (retrieval); `name: WideResNet` with `depth`/`widen_factor` (PaddleClas's FixMatch configs)
/// that network; any zoo name that classifier with `class_num`. (Commands that take an
/// architecture as flags, `export` and `convert`, go to `ModelRegistry` directly.)
public enum ModelBuilder {
    public struct Built {
        public let model: Layer
        public let arch: String
        /// Input side the architecture expects by default.
        public let inputSize: Int
        /// Outputs of a classifier (nil for a `RecModel`).
        public var classNum: Int? = nil
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
            try checkPretrainedPath(backbone)
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
        if name == "WideResNet" { return try wideResNet(arch) }
        let zoo = try zooClassifier(arch, name: name)
        _ = try arch.bool("pretrained")
        return zoo
    }

    /// A zoo classifier from a section with `name`, `class_num` and the zoo options (also a
    /// distillation member's section).
    static func zooClassifier(_ s: ConfigSection, name: String) throws -> Built {
        let entry = try ModelRegistry.entry(name)
        let options = try modelOptions(s, classNum: entry.defaultClassNum)
        try rejectWideResNetOnlyKeys(s, family: entry.family)
        _ = try s.bool("use_ssld"); _ = try s.bool("use_sync_bn")
        return Built(model: try entry.make(options), arch: name, inputSize: entry.inputSize, classNum: options.classNum)
    }

    /// PaddleClas's FixMatch `Arch: {name: WideResNet, depth, widen_factor, num_classes, dropout}`.
    static func wideResNet(_ arch: ConfigSection) throws -> Built {
        let depth = try arch.int("depth", default: 28), widen = try arch.int("widen_factor", default: 2)
        var options = ModelOptions(classNum: try arch.int("num_classes") ?? arch.int("class_num", default: 10))
        options.dropout = try arch.float("dropout")
        options.bnMomentum = try bnMomentum(arch)
        if let faithful = try arch.bool("faithful") { options.faithfulWideResNet = faithful }
        _ = try arch.bool("use_sync_bn"); _ = try arch.bool("pretrained")
        do {
            return Built(model: try WideResNet(depth: depth, widen: widen, options: options), arch: "WideResNet\(depth)_\(widen)",
                         inputSize: 32, classNum: options.classNum)
        } catch {
            throw ConfigError.invalidValue(path: arch.config.path, key: arch.full("depth"), reason: "\(error)")
        }
    }

    /// `pretrained` names weights to load (a checkpoint prefix or .safetensors, loaded by the
    /// trainer through `PretrainedWeights`), or is false/null. True, PaddleClas's download of
    /// ImageNet weights, is refused with what to do instead.
    static func checkPretrainedPath(_ s: ConfigSection) throws {
        switch s.raw("pretrained") {
        case nil, .null?, .bool(false)?, .string?: return
        case .bool(true)?:
            throw ConfigError.invalidValue(path: s.config.path, key: s.full("pretrained"),
                                           reason: "True downloads ImageNet weights in PaddleClas; give a checkpoint path instead (magpie convert imports .pth/.pdparams)")
        case let other?:
            throw ConfigError.wrongType(path: s.config.path, key: s.full("pretrained"), expected: "a weights path or false", found: other.description)
        }
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
