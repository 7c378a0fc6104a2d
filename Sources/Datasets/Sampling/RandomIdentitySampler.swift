import TensorCore

/// The PK sampler (`RandomIdentitySampler`): each batch holds P = batchSize / K distinct classes
/// with K images each, as XBM and PaddleClas metric learning train.
///
/// Per round every class's indices are shuffled and cut into K-chunks; each batch draws P
/// classes without replacement with probability proportional to their remaining chunks and pops
/// one chunk from each; a class with no chunks left leaves the pool, and when fewer than P
/// classes remain a new round starts (the rest of the old one is dropped). An epoch is
/// `maxIters` batches. The two variants differ only in how a class's list is made a multiple of K:
/// * `.xbm` (official XBM): pads it with `K − n mod K` indices drawn with replacement;
/// * `.paddleClas` (`DistributedRandomIdentitySampler`): a class with n < K is resampled with
///   replacement to exactly K, otherwise the `n mod K` leftovers are dropped.
public struct RandomIdentitySampler: BatchSampling {
    public enum Variant: Sendable { case xbm, paddleClas }

    public let batchSize: Int
    public let instancesPerClass: Int
    public let maxIters: Int
    public let variant: Variant
    public let seed: UInt64
    /// Item indices of each class, classes in ascending label order.
    let classMembers: [[Int]]

    public var classesPerBatch: Int { batchSize / instancesPerClass }

    public init(labels: [Int], batchSize: Int, instancesPerClass: Int, maxIters: Int,
                variant: Variant = .xbm, seed: UInt64 = 0) throws {
        guard instancesPerClass > 0, batchSize > 0, batchSize % instancesPerClass == 0 else {
            throw DatasetsError.badSampling("batch_size \(batchSize) must be a positive multiple of num_instances \(instancesPerClass)")
        }
        guard maxIters > 0 else { throw DatasetsError.badSampling("max_iters must be positive") }
        var byLabel: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { byLabel[l, default: []].append(i) }
        let p = batchSize / instancesPerClass
        guard byLabel.count >= p else {
            throw DatasetsError.badSampling("\(byLabel.count) classes cannot fill \(p) distinct classes per batch (batch_size / num_instances)")
        }
        classMembers = byLabel.keys.sorted().map { byLabel[$0]! }
        self.batchSize = batchSize; self.instancesPerClass = instancesPerClass; self.maxIters = maxIters
        self.variant = variant; self.seed = seed
    }

    /// One round: per class, its K-chunks.
    private func prepareRound(_ rng: inout RNG) -> [[[Int]]] {
        let k = instancesPerClass
        return classMembers.map { members in
            var list = rng.permutation(members.count).map { members[$0] }
            switch variant {
            case .xbm:
                if list.count % k != 0 {
                    let extra = (0..<(k - list.count % k)).map { _ in list[rng.int(below: list.count)] }
                    list += extra
                    list = rng.permutation(list.count).map { list[$0] }
                }
            case .paddleClas:
                if list.count < k {
                    list = (0..<k).map { _ in list[rng.int(below: list.count)] }
                } else {
                    list.removeLast(list.count % k)
                }
            }
            return stride(from: 0, to: list.count, by: k).map { Array(list[$0..<($0 + k)]) }
        }
    }

    public func batches(epoch: Int) -> [[Int]] {
        var rng = RNG.derived(seed, epoch)
        let p = classesPerBatch
        var chunks = prepareRound(&rng)
        var available = Array(chunks.indices)
        var result: [[Int]] = []
        result.reserveCapacity(maxIters)
        for _ in 0..<maxIters {
            if available.count < p {
                chunks = prepareRound(&rng)
                available = Array(chunks.indices)
            }
            // P classes without replacement, each draw ∝ remaining chunk count (numpy's choice(replace=False, p=…)).
            var pool = available
            var selected: [Int] = []
            for _ in 0..<p {
                let total = pool.reduce(0) { $0 + chunks[$1].count }
                var r = rng.int(below: total)
                var pick = 0
                while r >= chunks[pool[pick]].count { r -= chunks[pool[pick]].count; pick += 1 }
                selected.append(pool.remove(at: pick))
            }
            var batch: [Int] = []
            for c in selected {
                batch += chunks[c].removeFirst()
                if chunks[c].isEmpty { available.removeAll { $0 == c } }
            }
            result.append(batch)
        }
        return result
    }
}
