import Foundation
import Retrieval

/// `magpie eval -c CONFIG`: evaluates the model a config describes on its `DataLoader.Eval`, with
/// the evaluation its trainer runs (the same choice as `TrainingRun`).
public enum EvaluationRun {
    public enum Outcome {
        /// Recall@k, mAP, … of the eval split embedded with the config's model (query = gallery).
        case retrieval(EvaluationReport, images: Int, dimension: Int, arch: String)
        /// Metric.Eval (TopkAcc, TprAtFpr) of the classifier; `weights` as loaded.
        case classification(ClassificationReport, arch: String, weights: String?)
        /// Top-k accuracy of a FixMatch checkpoint (its EMA weights when present); `source` names them.
        case fixMatch(TopKAccuracy, ks: [Int], arch: String, source: String)
    }

    /// - Parameters:
    ///   - weights: the checkpoint to evaluate (default `Global.pretrained_model`; none = untrained).
    ///   - ks: recall@k values for retrieval (default `Metric.Eval` Recallk `topk`, else 1, 5, 10, 100).
    ///   - progress: (done, total) images.
    public static func run(_ config: Config, weights: String?, ks: [Int]? = nil, protocol proto: EvaluationProtocol = .standard,
                           reranker: KReciprocalReRanker? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        let key = weights == nil ? "Global.pretrained_model" : "--weights"
        switch try TrainingRun.kind(of: config) {
        case .metricLearning:
            let model = try InferenceModel(config: config, weights: weights)
            let split = try DataBuilder.split(InferenceModel.evalLoader(config), seed: 0, defaultIters: nil, training: false)
            let result = try Embedder.embed(model: model.model, split: split, progress: progress, forward: model.compiled.callAsFunction)
            var kList = ks ?? [1, 5, 10, 100]
            if ks == nil {
                for (name, params) in try config.section("Metric").namedList("Eval") where name == "Recallk" {
                    kList = try params.ints("topk") ?? kList
                }
            }
            let report = try Embedder.evaluate(result, ks: kList, protocol: proto, rerank: reranker)
            return .retrieval(report, images: result.count, dimension: result.dimension, arch: model.arch)
        case .classification:
            let built = try ClassifierBuilder.build(config, loadTeacher: false)
            let path = try weights ?? config.section("Global").string("pretrained_model")
            if let path { try PretrainedWeights.load(path, into: built.model, fit: .exact, key: key) }
            let split = try DataBuilder.split(try config.section("DataLoader").section("Eval"), seed: 0, defaultIters: nil, training: false)
            let metrics = try ClassificationMetrics.parse(config, key: "Eval")
            let report = try ClassificationEvaluator.evaluate(model: built.model, split: split, metrics: metrics, progress: progress)
            return .classification(report, arch: built.arch, weights: path)
        case .fixMatch:
            let built = try FixMatchTrainer.buildModel(config)
            var source = "untrained weights"
            if let path = try weights ?? config.section("Global").string("pretrained_model") {
                let checkpoint = Checkpoint(path: path)
                let ema = FixMatchTrainer.emaURL(checkpoint)
                let file = FileManager.default.fileExists(atPath: ema.path) ? ema.path : checkpoint.weightsURL.path
                try PretrainedWeights.load(file, into: built.model, fit: .exact, key: key)
                source = file == ema.path ? "EMA weights \(ema.path)" : file
            }
            let data = try FixMatchData(config: config, classCount: built.classes, seed: 0, withUnlabeled: false)
            var kList = [1, 5]
            for (metric, params) in try config.section("Metric").namedList("Eval") where metric == "TopkAcc" {
                kList = try params.ints("topk") ?? kList
            }
            return .fixMatch(try FixMatchTrainer.evaluate(built.model, data: data, ks: kList), ks: kList, arch: built.arch, source: source)
        }
    }
}
