/// Running top-k accuracy over batches of logits, as PaddleClas's `TopkAcc` reports it: a sample
/// counts as correct for k when its label is among the k highest scores. Ties in score are broken
/// by the lower class index, so the result does not depend on sort stability.
public struct TopKAccuracy: Sendable {
    public let ks: [Int]
    public private(set) var correct: [Int]
    public private(set) var count = 0

    public init(ks: [Int] = [1, 5]) {
        self.ks = ks
        correct = Array(repeating: 0, count: ks.count)
    }

    /// Adds a batch: `logits` is row-major `[labels.count, classes]`.
    public mutating func update(logits: [Float], classes: Int, labels: [Int]) throws {
        guard classes > 0, logits.count == labels.count * classes else {
            throw EngineError.data("top-k accuracy: \(logits.count) scores do not match \(labels.count) labels × \(classes) classes")
        }
        for (row, label) in labels.enumerated() {
            guard (0..<classes).contains(label) else {
                throw EngineError.data("top-k accuracy: label \(label) is outside 0..<\(classes)")
            }
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            let target = scores[scores.startIndex + label]
            // Rank of the label = number of classes that beat it (higher score, or equal score and lower index).
            var rank = 0
            for (c, s) in scores.enumerated() where s > target || (s == target && c < label) { rank += 1 }
            for (i, k) in ks.enumerated() where rank < k { correct[i] += 1 }
        }
        count += labels.count
    }

    /// Accuracy for each k in `ks`, in the same order (0 when nothing was added).
    public var accuracies: [Double] {
        correct.map { count == 0 ? 0 : Double($0) / Double(count) }
    }

    /// `["top1": …, "top5": …]`, the names PaddleClas logs.
    public var named: [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(ks.map { "top\($0)" }, accuracies))
    }
}
