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
    /// Whether the model L2-normalises its output (`Global.feature_normalize`).
    public var normalize: Bool { model is L2NormalizedOutput }
    public let fingerprint: String
    public let embeddingSize: Int
    /// Where the weights came from.
    public let weightsPath: String?
    /// The eval `transform_ops` (as YAML) and `Global.feature_normalize`: what a gallery's manifest
    /// records so that exports can say how to embed queries for it.
    public let preprocessing: String
    /// The eval forward pass through compiled inference graphs (see `CompiledForward`).
    let compiled: CompiledForward

    /// Builds from a config; `weights` overrides `Global.pretrained_model`.
    public init(config: Config, weights: String? = nil) throws {
        let built = try ModelBuilder.buildEmbedding(config)
        let model = built.model
        self.model = model
        arch = built.arch
        let global = config.section("Global")
        let normalize = model is L2NormalizedOutput
        if let path = try weights ?? global.string("pretrained_model") {
            try PretrainedWeights.load(path, into: model, fit: .exact, key: weights == nil ? "Global.pretrained_model" : "--weights")
            weightsPath = PretrainedWeights.fileURL(path).path
        } else {
            // No trained weights: embed with the pretrained backbone alone (zero-shot), if any.
            weightsPath = try PretrainedWeights.loadBackbone(config, into: model)
        }
        model.eval()
        let transforms = try InferenceModel.evalTransforms(config)
        transform = transforms.chain
        preprocessing = "transform_ops:\n" + transforms.description + "feature_normalize: \(normalize)"
        let probe = withNoGrad { model(Tensor.zeros([1, 3, built.inputSize, built.inputSize])) }
        embeddingSize = probe.shape[1]
        fingerprint = InferenceModel.fingerprint(model: model, preprocessing: preprocessing)
        compiled = CompiledForward.forModel(model)
    }

    /// The eval loader whose dataset (and `transform_ops`) embeds images: `DataLoader.Eval.Gallery`
    /// when the config has one (query/gallery split), else `DataLoader.Eval`. The one place this
    /// choice is made: the trainer's periodic eval, `magpie eval -c`, every inference command and
    /// the bundle writer go through it.
    public static func evalLoader(_ config: Config) throws -> ConfigSection {
        let evalSection = try config.section("DataLoader").section("Eval")
        let gallery = try evalSection.section("Gallery")
        if gallery.exists { evalSection.ignore("Query") }  // the query split is read by its own commands
        return gallery.exists ? gallery : evalSection
    }

    /// The dataset of `evalLoader`.
    static func evalDataset(_ config: Config) throws -> ConfigSection {
        let dataset = try evalLoader(config).section("dataset")
        guard dataset.exists else {
            throw EngineError.config("\(config.path): DataLoader.Eval needs a dataset with transform_ops (the preprocessing used for embedding)")
        }
        return dataset
    }

    /// The eval transforms and their `transform_ops` as YAML. Only the ops count for the
    /// fingerprint: batch sizes, workers and data paths of `DataLoader.Eval` do not change embeddings.
    static func evalTransforms(_ config: Config) throws -> (chain: TransformChain, description: String) {
        let dataset = try evalDataset(config)
        return (try DataBuilder.transforms(dataset), evalTransformOps(config)?.yaml ?? "")
    }

    /// The `transform_ops` node of that eval dataset, as written in the config.
    static func evalTransformOps(_ config: Config) -> ConfigNode? {
        (try? evalDataset(config))?.node("transform_ops")
    }

    /// Embeds encoded images (JPEG/PNG bytes).
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
        return compiled(concat(tensors, axis: 0))
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
