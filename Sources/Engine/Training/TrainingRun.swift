import Foundation

/// `magpie train`: which trainer a config asks for (the one place that choice is made) and a
/// summary every trainer reports the same way.
///
/// `Global.train_mode: fixmatch | supervised` → `FixMatchTrainer`; otherwise `Global.eval_mode:
/// classification` → `ClassificationTrainer` and `retrieval` (the default) → `MetricLearningTrainer`.
public enum TrainingRun {
    public enum Kind: String, Sendable { case metricLearning, classification, fixMatch }

    public struct Outcome: Sendable {
        public var kind: Kind
        public var steps: Int
        public var wallSeconds: Double
        public var latestCheckpoint: String
        public var bestCheckpoint: String?
        /// The metric that chose the best checkpoint, e.g. ("recall@1", 0.33).
        public var best: (name: String, value: Double)?
        public var interrupted: Bool
        /// The last evaluation's metrics, in the order they are printed.
        public var lastEvaluation: [(name: String, value: Double)] = []
        /// Lines a person reads at the end of the run.
        public var summary: String {
            var lines = ["done: \(steps) steps in \(TrainLog.clock(wallSeconds)); latest checkpoint \(latestCheckpoint)"]
            if !lastEvaluation.isEmpty {
                lines.append("last evaluation: " + lastEvaluation.map { String(format: "%@ %.5f", $0.name, $0.value) }.joined(separator: ", "))
            }
            if let bestCheckpoint, let best {
                lines.append(String(format: "best checkpoint %@ (%@ %.5f)", bestCheckpoint, best.name, best.value))
            }
            return lines.joined(separator: "\n")
        }
    }

    public static func kind(of config: Config) throws -> Kind {
        if try FixMatchTrainer.handles(config) { return .fixMatch }
        let mode = try config.section("Global").choice("eval_mode", ["retrieval", "classification"], default: "retrieval")
        return mode == "classification" ? .classification : .metricLearning
    }

    /// Builds the trainer the config asks for and runs it to the end (or to Ctrl-C), on the
    /// ranks of `parallel` (one process by default).
    public static func run(_ config: Config, parallel: DataParallel = DataParallel()) throws -> Outcome {
        switch try kind(of: config) {
        case .metricLearning:
            let s = try MetricLearningTrainer(config: config, parallel: parallel).run()
            return Outcome(kind: .metricLearning, steps: s.steps, wallSeconds: s.wallSeconds, latestCheckpoint: s.latestCheckpoint,
                           bestCheckpoint: s.bestCheckpoint, best: s.bestMetric.map { ("recall@1", $0) }, interrupted: s.interrupted)
        case .classification:
            let s = try ClassificationTrainer(config: config, parallel: parallel).run()
            let name = s.lastReport.map { $0.primaryKind == .tprAtFpr ? "TprAtFpr" : "top\($0.topk?.ks.first ?? 1)" } ?? "metric"
            return Outcome(kind: .classification, steps: s.steps, wallSeconds: s.wallSeconds, latestCheckpoint: s.latestCheckpoint,
                           bestCheckpoint: s.bestCheckpoint, best: s.bestMetric.map { (name, $0) }, interrupted: s.interrupted)
        case .fixMatch:
            let s = try FixMatchTrainer(config: config, parallel: parallel).run()
            return Outcome(kind: .fixMatch, steps: s.steps, wallSeconds: s.wallSeconds, latestCheckpoint: s.latestCheckpoint,
                           bestCheckpoint: s.bestCheckpoint, best: s.bestTop1.map { ("top-1", $0) }, interrupted: s.interrupted,
                           lastEvaluation: (s.lastAccuracy ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }
}
