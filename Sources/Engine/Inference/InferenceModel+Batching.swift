import Datasets
import Foundation
import TensorCore

/// Preprocessing and the model run as separate steps, so a service can decode each request on
/// its own (one bad image fails only its request) and run the model once for many requests.
extension InferenceModel {
    /// Decodes and transforms one encoded image (JPEG/PNG bytes) into a `[1, C, H, W]` tensor.
    /// Throws `DatasetsError.badImage` for bytes that are not a decodable image.
    public func preprocess(encoded bytes: [UInt8], source: String) throws -> Tensor {
        var rng = RNG(seed: 0)
        let out = try transform.apply(.encoded(bytes, source: source), rng: &rng)
        guard case let .floats(f) = out, f.layout == .chw else {
            throw EngineError.data("\(source): the eval transforms must end with ToTensor/ToCHWImage")
        }
        return Tensor(shape: [1, f.channels, f.height, f.width], data: f.values)
    }

    /// Embeds preprocessed `[1, C, H, W]` images in one model run. The images must share one size
    /// (the eval transforms fix it).
    public func embed(preprocessed images: [Tensor]) throws -> Tensor {
        guard let first = images.first else { return Tensor.zeros([0, embeddingSize]) }
        for t in images where t.shape != first.shape {
            throw EngineError.data("images of shapes \(first.shape) and \(t.shape) cannot share a batch; end the eval transforms with a fixed-size crop")
        }
        return compiled(images.count == 1 ? first : concat(images, axis: 0))
    }

    /// Compiles the inference graphs for every batch size from 1 to `maxBatch` (at most
    /// `CompiledForward.wholeBatches`) now, so that no later request waits for a compile (a
    /// service does this before it listens). Returns the batch sizes and the seconds it took.
    public func prepare(maxBatch: Int) throws -> (batches: [Int], seconds: Double) {
        let shape = try InferenceModel.inputShape(of: transform)
        let start = DispatchTime.now().uptimeNanoseconds
        let batches = Array(1...Swift.max(1, Swift.min(maxBatch, CompiledForward.wholeBatches)))
        for n in batches { _ = compiled(Tensor.zeros([n] + shape)) }
        return (Array(batches), Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// A model from a Magpie checkpoint alone: the merged config the trainer stored in the
    /// weights' metadata gives the architecture and the eval preprocessing.
    public static func fromCheckpoint(_ path: String) throws -> InferenceModel {
        let url = Checkpoint(path: path).weightsURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EngineError.checkpoint("no checkpoint weights at \(url.path)")
        }
        let file = try SafeTensors.read(url)
        guard let yaml = file.metadata["config"], !yaml.isEmpty else {
            throw EngineError.checkpoint("\(url.path) carries no config in its metadata (not written by `magpie train`); pass the config with -c")
        }
        return try InferenceModel(config: try Config(yaml: yaml, path: url.path + " (embedded config)"), weights: path)
    }
}
