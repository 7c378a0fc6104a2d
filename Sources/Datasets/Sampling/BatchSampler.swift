import TensorCore

/// Plain batches (PaddleClas `DistributedBatchSampler`, torch `DataLoader(shuffle:drop_last:)`):
/// the indices in order or reshuffled each epoch, cut into `batchSize` chunks; `dropLast` drops
/// a final short batch.
public struct BatchSampler: BatchSampling {
    public var count: Int
    public var batchSize: Int
    public var shuffle: Bool
    public var dropLast: Bool
    public var seed: UInt64

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) throws {
        guard batchSize > 0 else { throw DatasetsError.badSampling("batch_size must be positive, got \(batchSize)") }
        guard count > 0 else { throw DatasetsError.badSampling("the dataset is empty") }
        if dropLast && count < batchSize {
            throw DatasetsError.badSampling("drop_last with \(count) items and batch_size \(batchSize) leaves no batch")
        }
        self.count = count; self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast; self.seed = seed
    }

    public func batches(epoch: Int) -> [[Int]] {
        var rng = RNG.derived(seed, epoch)
        let order = shuffle ? rng.permutation(count) : Array(0..<count)
        var result: [[Int]] = []
        var start = 0
        while start < count {
            let end = min(start + batchSize, count)
            if end - start == batchSize || !dropLast { result.append(Array(order[start..<end])) }
            start = end
        }
        return result
    }
}
