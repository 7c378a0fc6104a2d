import Foundation

extension Classifier {
    /// The classifier of an inference bundle (`magpie export --format bundle` of a classification
    /// config): weights, preprocessing, post-process (threshold or top-k) and class names.
    public convenience init(bundle url: URL, topk: Int? = nil, batchSize: Int? = nil) throws {
        let bundle = try InferenceBundle(at: url)
        guard bundle.manifest.kind == .classifier else {
            throw EngineError.config("bundle \(url.path): a retrieval bundle gives embeddings, not classes; use it with query, gallery or serve")
        }
        try self.init(config: bundle.config(), weights: bundle.weightsURL.path, topk: topk,
                      classIDMapFile: bundle.classMapURL?.path, batchSize: batchSize)
        try bundle.checkRebuilt(fingerprint: fingerprint)
    }

    /// [C, H, W] of the preprocessed images.
    public func inputShape() throws -> [Int] { try InferenceModel.inputShape(of: transform) }
}
