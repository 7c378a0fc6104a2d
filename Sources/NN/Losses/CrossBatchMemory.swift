import TensorCore

/// The XBM feature queue: a fixed-size memory of detached embeddings and
/// labels from past batches.
///
/// Unlike the reference's "label in the last slot is non-zero" test, fullness is an explicit flag,
/// so datasets with label 0 work. `mode` picks the write rule: `.reference` reproduces the
/// official/PaddleClas queue (a batch that does not fit is written to the last slots and the
/// pointer restarts at 0), `.ring` is a true modulo ring (pytorch-metric-learning).
public final class CrossBatchMemory {
    public enum Mode: String, Sendable { case reference, ring }

    public let capacity: Int
    public let dimension: Int
    public let mode: Mode
    public private(set) var features: [Float]
    public private(set) var labels: [Int]
    /// Next slot to write.
    public private(set) var pointer = 0
    /// Whether every slot holds a real entry.
    public private(set) var isFull = false

    public init(capacity: Int, dimension: Int, mode: Mode = .reference) {
        precondition(capacity > 0 && dimension > 0, "CrossBatchMemory needs a positive size")
        self.capacity = capacity
        self.dimension = dimension
        self.mode = mode
        features = [Float](repeating: 0, count: capacity * dimension)
        labels = [Int](repeating: 0, count: capacity)
    }

    /// Number of valid entries.
    public var count: Int { isFull ? capacity : pointer }

    /// Writes a batch (features [q, d], detached) and its labels.
    public func enqueue(_ batch: Tensor, labels batchLabels: [Int]) {
        precondition(batch.rank == 2 && batch.shape[1] == dimension && batch.shape[0] == batchLabels.count,
                     "CrossBatchMemory: expected [q, \(dimension)] features with q labels, got \(batch.shape)")
        let q = min(batch.shape[0], capacity)
        let rows = Array(batch.data.suffix(q * dimension)), ys = Array(batchLabels.suffix(q))
        switch mode {
        case .reference:
            if pointer + q > capacity {
                write(rows, ys, at: capacity - q)
                pointer = 0
                isFull = true
            } else {
                write(rows, ys, at: pointer)
                pointer += q
                // The reference keeps ptr = K here, so the next batch overwrites the tail.
                if pointer == capacity { isFull = true }
            }
        case .ring:
            for r in 0..<q {
                write(Array(rows[(r * dimension)..<((r + 1) * dimension)]), [ys[r]], at: pointer)
                pointer += 1
                if pointer == capacity { pointer = 0; isFull = true }
            }
        }
    }

    /// The valid entries as a detached [count, d] tensor and their labels.
    public func contents() -> (features: Tensor, labels: [Int]) {
        let n = count
        return (Tensor(shape: [n, dimension], data: Array(features[0..<(n * dimension)])), Array(labels[0..<n]))
    }

    /// State for checkpoints: features, labels, pointer and fullness.
    public func stateDict() -> [String: Tensor] {
        ["feats": Tensor(shape: [capacity, dimension], data: features),
         "targets": Tensor(shape: [capacity], data: labels.map(Float.init)),
         "ptr": Tensor(scalar: Float(pointer)), "is_full": Tensor(scalar: isFull ? 1 : 0)]
    }

    public func load(stateDict: [String: Tensor]) throws {
        guard let f = stateDict["feats"], let t = stateDict["targets"], let p = stateDict["ptr"], let full = stateDict["is_full"],
              f.count == capacity * dimension, t.count == capacity else {
            throw NNError.invalidArgument("cross-batch memory state does not fit a \(capacity) × \(dimension) memory")
        }
        features = f.data
        labels = t.data.map { Int($0) }
        pointer = Int(p.item)
        isFull = full.item != 0
    }

    private func write(_ rows: [Float], _ ys: [Int], at start: Int) {
        for (r, y) in ys.enumerated() {
            labels[start + r] = y
            for k in 0..<dimension { features[(start + r) * dimension + k] = rows[r * dimension + k] }
        }
    }
}
