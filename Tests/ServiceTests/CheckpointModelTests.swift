import Engine
import Foundation
import Testing

/// `magpie serve --weights CKPT` without -c: the model comes from the config in the checkpoint.
@Suite struct CheckpointModelTests {
    @Test func checkpointAloneRebuildsTheSameModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try InferenceModel(config: Config(yaml: ServiceFixture.config))
        // Perturb the weights so a freshly initialised model would not match by accident.
        for (_, t) in original.model.stateDict() { for i in t.data.indices { t.data[i] += 0.01 } }
        let checkpoint = Checkpoint(prefix: folder.appendingPathComponent("latest"))
        try checkpoint.save(model: original.model, optimizer: nil, state: .init(epoch: 1, step: 1, arch: "RecModel"),
                            config: ServiceFixture.config)
        let loaded = try InferenceModel.fromCheckpoint(checkpoint.weightsURL.path)
        let image = try ServiceFixture.pattern(3)
        let a = try original.embed(encoded: [(bytes: image, source: "a")]).data
        let b = try loaded.embed(encoded: [(bytes: image, source: "b")]).data
        #expect(a == b)
        #expect(loaded.arch == "RecModel")
    }

    @Test func checkpointWithoutConfigIsRefused() throws {
        #expect(throws: EngineError.self) { try InferenceModel.fromCheckpoint("/nonexistent/latest") }
    }
}
