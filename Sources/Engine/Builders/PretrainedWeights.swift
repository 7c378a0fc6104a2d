import Foundation
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

    /// Loads `path` into `model`; `key` names the config key in errors.
    public static func load(_ path: String, into model: Module, fit: Fit, key: String) throws {
        let isTorch = TorchCheckpoint.fileExtensions.contains(URL(fileURLWithPath: path).pathExtension)
        let url = isTorch ? URL(fileURLWithPath: path) : Checkpoint(path: path).weightsURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EngineError.checkpoint("\(key): no weights at \(url.path)")
        }
        let tensors = isTorch ? try TorchCheckpoint.read(url) : try SafeTensors.read(url).tensors
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
}
