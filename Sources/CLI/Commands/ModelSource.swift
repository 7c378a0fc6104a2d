import ArgumentParser
import Engine
import Foundation
import Models
import NN
import TensorCore

/// Which model a command works on: a registry architecture plus optional weights (`export` also
/// takes the model of a config instead, see `ExportCommand`).
struct ModelSource: ParsableArguments {
    @Option(help: "Registry name of the architecture (see `magpie models`); here not a checkpoint (that is --weights).")
    var model: String?

    @Option(name: .customLong("class_num"), help: "Classifier outputs (0: pooled backbone features, no fc).")
    var classNum: Int?

    @Option(name: .customLong("embedding_size"),
            help: "Append a Linear neck to this many dimensions and L2-normalise (a retrieval model; needs --class_num 0).")
    var embeddingSize: Int?

    @Option(help: "Checkpoint to load: a prefix written by `magpie train` or a .safetensors file (strictly: every key must match).")
    var weights: String?

    @Option(help: "Input height and width in pixels (default: the architecture's, 224 or 32).")
    var size: Int?

    /// A built model in eval mode, with what export needs to know about it.
    struct Loaded {
        let model: Layer
        let name: String
        let inputShape: [Int]
    }

    func load() throws -> Loaded {
        guard let model else { throw ValidationError("give the model: --model NAME (see `magpie models`) or -c CONFIG") }
        let entry = try ModelRegistry.entry(model)
        let side = size ?? entry.inputSize
        guard side > 0 else { throw ValidationError("--size must be positive, got \(side)") }
        let classes = classNum ?? (embeddingSize == nil ? entry.defaultClassNum : 0)
        guard classes >= 0 else { throw ValidationError("--class_num must be 0 or more, got \(classes)") }
        let built: Layer
        if let embeddingSize {
            guard embeddingSize > 0 else { throw ValidationError("--embedding_size must be positive, got \(embeddingSize)") }
            guard classes == 0 else { throw ValidationError("--embedding_size needs a backbone without classifier: add --class_num 0") }
            // The same embedding model `magpie train` writes (keys backbone.*, neck.fc.*), normalised.
            built = L2NormalizedOutput(try RecModel(backbone: model, options: ModelOptions(classNum: 0), embeddingSize: embeddingSize))
        } else {
            built = try entry.make(ModelOptions(classNum: classes))
        }
        if let weights { try PretrainedWeights.load(weights, into: built, fit: .exact, key: "--weights") }
        built.eval()
        return Loaded(model: built, name: model, inputShape: [3, side, side])
    }
}
