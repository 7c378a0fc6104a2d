import Foundation
import Models
import TestSupport
import Testing
@testable import Engine
@testable import NN

/// Every `pretrained` key goes through one loader, with the fit its key implies.
@Suite struct PretrainedWeightsTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-pretrained-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A PP-LCNet x0.25 backbone with recognisable weights (i mod 5 · step), saved in `dir`.
    static func donorBackbone(in dir: URL, step: Float) throws -> (model: Layer, file: URL) {
        let donor = try ModelRegistry.entry("PPLCNet_x0_25").make(ModelOptions(classNum: 0))
        for (_, t) in donor.stateDict() { for i in t.data.indices { t.data[i] = Float(i % 5) * step } }
        let file = dir.appendingPathComponent("backbone.safetensors")
        try donor.saveSafeTensors(to: file)
        return (donor, file)
    }

    /// The backbone inside a normalised RecModel holds exactly `donor`'s tensors.
    static func expectBackbone(of model: Layer, equals donor: Layer) throws {
        let rec = try #require((model as? L2NormalizedOutput)?.inner as? RecModel)
        let loaded = Dictionary(uniqueKeysWithValues: rec.backbone.stateDict().map { ($0.0, $0.1.data) })
        for (key, t) in donor.stateDict() { #expect(loaded[key] == t.data, "\(key)") }
    }

    @Test func classifierHeadOfAnotherSizeIsLeftOnlyWhenFineTuning() throws {
        let dir = try Self.folder(); defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("ten.safetensors")
        try ModelRegistry.entry("PPLCNet_x0_25").make(ModelOptions(classNum: 10)).saveSafeTensors(to: file)
        let five = try ModelRegistry.entry("PPLCNet_x0_25").make(ModelOptions(classNum: 5))
        try PretrainedWeights.load(file.path, into: five, fit: .exceptHead(prefix: "fc."), key: "Arch.pretrained")
        #expect(throws: EngineError.self) { try PretrainedWeights.load(file.path, into: five, fit: .exact, key: "Arch.pretrained") }
        #expect(throws: EngineError.self) { try PretrainedWeights.load(dir.path + "/none", into: five, fit: .exact, key: "k") }
    }

    /// `Arch.Backbone.pretrained` reaches the backbone inside the normalised embedding model.
    @Test func backboneWeightsReachTheEmbeddingModel() throws {
        let dir = try Self.folder(); defer { try? FileManager.default.removeItem(at: dir) }
        let (donor, file) = try Self.donorBackbone(in: dir, step: 0.01)
        let config = try Config(yaml: """
        Global:
          feature_normalize: True
        Arch:
          name: RecModel
          Backbone:
            name: PPLCNet_x0_25
            pretrained: \(file.path)
          Neck:
            name: FC
            embedding_size: 1280
            class_num: 8
        """)
        let built = try ModelBuilder.buildEmbedding(config)
        try MetricLearningTrainer.loadPretrained(config, into: built.model)
        try Self.expectBackbone(of: built.model, equals: donor)
    }

    /// Without trained weights, inference embeds with the pretrained backbone alone (a zero-shot
    /// gallery), and says which file it used.
    @Test func inferenceWithoutWeightsUsesThePretrainedBackbone() throws {
        let dir = try Self.folder(); defer { try? FileManager.default.removeItem(at: dir) }
        let (donor, file) = try Self.donorBackbone(in: dir, step: 0.02)
        let yaml = """
        Global:
          feature_normalize: True
        Arch:
          name: RecModel
          Backbone:
            name: PPLCNet_x0_25
            pretrained: \(file.path)
        DataLoader:
          Eval:
            dataset:
              name: SOP
              transform_ops:
        \(TinyRetrieval.evalOps(indent: 8))
        """
        let model = try InferenceModel(config: Config(yaml: yaml))
        #expect(model.weightsPath == file.path)
        try Self.expectBackbone(of: model.model, equals: donor)
    }
}
