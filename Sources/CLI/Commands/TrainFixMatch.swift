import ArgumentParser
import Engine
import Foundation

extension TrainCommand {
    /// `Global.train_mode: fixmatch | supervised` (configs/ssl/FixMatch/): FixMatch or its
    /// supervised baseline on CIFAR-10-format data, evaluated with top-1/top-5 of the EMA model.
    func trainFixMatch(_ c: Engine.Config) throws {
        let trainer = try FixMatchTrainer(config: c)
        let summary = try trainer.run()
        var lines = ["done: \(summary.steps) steps in \(TrainLog.clock(summary.wallSeconds)); latest checkpoint \(summary.latestCheckpoint)"]
        if let accuracy = summary.lastAccuracy {
            lines.append("last evaluation: " + accuracy.sorted { $0.key < $1.key }.map { String(format: "%@ %.5f", $0.key, $0.value) }
                .joined(separator: ", "))
        }
        if let best = summary.bestCheckpoint, let top1 = summary.bestTop1 {
            lines.append(String(format: "best checkpoint %@ (top-1 %.5f)", best, top1))
        }
        print(lines.joined(separator: "\n"))
        if summary.interrupted { throw ExitCode(130) }
    }
}
