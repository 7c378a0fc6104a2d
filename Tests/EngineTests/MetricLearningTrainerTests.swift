import Foundation
import Testing
@testable import Engine
@testable import NN
@testable import TensorCore

@Suite(.serialized) struct MetricLearningTrainerTests {
    @Test func trainsEvaluatesCheckpointsAndResumes() throws {
        let root = try TinyDataset.make()
        let out = root.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Config(yaml: TinyDataset.config(root: root, output: out), path: "tiny.yaml")
        let trainer = try MetricLearningTrainer(config: config, echo: false)
        let summary = try trainer.run()
        #expect(summary.steps == 6)
        let report = try #require(summary.lastReport)
        #expect(report.queries == 15)
        #expect((0...1).contains(report.recall(at: 1)!))
        // The memory was used from step 3 on, and its state went into the checkpoint.
        let latest = Checkpoint(path: summary.latestCheckpoint)
        let optim = try SafeTensors.read(latest.optimizerURL).tensors
        #expect(optim["extra.xbm.ptr"]!.item > 0)
        let log = try String(contentsOf: out.appendingPathComponent("RecModel/train_log.jsonl"), encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.filter { $0.contains("\"phase\":\"train\"") }.count == 6)
        #expect(lines.contains { $0.contains("\"xbm_loss\"") })
        for line in lines where line.contains("\"loss\"") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect((object["loss"] as! Double).isFinite)
        }

        // Resume: two more epochs continue the step count from the checkpoint.
        let resumed = try Config(yaml: TinyDataset.config(root: root, output: out), path: "tiny.yaml")
        try resumed.apply(overrides: ["Global.checkpoints=\(summary.latestCheckpoint)", "Global.epochs=4"])
        let second = try MetricLearningTrainer(config: resumed, echo: false).run()
        #expect(second.steps == 12)

        // The saved weights reload into a fresh model and give the same embeddings.
        let a = try InferenceModel(config: try Config(yaml: TinyDataset.config(root: root, output: out)), weights: second.latestCheckpoint)
        let b = try InferenceModel(config: try Config(yaml: TinyDataset.config(root: root, output: out)), weights: second.latestCheckpoint)
        let image = root.appendingPathComponent("images/c4_0.jpg").path
        #expect(try a.embed(paths: [image]).data == b.embed(paths: [image]).data)
        #expect(a.fingerprint == b.fingerprint)
        let untrained = try InferenceModel(config: try Config(yaml: TinyDataset.config(root: root, output: out)))
        #expect(untrained.fingerprint != a.fingerprint)
        // The fingerprint follows the weights and the transform_ops, not loader settings or data paths.
        let elsewhere = try Config(yaml: TinyDataset.config(root: root, output: out))
        try elsewhere.apply(overrides: ["DataLoader.Eval.Gallery.sampler.batch_size=64", "DataLoader.Eval.Gallery.dataset.image_root=/elsewhere"])
        #expect(try InferenceModel(config: elsewhere, weights: second.latestCheckpoint).fingerprint == a.fingerprint)
        let unnormalized = try Config(yaml: TinyDataset.config(root: root, output: out))
        try unnormalized.apply(overrides: ["Global.feature_normalize=False"])
        #expect(try InferenceModel(config: unnormalized, weights: second.latestCheckpoint).fingerprint != a.fingerprint)
        let norm = try a.embed(paths: [image]).data.map { $0 * $0 }.reduce(0, +)
        #expect(abs(norm - 1) < 1e-4)
    }

    @Test func unknownKeysAndBadValuesFailBeforeTraining() throws {
        let root = try TinyDataset.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let typo = try Config(yaml: TinyDataset.config(root: root, output: root, extra: "Globl:\n  epochs: 3\n"), path: "typo.yaml")
        #expect(throws: ConfigError.self) { try MetricLearningTrainer(config: typo, echo: false) }
        let bad = try Config(yaml: TinyDataset.config(root: root, output: root), path: "bad.yaml")
        try bad.apply(overrides: ["Optimizer.name=Adagrad"])
        do {
            _ = try MetricLearningTrainer(config: bad, echo: false)
            Issue.record("accepted an unknown optimizer")
        } catch {
            #expect("\(error)".contains("Optimizer.name"))
        }
    }
}
