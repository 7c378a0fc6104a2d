import TensorCore

/// Batch-hard triplet loss on cosine similarity: for each anchor, its hardest positive (lowest
/// similarity among same-label references, excluding its own copy by S < 1 − ε) and its hardest
/// negative (highest similarity among other labels), L_i = max(0, S_an − S_ap + margin). The loss
/// is the mean over anchors that have both; 0 when none has.
public struct TripletLoss: MetricLoss {
    public var margin: Float
    public var epsilon: Float

    public init(margin: Float = 0.1, epsilon: Float = 1e-5) {
        self.margin = margin
        self.epsilon = epsilon
    }

    public func callAsFunction(_ anchors: Tensor, labels: [Int], references: Tensor, referenceLabels: [Int]) -> Tensor {
        checkShapes("TripletLoss", anchors, labels, references, referenceLabels)
        let n = anchors.shape[0], m = references.shape[0]
        if m == 0 || n == 0 { return Tensor(scalar: 0) }
        let s = matmul(anchors, references, transposeB: true)
        var hardestPositive = [Int](), hardestNegative = [Int]()
        for i in 0..<n {
            var p = -1, q = -1
            for j in 0..<m {
                let sij = s.data[i * m + j]
                if labels[i] == referenceLabels[j] {
                    if sij < 1 - epsilon, p < 0 || sij < s.data[i * m + p] { p = j }
                } else if q < 0 || sij > s.data[i * m + q] {
                    q = j
                }
            }
            if p >= 0, q >= 0 { hardestPositive.append(i * m + p); hardestNegative.append(i * m + q) }
        }
        if hardestPositive.isEmpty { return Tensor(scalar: 0) }
        let flat = s.reshaped([n * m])
        let violation = flat.gather(hardestNegative) - flat.gather(hardestPositive) + margin
        return violation.relu().mean()
    }
}
