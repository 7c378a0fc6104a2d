import TensorCore

/// XBM's contrastive loss in similarity form, on L2-normalised features:
///
///     P_i = { j : y_j = y_i and S_ij < 1 − ε }     N_i = { j : y_j ≠ y_i and S_ij > m }
///     L   = (1/n) Σ_i [ Σ_{j∈P_i} (1 − S_ij) + Σ_{j∈N_i} S_ij ]
///
/// with S = anchors · referencesᵀ. The positive filter S < 1 − ε drops each anchor's own copy
/// (and exact duplicates), as the reference does; the negative term adds S itself, not S − m.
public struct ContrastiveLoss: Sendable {
    public var margin: Float
    public var epsilon: Float

    public init(margin: Float = 0.5, epsilon: Float = 1e-5) {
        self.margin = margin
        self.epsilon = epsilon
    }

    /// Loss of `anchors` [n, d] (gradients flow) against `references` [m, d]. When the references
    /// are the anchors themselves, gradients flow through both sides of S.
    public func callAsFunction(_ anchors: Tensor, labels: [Int], references: Tensor, referenceLabels: [Int]) -> Tensor {
        checkShapes("ContrastiveLoss", anchors, labels, references, referenceLabels)
        let n = anchors.shape[0], m = references.shape[0]
        if m == 0 { return Tensor(scalar: 0) }
        let s = matmul(anchors, references, transposeB: true)
        // Pair weights: −1 for selected positives (loss 1 − S), +1 for selected negatives (loss S).
        var weight = [Float](repeating: 0, count: n * m)
        var constant: Float = 0
        for i in 0..<n {
            for j in 0..<m {
                let sij = s.data[i * m + j]
                if labels[i] == referenceLabels[j] {
                    if sij < 1 - epsilon { weight[i * m + j] = -1; constant += 1 }
                } else if sij > margin {
                    weight[i * m + j] = 1
                }
            }
        }
        let pairTerms = (s * Tensor(shape: [n, m], data: weight)).sum()
        return (pairTerms + constant) * (1 / Float(n))
    }
}
