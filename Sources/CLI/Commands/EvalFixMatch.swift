import ArgumentParser
import Engine
import Foundation
import NN

extension EvalCommand {
    /// `magpie eval -c <FixMatch config> [--weights CKPT]`: top-1/top-5 on DataLoader.Eval. A
    /// checkpoint's EMA weights (`<CKPT>.ema.safetensors`) are used when present, as FixMatch reports.
    func evaluateFixMatch(_ c: Engine.Config) throws {
        let built = try FixMatchTrainer.buildModel(c)
        let path = try weights ?? c.section("Global").string("pretrained_model")
        var source = "untrained weights"
        if let path {
            let checkpoint = Checkpoint(path: path)
            let ema = FixMatchTrainer.emaURL(checkpoint)
            let key = weights == nil ? "Global.pretrained_model" : "--weights"
            if FileManager.default.fileExists(atPath: ema.path) {
                try PretrainedWeights.load(ema.path, into: built.model, fit: .exact, key: key)
                source = "EMA weights \(ema.path)"
            } else {
                try PretrainedWeights.load(path, into: built.model, fit: .exact, key: key)
                source = checkpoint.weightsURL.path
            }
        }
        let data = try FixMatchData(config: c, classCount: built.classes, seed: 0, withUnlabeled: false)
        var ks = [1, 5]
        for (metric, params) in try c.section("Metric").namedList("Eval") where metric == "TopkAcc" { ks = try params.ints("topk") ?? ks }
        let start = Date()
        let accuracy = try FixMatchTrainer.evaluate(built.model, data: data, ks: ks)
        if json {
            let fields = zip(ks, accuracy.accuracies).map { String(format: "\"top%d\":%.6f", $0, $1) }
            print("{\"images\":\(accuracy.count)," + fields.joined(separator: ",") + "}")
        } else {
            print("\(accuracy.count) images, model \(built.arch) (\(source))")
            for (k, a) in zip(ks, accuracy.accuracies) { print(String(format: "top%d: %.5f", k, a)) }
            print(String(format: "time: %.1f s", Date().timeIntervalSince(start)))
        }
    }
}
