import Datasets
import Foundation
import NN
import TensorCore

extension InferenceModel {
    /// The model of an inference bundle (`magpie export --format bundle`), checked file by file and
    /// against the manifest's fingerprint, so galleries built from the bundle and from the
    /// original config + checkpoint accept each other.
    public convenience init(bundle url: URL) throws {
        let bundle = try InferenceBundle(at: url)
        guard bundle.manifest.kind == .retrieval else {
            throw EngineError.config("bundle \(url.path): a classifier bundle has no embeddings; use it with `magpie predict --bundle`")
        }
        try self.init(config: bundle.config(), weights: bundle.weightsURL.path)
        try bundle.checkRebuilt(fingerprint: fingerprint)
    }

    /// What `embed` computes as one layer (for ONNX export): the model itself, which owns its
    /// normalisation.
    public var embeddingLayer: Layer { model }

    /// [C, H, W] of the preprocessed images (the eval transforms applied to a probe image).
    public func inputShape() throws -> [Int] { try InferenceModel.inputShape(of: transform) }

    static func inputShape(of transform: TransformChain) throws -> [Int] {
        let side = 256
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 7) }
        let bytes = try JPEGEncoder.encode(Image(width: side, height: side, channels: 3, pixels: pixels), quality: 90)
        var rng = RNG(seed: 0)
        switch try transform.apply(.encoded(bytes, source: "probe"), rng: &rng) {
        case let .floats(f): let chw = f.toCHW(); return [chw.channels, chw.height, chw.width]
        case let .image(image): return [image.channels, image.height, image.width]
        case .encoded: throw EngineError.config("the preprocessing leaves encoded bytes; start it with DecodeImage")
        }
    }
}
