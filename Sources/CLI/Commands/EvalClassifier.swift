import ArgumentParser
import Engine
import Foundation

extension EvalCommand {
    /// `magpie eval -c CONFIG` for `Global.eval_mode: classification`.
    func evaluateClassifier(_ c: Engine.Config) throws {
        let built = try ClassifierBuilder.build(c, loadTeacher: false)
        let path = try weights ?? c.section("Global").string("pretrained_model")
        if let path { try PretrainedWeights.load(path, into: built.model, fit: .exact, key: weights == nil ? "Global.pretrained_model" : "--weights") }
        let split = try DataBuilder.split(try c.section("DataLoader").section("Eval"), seed: 0, defaultIters: nil, training: false)
        let metrics = try ClassificationMetrics.parse(c, key: "Eval")
        let start = Date()
        let report = try ClassificationEvaluator.evaluate(model: built.model, split: split, metrics: metrics) { done, total in
            if !json { FileHandle.standardError.write(Data("\rclassifying \(done)/\(total)".utf8)) }
        }
        if json {
            var object = report.json
            object["model"] = built.arch
            object["weights"] = path ?? NSNull()
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            FileHandle.standardError.write(Data("\n".utf8))
            print("\(report.count) images, model \(built.arch) (\(path ?? "untrained weights"))")
            print("[Eval][Avg]" + report.line)
            print(String(format: "time: %.1f s", Date().timeIntervalSince(start)))
        }
    }
}
