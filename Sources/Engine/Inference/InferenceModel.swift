import Datasets
import Foundation
import NN
import TensorCore

/// A trained model ready to embed images: architecture from `Arch`, weights from a checkpoint,
/// preprocessing from the eval `transform_ops`, and a fingerprint of both that galleries record
/// so embeddings of different models or preprocessing are never mixed.
public final class InferenceModel: @unchecked Sendable {
    public let model: Layer
    public let arch: String
    public let transform: TransformChain
    public let normalize: Bool
    public let fingerprint: String
    public let embeddingSize: Int
    /// Where the weights came from.
    public let weightsPath: String?
    /// The eval `transform_ops` (as YAML) and `Global.feature_normalize`: what a gallery's manifest
    /// records so that exports can say how to embed queries for it.
    public let preprocessing: String

    /// Builds from a config; `weights` overrides `Global.pretrained_model`.
    public init(config: Config, weights: String? = nil) throws {
        let built = try ModelBuilder.build(config)
        let model = built.model
        self.model = model
        arch = built.arch
        let global = config.section("Global")
        normalize = try global.bool("feature_normalize", default: true)
        let path = try weights ?? global.string("pretrained_model")
        weightsPath = path.map { Checkpoint(path: $0).weightsURL.path }
        if let path { try Checkpoint(path: path).load(model: model) }
        let normalize = self.normalize
        model.eval()
        let transforms = try InferenceModel.evalTransforms(config)
        transform = transforms.chain
        preprocessing = "transform_ops:\n" + transforms.description + "feature_normalize: \(normalize)"
        let probe = withNoGrad { model(Tensor.zeros([1, 3, built.inputSize, built.inputSize])) }
        embeddingSize = probe.shape[1]
        fingerprint = InferenceModel.fingerprint(model: model, preprocessing: preprocessing)
    }

    /// The eval dataset whose `transform_ops` embed images: `DataLoader.Eval.Gallery.dataset`,
    /// else `DataLoader.Eval.dataset` (the one place that choice is made).
    static func evalDataset(_ config: Config) throws -> ConfigSection {
        let evalSection = try config.section("DataLoader").section("Eval")
        let gallery = try evalSection.section("Gallery")
        let dataset = try (gallery.exists ? gallery : evalSection).section("dataset")
        guard dataset.exists else {
            throw EngineError.config("\(config.path): DataLoader.Eval needs a dataset with transform_ops (the preprocessing used for embedding)")
        }
        return dataset
    }

    /// The eval transforms and their `transform_ops` as YAML. Only the ops count for the
    /// fingerprint: batch sizes, workers and data paths of `DataLoader.Eval` do not change embeddings.
    static func evalTransforms(_ config: Config) throws -> (chain: TransformChain, description: String) {
        let dataset = try evalDataset(config)
        return (try DataBuilder.transforms(dataset), evalTransformOps(config.root)?.yaml ?? "")
    }

    /// The `transform_ops` node of that eval dataset, as written in the config.
    static func evalTransformOps(_ root: ConfigNode) -> ConfigNode? {
        root["DataLoader"]?["Eval"].flatMap { $0["Gallery"]?["dataset"] ?? $0["dataset"] }?["transform_ops"]
    }

    /// Embeds encoded images (JPEG/PNG bytes); rows are L2-normalised when the config says so.
    public func embed(encoded images: [(bytes: [UInt8], source: String)]) throws -> Tensor {
        var rng = RNG(seed: 0)
        let tensors: [Tensor] = try images.map { item in
            let out = try transform.apply(.encoded(item.bytes, source: item.source), rng: &rng)
            guard case let .floats(f) = out, f.layout == .chw else {
                throw EngineError.data("\(item.source): the eval transforms must end with ToTensor/ToCHWImage")
            }
            return Tensor(shape: [1, f.channels, f.height, f.width], data: f.values)
        }
        guard !tensors.isEmpty else { return Tensor.zeros([0, embeddingSize]) }
        let batch = concat(tensors, axis: 0)
        return withNoGrad {
            let y = model(batch)
            return normalize ? y.l2Normalized() : y
        }
    }

    /// Embeds image files.
    public func embed(paths: [String]) throws -> Tensor {
        try embed(encoded: paths.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw EngineError.data("\(path): cannot read the image file")
            }
            return ([UInt8](data), path)
        })
    }

    /// FNV-1a 64 over the weights' bytes and the preprocessing description, as 16 hex digits.
    static func fingerprint(model: Module, preprocessing: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for (key, t) in model.stateDict() where !key.hasSuffix("num_batches_tracked") {
            for b in key.utf8 { mix(b) }
            t.data.withUnsafeBytes { for b in $0 { mix(b) } }
        }
        for b in preprocessing.utf8 { mix(b) }
        return String(format: "%016llx", hash)
    }
}
