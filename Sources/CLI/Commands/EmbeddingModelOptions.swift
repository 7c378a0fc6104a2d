import ArgumentParser
import Engine
import Foundation

/// The embedding model of `query`, `gallery build/add`, `serve` and `export-embeddings`, one set
/// of flags and one loader for all of them: an inference bundle (`--bundle DIR`), or the config's
/// Arch and eval preprocessing with `--weights` (or Global.pretrained_model); without -c, the
/// config that `magpie train` stored in the checkpoint's metadata.
struct EmbeddingModelOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions
    @Option(help: "Checkpoint (prefix written by `magpie train`, or .safetensors) with the trained weights.")
    var weights: String?
    @Option(help: "Inference bundle (`magpie export --format bundle`) instead of -c/--weights.") var bundle: String?

    func load() throws -> InferenceModel {
        if let bundle {
            guard config.config == nil, config.overrides.isEmpty, weights == nil else {
                throw ValidationError("--bundle holds the config and the weights; give --bundle DIR or -c CONFIG [--weights CKPT], not both")
            }
            try config.convolution.apply()
            return try InferenceModel(bundle: URL(fileURLWithPath: bundle))
        }
        if let config = try config.load() {
            let model = try InferenceModel(config: config, weights: weights)
            // The model section is what these commands read: a misspelt key there is an error,
            // as in `magpie train` (transform ops are checked by their registry).
            try config.checkUnknownKeys(sections: ["Arch"])
            return model
        }
        guard let weights else {
            throw ValidationError("give the model: --bundle DIR, -c CONFIG [--weights CHECKPOINT], or --weights CHECKPOINT written by `magpie train`")
        }
        return try InferenceModel.fromCheckpoint(weights)
    }
}
