import ArgumentParser
import Engine
import Foundation

extension TrainCommand {
    /// `Global.eval_mode: classification`.
    func trainClassifier(_ c: Engine.Config) throws {
        let summary = try ClassificationTrainer(config: c).run()
        var lines = ["done: \(summary.steps) steps in \(TrainLog.clock(summary.wallSeconds)); latest checkpoint \(summary.latestCheckpoint)"]
        if let best = summary.bestCheckpoint, let metric = summary.bestMetric, let report = summary.lastReport {
            let name = report.primaryKind == .tprAtFpr ? "TprAtFpr" : "top\(report.topk?.ks.first ?? 1)"
            lines.append(String(format: "best checkpoint %@ (%@ %.5f, epoch %d)", best, name, metric, summary.bestEpoch ?? 0))
        }
        print(lines.joined(separator: "\n"))
        if summary.interrupted { throw ExitCode(130) }
    }
}
