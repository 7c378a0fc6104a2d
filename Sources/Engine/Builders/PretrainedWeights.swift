import Foundation
import Models
import NN
import TensorCore

/// The one loader for weights named in a config (`Global.pretrained_model`, `Arch.pretrained`,
/// `Arch.Backbone.pretrained`, a distillation member's `pretrained`): a Magpie checkpoint prefix,
/// a `.safetensors` file or a PyTorch state dict (`.pth`, `.pt`: read natively, keys as they are),
/// loaded with the fit the key implies.
public enum PretrainedWeights {
    public enum Fit: Sendable {
        /// Every tensor of the model and nothing else (a checkpoint of this very model).
        case exact
        /// Every tensor of the model; extra tensors in the file are ignored (a backbone taken
        /// from a classifier checkpoint).
        case modelTensors
        /// Every tensor except those under `prefix`, which keep their initialisation when
        /// missing or of another shape (fine-tuning a classifier with another number of classes).
        case exceptHead(prefix: String)
    }

    /// The file a weights path names: a PyTorch file as it is, else the checkpoint's .safetensors.
    public static func fileURL(_ path: String) -> URL {
        let url = URL(fileURLWithPath: path)
        return TorchCheckpoint.fileExtensions.contains(url.pathExtension) ? url : Checkpoint(path: path).weightsURL
    }

    /// The tensors of the file `path` names (see `fileURL`): a PyTorch file read natively, else safetensors.
    public static func readTensors(_ path: String) throws -> [String: Tensor] {
        let url = fileURL(path)
        return TorchCheckpoint.fileExtensions.contains(url.pathExtension) ? try TorchCheckpoint.read(url) : try SafeTensors.read(url).tensors
    }

    /// Loads `path` into `model`; `key` names the config key in errors.
    public static func load(_ path: String, into model: Module, fit: Fit, key: String) throws {
        let url = fileURL(path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EngineError.checkpoint("\(key): no weights at \(url.path)")
        }
        let tensors = try readTensors(path)
        let report: LoadReport
        do {
            report = try model.load(stateDict: tensors, strict: { if case .exact = fit { return true } else { return false } }())
        } catch {
            throw EngineError.checkpoint("\(key) \(url.path): \(error)")
        }
        let fits: Bool
        switch fit {
        case .exact, .modelTensors:
            fits = report.missing.filter { !$0.hasSuffix("num_batches_tracked") }.isEmpty && report.mismatched.isEmpty
        case let .exceptHead(prefix):
            fits = report.missing.allSatisfy { $0.hasPrefix(prefix) || $0.hasSuffix("num_batches_tracked") }
                && report.mismatched.allSatisfy { $0.key.hasPrefix(prefix) }
        }
        guard fits else { throw EngineError.checkpoint("\(key) \(url.path) does not fit the model: \(report)") }
    }

    /// Loads a RecModel config's `Arch.Backbone.pretrained` into the backbone (its tensors only:
    /// a classifier's `fc` in the file is ignored) and returns the path, or nil when the config
    /// names none. Training starts from it; inference without other weights embeds with it
    /// (a zero-shot gallery).
    @discardableResult
    public static func loadBackbone(_ config: Config, into model: Layer) throws -> String? {
        let core = (model as? L2NormalizedOutput)?.inner ?? model
        guard let rec = core as? RecModel, case let .string(path)? = try config.section("Arch").section("Backbone").raw("pretrained") else {
            return nil
        }
        try load(path, into: rec.backbone, fit: .modelTensors, key: "Arch.Backbone.pretrained")
        return path
    }
}
