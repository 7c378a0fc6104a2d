import ArgumentParser
import Engine

extension ConfigOptions {
    /// The embedding model of `query`, `gallery add` and `serve`: the config's Arch and eval
    /// preprocessing with `weights` (or Global.pretrained_model); without -c, the config that
    /// `magpie train` stored in the checkpoint's metadata.
    func inferenceModel(weights: String?) throws -> InferenceModel {
        if let config = try load() { return try InferenceModel(config: config, weights: weights) }
        guard let weights else {
            throw ValidationError("give the model: -c CONFIG [--weights CHECKPOINT], or --weights CHECKPOINT written by `magpie train`")
        }
        return try InferenceModel.fromCheckpoint(weights)
    }
}
