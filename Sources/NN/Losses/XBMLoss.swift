import TensorCore

/// Batch loss plus cross-batch-memory loss (contrastive, or any other `MetricLoss`), as one XBM iteration computes them:
/// L = L(f, f) and, from iteration `startIteration + 1` on, the batch is enqueued (detached) first
/// and L += weight · L(f, memory).
public final class XBMLoss {
    public let loss: any MetricLoss
    public let memory: CrossBatchMemory
    public let weight: Float
    public let startIteration: Int
    /// Calls so far (the reference counts iterations inside the loss; the first call is 1).
    public private(set) var iteration = 0

    public init(loss: any MetricLoss = ContrastiveLoss(), memory: CrossBatchMemory, weight: Float = 1, startIteration: Int = 1000) {
        self.loss = loss
        self.memory = memory
        self.weight = weight
        self.startIteration = startIteration
    }

    /// Returns (total, batch part, memory part or nil when the memory is not used yet).
    public func callAsFunction(_ features: Tensor, labels: [Int]) -> (total: Tensor, batch: Tensor, memory: Tensor?) {
        iteration += 1
        let batchLoss = loss(features, labels: labels, references: features, referenceLabels: labels)
        guard iteration > startIteration else { return (batchLoss, batchLoss, nil) }
        memory.enqueue(features.detached(), labels: labels)
        let (bank, bankLabels) = memory.contents()
        let memoryLoss = loss(features, labels: labels, references: bank, referenceLabels: bankLabels)
        return (batchLoss + memoryLoss * weight, batchLoss, memoryLoss)
    }

    /// Restores the iteration count (resume).
    public func setIteration(_ value: Int) { iteration = value }
}
