import TensorCore

/// Multi-similarity loss (Wang et al., CVPR 2019) in the form XBM's reference code uses, so it can
/// run against the cross-batch memory. For each anchor i, with S = anchors · referencesᵀ:
///
///     P_i = { j : y_j = y_i, S_ij < 1 − ε }            N_i = { j : y_j ≠ y_i }
///     P'_i = { j ∈ P_i : S_ij − margin < max N_i }      N'_i = { j ∈ N_i : S_ij + margin > min P_i }
///     L_i = (1/α) log(1 + Σ_{P'_i} e^{−α(S_ij − λ)}) + (1/β) log(1 + Σ_{N'_i} e^{β(S_ij − λ)})
///
/// Anchors with an empty P_i, N_i, P'_i or N'_i add 0; L = (1/n) Σ_i L_i. Defaults are XBM's
/// (α = scale_pos 2, β = scale_neg 40, λ = thresh 0.5, margin 0.1).
public struct MultiSimilarityLoss: MetricLoss {
    public var scalePositive: Float
    public var scaleNegative: Float
    public var threshold: Float
    public var margin: Float
    public var epsilon: Float

    public init(scalePositive: Float = 2, scaleNegative: Float = 40, threshold: Float = 0.5, margin: Float = 0.1, epsilon: Float = 1e-5) {
        self.scalePositive = scalePositive
        self.scaleNegative = scaleNegative
        self.threshold = threshold
        self.margin = margin
        self.epsilon = epsilon
    }

    public func callAsFunction(_ anchors: Tensor, labels: [Int], references: Tensor, referenceLabels: [Int]) -> Tensor {
        checkShapes("MultiSimilarityLoss", anchors, labels, references, referenceLabels)
        let n = anchors.shape[0], m = references.shape[0]
        if m == 0 || n == 0 { return Tensor(scalar: 0) }
        let s = matmul(anchors, references, transposeB: true)
        let (positive, negative) = mineMasks(s.data, n: n, m: m, labels: labels, referenceLabels: referenceLabels)
        let shifted = s - threshold
        let posSum = ((shifted * -scalePositive).exp() * Tensor(shape: [n, m], data: positive)).sum(axes: [1])
        let negSum = ((shifted * scaleNegative).exp() * Tensor(shape: [n, m], data: negative)).sum(axes: [1])
        let perAnchor = (posSum + 1).log() * (1 / scalePositive) + (negSum + 1).log() * (1 / scaleNegative)
        return perAnchor.sum() * (1 / Float(n))
    }

    /// 0/1 masks of the mined positive and negative pairs; rows of skipped anchors are all zero.
    func mineMasks(_ s: [Float], n: Int, m: Int, labels: [Int], referenceLabels: [Int]) -> ([Float], [Float]) {
        var positive = [Float](repeating: 0, count: n * m), negative = positive
        for i in 0..<n {
            var minPositive = Float.infinity, maxNegative = -Float.infinity
            for j in 0..<m {
                let sij = s[i * m + j]
                if labels[i] == referenceLabels[j] {
                    if sij < 1 - epsilon { minPositive = min(minPositive, sij) }
                } else {
                    maxNegative = max(maxNegative, sij)
                }
            }
            guard minPositive.isFinite, maxNegative.isFinite else { continue }
            var row = [(Int, Bool)]()
            for j in 0..<m {
                let sij = s[i * m + j]
                if labels[i] == referenceLabels[j] {
                    if sij < 1 - epsilon, sij - margin < maxNegative { row.append((j, true)) }
                } else if sij + margin > minPositive {
                    row.append((j, false))
                }
            }
            guard row.contains(where: { $0.1 }), row.contains(where: { !$0.1 }) else { continue }
            for (j, isPositive) in row {
                if isPositive { positive[i * m + j] = 1 } else { negative[i * m + j] = 1 }
            }
        }
        return (positive, negative)
    }
}
