import Foundation
import Testing
@testable import Engine

/// `magpie train` picks the trainer in one place.
@Suite struct TrainingRunTests {
    @Test func configChoosesTheTrainer() throws {
        #expect(try TrainingRun.kind(of: Config(yaml: "Global:\n  epochs: 1\n")) == .metricLearning)
        #expect(try TrainingRun.kind(of: Config(yaml: "Global:\n  eval_mode: classification\n")) == .classification)
        #expect(try TrainingRun.kind(of: Config(yaml: "Global:\n  train_mode: supervised\n")) == .fixMatch)
        #expect(try TrainingRun.kind(of: Config(yaml: "Global:\n  train_mode: fixmatch\n  eval_mode: classification\n")) == .fixMatch)
        #expect(throws: ConfigError.self) { try TrainingRun.kind(of: Config(yaml: "Global:\n  eval_mode: detection\n")) }
    }
}

/// `magpie eval -c` asks Engine for the evaluation the config's trainer would run.
@Suite struct EvaluationRunTests {
    @Test func retrievalConfigEmbedsTheEvalSplit() throws {
        let data = try TinyDataset.make(classes: 4, perClass: 2)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-evalrun-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: work) }
        var seen = 0
        let outcome = try EvaluationRun.run(Config(yaml: TinyDataset.config(root: data, output: work)), weights: nil) { done, _ in seen = done }
        guard case let .retrieval(report, images, dimension, arch) = outcome else { Issue.record("not a retrieval evaluation"); return }
        #expect(images == 4 && seen == 4 && dimension == 16 && arch == "RecModel")
        #expect(report.recall.map(\.k) == [1, 2])  // Metric.Eval Recallk topk of the config
        let explicit = try EvaluationRun.run(Config(yaml: TinyDataset.config(root: data, output: work)), weights: nil, ks: [3])
        guard case let .retrieval(again, _, _, _) = explicit else { return }
        #expect(again.recall.map(\.k) == [3])
    }
}
