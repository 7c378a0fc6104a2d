import TensorCore

/// A pair-based metric-learning loss of anchors against references (the batch itself, or the
/// batch against XBM's memory): the shape XBMLoss needs to add a memory term to any such loss.
public protocol MetricLoss: Sendable {
    /// Loss of `anchors` [n, d] (gradients flow) against `references` [m, d], both L2-normalised.
    func callAsFunction(_ anchors: Tensor, labels: [Int], references: Tensor, referenceLabels: [Int]) -> Tensor
}

extension MetricLoss {
    /// Shared argument checks; the message names the loss.
    func checkShapes(_ name: String, _ anchors: Tensor, _ labels: [Int], _ references: Tensor, _ referenceLabels: [Int]) {
        precondition(anchors.rank == 2 && references.rank == 2 && anchors.shape[1] == references.shape[1],
                     "\(name): anchors \(anchors.shape) and references \(references.shape) need the same width")
        precondition(labels.count == anchors.shape[0] && referenceLabels.count == references.shape[0],
                     "\(name): one label per row")
    }
}

extension ContrastiveLoss: MetricLoss {}
