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
