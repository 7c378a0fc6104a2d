import NN
import TensorCore

/// One FixMatch optimisation step as the paper runs it: the labelled weak view, the unlabelled
/// weak view and the unlabelled strong view go through the model in one interleaved forward pass
/// (so BN normalises them as one batch), pseudo-labels come from the weak logits without
/// gradient, then backward, the optimizer step and the EMA update. Without unlabelled views it
/// is the supervised step on the labelled batch alone (the baseline).
public final class FixMatchStep {
    public let model: Layer
    public let optimizer: Optimizer
    public let loss: FixMatchLoss
    public let ema: ModelEMA?
    /// Apply interleave/de-interleave (a no-op for the result on one device; kept to match the reference).
    public var interleaves = true
    /// The ranks of a data-parallel job: each runs its share of the labelled and unlabelled
    /// batches, and the gradients are averaged by labelled image count before the update.
    public var parallel = DataParallel()
    private let parameters: [Tensor]

    public struct Result {
        public var loss: Float
        public var labeledLoss: Float
        public var unlabeledLoss: Float
        /// Fraction of unlabelled images whose pseudo-label passed the threshold.
        public var maskRate: Double
        /// Confident pseudo-labels that match the true label / confident ones (nil when none or labels unknown).
        public var pseudoLabelAccuracy: Double?
        /// All pseudo-labels that match the true label / all unlabelled images (nil when labels unknown).
        public var pseudoLabelAccuracyAll: Double?
        /// Images through the network: B, or (2μ+1)·B.
        public var images: Int
    }

    public init(model: Layer, optimizer: Optimizer, loss: FixMatchLoss, ema: ModelEMA?) {
        self.model = model; self.optimizer = optimizer; self.loss = loss; self.ema = ema
        parameters = model.namedParameters().map(\.1)
    }

    /// The update after backward: gradients summed over ranks (weighted by labelled images), the
    /// optimizer step and the EMA.
    private func update(labeledImages: Int) {
        parallel.averageGradients(of: parameters, images: labeledImages)
        optimizer.step()
        ema?.update()
    }

    /// One step. `weak` and `strong` are the two views of the same μB unlabelled images (nil for
    /// the supervised baseline); `unlabeledLabels`, when known, only feed the pseudo-label accuracy.
    public func callAsFunction(labeled: Tensor, labels: [Int], weak: Tensor? = nil, strong: Tensor? = nil,
                               unlabeledLabels: [Int]? = nil) -> Result {
        defer { optimizer.zeroGrad() }
        guard let weak, let strong else {
            let lx = crossEntropy(model(labeled), labels: labels)
            lx.backward()
            update(labeledImages: labels.count)
            return Result(loss: lx.item, labeledLoss: lx.item, unlabeledLoss: 0, maskRate: 0, pseudoLabelAccuracy: nil,
                          pseudoLabelAccuracyAll: nil, images: labels.count)
        }
        precondition(weak.shape == strong.shape && Array(weak.shape.dropFirst()) == Array(labeled.shape.dropFirst()),
                     "FixMatch views differ in shape: labelled \(labeled.shape), weak \(weak.shape), strong \(strong.shape)")
        let b = labeled.shape[0], u = weak.shape[0], n = b + 2 * u
        let inputs = Tensor(shape: [n] + Array(labeled.shape.dropFirst()), data: labeled.data + weak.data + strong.data)
        // Interleaving needs μB = μ·B with an integer μ; other shapes run the plain batch (same result on one device).
        let groups = u % b == 0 ? 2 * (u / b) + 1 : 0
        let logits: Tensor
        if interleaves && groups > 1 {
            logits = FixMatchInterleave.deInterleave(model(FixMatchInterleave.interleave(inputs, groups: groups)), groups: groups)
        } else {
            logits = model(inputs)
        }
        let classes = logits.shape[1]
        let weakLogits = Tensor(shape: [u, classes], data: Array(logits.data[(b * classes)..<((b + u) * classes)]))
        let out = loss(labeledLogits: logits.slice(axis: 0, 0..<b), labels: labels, weakLogits: weakLogits,
                       strongLogits: logits.slice(axis: 0, (b + u)..<n))
        out.total.backward()
        update(labeledImages: b)
        var accuracy: Double?, accuracyAll: Double?
        if let truth = unlabeledLabels, truth.count == u {
            let hits = zip(out.pseudoLabels, truth).map { $0 == $1 }
            accuracyAll = Double(hits.filter { $0 }.count) / Double(max(u, 1))
            let confident = zip(hits, out.mask).filter { $0.1 }
            if !confident.isEmpty { accuracy = Double(confident.filter { $0.0 }.count) / Double(confident.count) }
        }
        return Result(loss: out.total.item, labeledLoss: out.labeled.item, unlabeledLoss: out.unlabeled.item, maskRate: out.maskRate,
                      pseudoLabelAccuracy: accuracy, pseudoLabelAccuracyAll: accuracyAll, images: n)
    }
}
