import TensorCore

/// FixMatch's objective (Sohn et al. 2020; kekmodel `train.py`):
///
///     Lx = mean_B CE(logits_x, y)
///     q  = softmax(logits_weak / T)              (no gradient)
///     Lu = (1 / μB) Σ_b 1[max q_b ≥ τ] · CE(logits_strong_b, argmax q_b)
///     L  = Lx + λu · Lu
///
/// `Lu` divides by all μB unlabelled images, not by the number of confident ones.
public struct FixMatchLoss: Sendable {
    /// Confidence threshold τ (0.95).
    public var threshold: Float
    /// Sharpening temperature T of the pseudo-label softmax (1: plain softmax; labels are hard either way).
    public var temperature: Float
    /// Weight λu of the unlabelled loss (1).
    public var lambdaU: Float

    public init(threshold: Float = 0.95, temperature: Float = 1, lambdaU: Float = 1) {
        self.threshold = threshold; self.temperature = temperature; self.lambdaU = lambdaU
    }

    public struct Output {
        public var total: Tensor
        public var labeled: Tensor
        public var unlabeled: Tensor
        /// argmax of the weak view's softmax, one per unlabelled image.
        public var pseudoLabels: [Int]
        /// The winning probability of each pseudo-label.
        public var confidences: [Float]
        /// Whether each pseudo-label reached the threshold (entered Lu).
        public var mask: [Bool]
        public var maskRate: Double { mask.isEmpty ? 0 : Double(mask.filter { $0 }.count) / Double(mask.count) }
    }

    /// Hard pseudo-labels and their confidences from weak-view logits `[U, C]` (values only, no tape).
    public func pseudoLabels(weakLogits: Tensor) -> (labels: [Int], confidences: [Float]) {
        precondition(weakLogits.rank == 2, "weak logits must be [U, C], got \(weakLogits.shape)")
        let u = weakLogits.shape[0], c = weakLogits.shape[1]
        let probabilities = withNoGrad { (Tensor(shape: [u, c], data: weakLogits.data) * (1 / temperature)).softmax() }.data
        var labels = [Int](repeating: 0, count: u), confidences = [Float](repeating: 0, count: u)
        for r in 0..<u {
            var best = 0
            for j in 1..<c where probabilities[r * c + j] > probabilities[r * c + best] { best = j }   // first maximum, as torch.max
            labels[r] = best
            confidences[r] = probabilities[r * c + best]
        }
        return (labels, confidences)
    }

    /// The loss of one step. `weakLogits` only provides pseudo-labels; gradients reach
    /// `labeledLogits` and `strongLogits`.
    public func callAsFunction(labeledLogits: Tensor, labels: [Int], weakLogits: Tensor, strongLogits: Tensor) -> Output {
        precondition(weakLogits.shape == strongLogits.shape, "weak \(weakLogits.shape) and strong \(strongLogits.shape) logits differ in shape")
        let lx = crossEntropy(labeledLogits, labels: labels)
        let (pseudo, confidences) = pseudoLabels(weakLogits: weakLogits)
        let mask = confidences.map { $0 >= threshold }
        // Masked one-hot targets: the soft cross-entropy then sums −log p over confident rows and
        // divides by all μB rows, and its gradient is zero on the other rows.
        let u = strongLogits.shape[0], c = strongLogits.shape[1]
        var targets = [Float](repeating: 0, count: u * c)
        for r in 0..<u where mask[r] { targets[r * c + pseudo[r]] = 1 }
        let lu = crossEntropy(strongLogits, targets: Tensor(shape: [u, c], data: targets))
        return Output(total: lx + lu * lambdaU, labeled: lx, unlabeled: lu, pseudoLabels: pseudo, confidences: confidences, mask: mask)
    }
}
