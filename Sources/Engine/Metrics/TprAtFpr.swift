import Foundation

/// PaddleClas's `TprAtFpr` for a binary classifier (PULC person_exists): the best true-positive
/// rate over the threshold grid `i / 10000` (i = 0…9999) whose false-positive rate is at most
/// `maxFPR` (1/1000 by default).
///
/// A sample's score is softmax(logits)[1]; it is "positive" above a threshold with a **strict**
/// `>`. Because TPR only falls as the threshold rises and a later threshold must beat the best TPR
/// strictly, the threshold reported is the smallest grid value that meets the FPR bound. Scores
/// and thresholds are compared in Float32, as numpy compares a float32 score array with a Python
/// float. With no negatives, the FPR bound cannot be evaluated (PaddleClas divides by zero); the
/// best TPR over the grid is taken and `hasNegatives` says so. With no positives the result is 0.
public struct TprAtFpr: Sendable {
    public struct Result: Equatable, Sendable {
        /// The metric value: the best TPR found (0 when no threshold qualifies).
        public var tpr: Double
        /// FPR at the reported threshold (0 when there are no negatives).
        public var fpr: Double
        /// The grid threshold that achieved `tpr`; nil when none qualified.
        public var threshold: Double?
        public var positives: Int
        public var negatives: Int

        /// `threshold: 0.5, fpr: 0.001, tpr: 0.60000`, PaddleClas's `avg_info`.
        public var info: String {
            guard let threshold else {
                return positives == 0 ? "tpr: 0 (no positive samples)" : "tpr: 0 (no threshold with fpr within the bound catches a positive)"
            }
            return "threshold: \(TprAtFpr.gridText(threshold)), fpr: \(fpr), tpr: " + String(format: "%.5f", tpr)
        }
    }

    public let maxFPR: Double
    /// Scores (softmax class-1 probability) of label ≠ 0 and label 0 samples, in arrival order.
    public private(set) var positiveScores: [Float] = []
    public private(set) var negativeScores: [Float] = []

    public init(maxFPR: Double = 1.0 / 1000) { self.maxFPR = maxFPR }

    /// Adds a batch of logits `[labels.count, classes]` (classes ≥ 2); label 0 is negative.
    public mutating func update(logits: [Float], classes: Int, labels: [Int]) throws {
        guard classes >= 2, logits.count == labels.count * classes else {
            throw EngineError.data("TprAtFpr: \(logits.count) scores do not match \(labels.count) labels × \(classes) classes (needs ≥ 2 classes)")
        }
        for (row, label) in labels.enumerated() {
            let base = row * classes
            var m = -Float.infinity
            for c in 0..<classes { m = max(m, logits[base + c]) }
            var sum: Float = 0
            for c in 0..<classes { sum += expf(logits[base + c] - m) }
            let p = expf(logits[base + 1] - m) / sum
            if label == 0 { negativeScores.append(p) } else { positiveScores.append(p) }
        }
    }

    /// Adds class-1 probabilities directly.
    public mutating func update(scores: [Float], labels: [Int]) {
        for (p, label) in zip(scores, labels) {
            if label == 0 { negativeScores.append(p) } else { positiveScores.append(p) }
        }
    }

    public mutating func reset() { positiveScores = []; negativeScores = [] }

    public var result: Result {
        TprAtFpr.evaluate(positives: positiveScores, negatives: negativeScores, maxFPR: maxFPR)
    }

    /// The grid search on sorted scores: counts above a threshold by binary search, O((P + N) log).
    public static func evaluate(positives: [Float], negatives: [Float], maxFPR: Double) -> Result {
        var result = Result(tpr: 0, fpr: 0, threshold: nil, positives: positives.count, negatives: negatives.count)
        guard !positives.isEmpty else { return result }
        let pos = positives.sorted(), neg = negatives.sorted()
        /// Number of values strictly greater than t in an ascending array.
        func above(_ sorted: [Float], _ t: Float) -> Int {
            var lo = 0, hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if sorted[mid] > t { hi = mid } else { lo = mid + 1 }
            }
            return sorted.count - lo
        }
        for i in 0..<10_000 {
            let t = Double(i) / 10_000
            let tpr = Double(above(pos, Float(t))) / Double(pos.count)
            if neg.isEmpty {
                if tpr > result.tpr { result.tpr = tpr; result.fpr = 0; result.threshold = t }
                continue
            }
            let fpr = Double(above(neg, Float(t))) / Double(neg.count)
            if fpr <= maxFPR && tpr > result.tpr { result.tpr = tpr; result.fpr = fpr; result.threshold = t }
        }
        return result
    }

    /// A grid value as Python prints `i / 10000.` (0.0, 0.5, 0.9794).
    static func gridText(_ t: Double) -> String {
        var s = String(format: "%.4f", t)
        while s.hasSuffix("0") && !s.hasSuffix(".0") { s.removeLast() }
        return s
    }
}
