import Datasets
import Foundation
import NN
import TensorCore

/// The classification metrics a config asks for in `Metric.Eval` (PaddleClas names):
/// `TopkAcc {topk: [1, 5]}` (also `DistillationTopkAcc`, which reads the student) and
/// `TprAtFpr {max_fpr: 0.001}`. The first one listed is the "best metric" for checkpoints.
public struct ClassificationMetrics: Sendable {
    public enum Kind: String, Sendable { case topk, tprAtFpr }
    public var topk: [Int]?
    public var maxFPR: Double?
    public var primary: Kind

    public init(topk: [Int]? = [1, 5], maxFPR: Double? = nil, primary: Kind = .topk) {
        self.topk = topk; self.maxFPR = maxFPR; self.primary = primary
    }

    /// `Metric.<key>`; top-1/top-5 when the list is empty.
    public static func parse(_ config: Config, key: String) throws -> ClassificationMetrics {
        var metrics = ClassificationMetrics(topk: nil, maxFPR: nil)
        var first: Kind?
        for (name, p) in try config.section("Metric").namedList(key) {
            switch name {
            case "TopkAcc", "DistillationTopkAcc":
                _ = try p.string("model_key"); _ = try p.string("feature_key")
                let ks = try p.ints("topk") ?? [1, 5]
                guard !ks.isEmpty, ks.allSatisfy({ $0 > 0 }) else {
                    throw ConfigError.invalidValue(path: config.path, key: p.full("topk"), reason: "needs positive integers, e.g. [1, 5]")
                }
                metrics.topk = ks
                first = first ?? .topk
            case "TprAtFpr":
                let bound = try p.double("max_fpr", default: 1.0 / 1000)
                guard bound >= 0 && bound <= 1 else {
                    throw ConfigError.invalidValue(path: config.path, key: p.full("max_fpr"), reason: "must be in [0, 1]")
                }
                metrics.maxFPR = bound
                first = first ?? .tprAtFpr
            default:
                throw ConfigError.invalidValue(path: config.path, key: "Metric.\(key)",
                                               reason: "unknown classification metric '\(name)' (known: TopkAcc, DistillationTopkAcc, TprAtFpr)")
            }
        }
        if first == nil { metrics.topk = [1, 5] }
        metrics.primary = first ?? .topk
        return metrics
    }
}

/// What one evaluation pass measured.
public struct ClassificationReport: Sendable {
    public var count: Int
    public var topk: TopKAccuracy?
    public var tpr: TprAtFpr.Result?
    public var primaryKind: ClassificationMetrics.Kind

    /// The value that picks the best checkpoint: TPR for TprAtFpr, else the first top-k accuracy.
    public var primary: Double {
        if primaryKind == .tprAtFpr, let tpr { return tpr.tpr }
        return topk?.accuracies.first ?? 0
    }

    /// `[("top1", …), ("top5", …), ("TprAtFpr", …)]`, in the order PaddleClas logs them.
    public var named: [(String, Double)] {
        var out: [(String, Double)] = []
        if let tpr, primaryKind == .tprAtFpr { out.append(("TprAtFpr", tpr.tpr)) }
        if let topk { out += zip(topk.ks, topk.accuracies).map { ("top\($0)", $1) } }
        if let tpr, primaryKind != .tprAtFpr { out.append(("TprAtFpr", tpr.tpr)) }
        return out
    }

    /// One line: `top1: 0.81230, top5: 0.93110` (+ the TprAtFpr threshold info).
    public var line: String {
        var text = named.map { String(format: "%@: %.5f", $0.0 as NSString, $0.1) }.joined(separator: ", ")
        if let tpr { text += " (\(tpr.info))" }
        return text
    }

    public var json: [String: Any] {
        var object: [String: Any] = ["images": count]
        for (k, v) in named { object[k] = v }
        if let tpr {
            object["tpr_at_fpr"] = ["tpr": tpr.tpr, "fpr": tpr.fpr, "threshold": tpr.threshold as Any,
                                    "positives": tpr.positives, "negatives": tpr.negatives]
        }
        return object
    }
}

/// Runs a classifier over a split in eval mode and measures top-k accuracy and TprAtFpr.
public enum ClassificationEvaluator {
    public static func evaluate(model: Layer, split: DataBuilder.Split, metrics: ClassificationMetrics, epoch: Int = 0,
                                progress: ((Int, Int) -> Void)? = nil) throws -> ClassificationReport {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var topk: TopKAccuracy?
        var tpr = metrics.maxFPR.map { TprAtFpr(maxFPR: $0) }
        var count = 0
        let iterator = split.loader.makeIterator(batches: split.sampler.batches(epoch: epoch), epoch: epoch)
        while let batch = try iterator.next() {
            let logits = withNoGrad { model(batch.images) }
            guard logits.rank == 2 else { throw EngineError.data("the model returns \(logits.shape), not [N, classes] logits") }
            let classes = logits.shape[1]
            if topk == nil, let ks = metrics.topk {
                // PaddleClas drops k larger than the number of classes (with a warning).
                topk = TopKAccuracy(ks: ks.filter { $0 <= classes }.isEmpty ? [1] : ks.filter { $0 <= classes })
            }
            try topk?.update(logits: logits.data, classes: classes, labels: batch.labels)
            try tpr?.update(logits: logits.data, classes: classes, labels: batch.labels)
            count += batch.labels.count
            progress?(count, split.dataset.count)
        }
        return ClassificationReport(count: count, topk: topk, tpr: tpr?.result, primaryKind: metrics.primary)
    }
}
