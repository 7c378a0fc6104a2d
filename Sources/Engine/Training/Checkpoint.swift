import Foundation
import NN
import TensorCore

/// A training checkpoint in PaddleClas's three-file split: `<name>.safetensors` (model weights,
/// PyTorch keys, merged config and step in the metadata), `<name>.optim.safetensors` (optimizer
/// and loss-memory state) and `<name>.state.json` (epoch, step, best metric, RNG seeds).
/// Each file is written to a temp file and renamed, the state file last, so a crash mid-save
/// leaves the previous checkpoint loadable.
public struct Checkpoint {
    public struct State: Codable, Equatable {
        public var epoch: Int
        public var step: Int
        public var bestMetric: Double?
        public var bestEpoch: Int?
        public var arch: String
        public var format = "magpie-checkpoint"
        public var version = 1

        public init(epoch: Int, step: Int, bestMetric: Double? = nil, bestEpoch: Int? = nil, arch: String) {
            self.epoch = epoch; self.step = step; self.bestMetric = bestMetric; self.bestEpoch = bestEpoch; self.arch = arch
        }
    }

    /// Path prefix without extension (e.g. output/RecModel/latest).
    public let prefix: URL

    public init(prefix: URL) { self.prefix = prefix }
    public init(path: String) {
        var p = path
        for ext in [".safetensors", ".state.json"] where p.hasSuffix(ext) { p.removeLast(ext.count) }
        prefix = URL(fileURLWithPath: p)
    }

    public var weightsURL: URL { prefix.appendingPathExtension("safetensors") }
    public var optimizerURL: URL { URL(fileURLWithPath: prefix.path + ".optim.safetensors") }
    public var stateURL: URL { URL(fileURLWithPath: prefix.path + ".state.json") }

    public func save(model: Module, optimizer: Optimizer?, extraState: [String: Tensor] = [:], state: State, config: String) throws {
        try FileManager.default.createDirectory(at: prefix.deletingLastPathComponent(), withIntermediateDirectories: true)
        try model.saveSafeTensors(to: weightsURL, metadata: [
            "format": state.format, "arch": state.arch, "epoch": String(state.epoch), "step": String(state.step), "config": config,
        ])
        var optim = optimizer?.stateDict() ?? [:]
        for (k, v) in extraState { optim["extra." + k] = v }
        try SafeTensors.write(optim, metadata: ["format": "magpie-optimizer"], to: optimizerURL)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: stateURL, options: .atomic)
    }

    /// Loads weights strictly into `model`; optimizer and extra state when present.
    @discardableResult
    public func load(model: Module, optimizer: Optimizer? = nil) throws -> (state: State?, extra: [String: Tensor]) {
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw EngineError.checkpoint("no checkpoint weights at \(weightsURL.path)")
        }
        do {
            try model.loadSafeTensors(from: weightsURL)
        } catch {
            throw EngineError.checkpoint("\(weightsURL.path): \(error)")
        }
        var extra: [String: Tensor] = [:]
        if FileManager.default.fileExists(atPath: optimizerURL.path) {
            let optim = try SafeTensors.read(optimizerURL).tensors
            let own = optim.filter { !$0.key.hasPrefix("extra.") }
            if let optimizer, !own.isEmpty { try optimizer.load(stateDict: own) }
            for (k, v) in optim where k.hasPrefix("extra.") { extra[String(k.dropFirst(6))] = v }
        }
        var state: State?
        if let data = FileManager.default.contents(atPath: stateURL.path) {
            state = try JSONDecoder().decode(State.self, from: data)
        }
        return (state, extra)
    }
}
