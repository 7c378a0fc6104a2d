import Cluster
import Datasets
import Foundation
import NN
import TensorCore

/// Data-parallel training over the ranks of a job (`mpirun -np N magpie train`), or nothing at all
/// on one process.
///
/// Every rank builds the same model from the same seed and draws the same global batches; each
/// takes a contiguous slice of every batch (`shard`), so the ranks' slices joined in rank order
/// are the batch a single process would load, with the same augmentation. After the backward
/// pass the gradients are summed over ranks in one buffer (`sumGradients`), so every rank takes
/// the same optimizer step and the weights stay identical. Rank 0 alone writes logs, checkpoints
/// and evaluates.
public final class DataParallel {
    public let communicator: Communicator
    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    public var isLeader: Bool { communicator.isLeader }
    public var isDistributed: Bool { size > 1 }
    /// Seconds spent in collectives (gradient sums, gathers, BatchNorm statistics) so far.
    public private(set) var communicationSeconds = 0.0
    /// Of those, the gradient sums, and how many there were.
    public private(set) var gradientSeconds = 0.0
    public private(set) var gradientSums = 0
    /// Values summed per gradient reduction (parameters plus one presence flag each).
    public private(set) var gradientValues = 0
    private var gradientBuffer: [Float] = []

    public init(_ communicator: Communicator = SingleProcess()) {
        self.communicator = communicator
    }

    /// The world of this process (`Cluster.world()`).
    public static func world() -> DataParallel { DataParallel(Cluster.world()) }

    /// This rank's part of `count` items: contiguous, in rank order, sizes differing by at most one.
    public func slice(of count: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// This rank's slice of every batch, and where each slice starts in its batch (for the
    /// loader's random streams). A batch smaller than the number of ranks would leave a rank with
    /// nothing to run: an error naming the batch size.
    public func shard(_ batches: [[Int]], what: String) throws -> (batches: [[Int]], firstSlots: [Int]) {
        guard isDistributed else { return (batches, []) }
        if let small = batches.first(where: { $0.count < size }) {
            throw EngineError.config("\(what): a batch of \(small.count) images cannot be split over \(size) ranks; raise batch_size")
        }
        let slices = batches.map { slice(of: $0.count) }
        return (zip(batches, slices).map { Array($0[$1]) }, slices.map(\.lowerBound))
    }

    /// This rank's share of `loader`'s `batches` for `epoch`, loading.
    public func iterator<S>(_ loader: DataLoader<S>, batches: [[Int]], epoch: Int, what: String) throws -> LoaderIterator {
        let shard = try shard(batches, what: what)
        return loader.makeIterator(batches: shard.batches, epoch: epoch, firstSlots: shard.firstSlots)
    }

    /// Averages every parameter's gradient over the ranks, weighting each rank by its share of
    /// the `images` the step ran (losses that are means over a rank's images: the result is the
    /// gradient of the mean over the whole batch).
    public func averageGradients(of parameters: [Tensor], images: Int) {
        guard isDistributed else { return }
        sumGradients(of: parameters, localWeight: Float(Double(images) / sum(Double(images))))
    }

    /// Sums every parameter's gradient over the ranks, each rank's first scaled by `localWeight`.
    /// A parameter keeps no gradient only when no rank produced one (as on one process, where the
    /// optimizer skips it).
    public func sumGradients(of parameters: [Tensor], localWeight: Float = 1) {
        guard isDistributed else { return }
        let trainable = parameters.filter(\.requiresGrad)
        let total = trainable.reduce(0) { $0 + $1.count } + trainable.count
        if gradientBuffer.count != total { gradientBuffer = [Float](repeating: 0, count: total) }
        gradientValues = total
        var offset = 0
        for p in trainable {
            if let g = p.grad {
                for i in 0..<g.count { gradientBuffer[offset + i] = g[i] * localWeight }
                gradientBuffer[offset + p.count] = 1
            } else {
                for i in 0..<p.count { gradientBuffer[offset + i] = 0 }
                gradientBuffer[offset + p.count] = 0
            }
            offset += p.count + 1
        }
        let before = communicationSeconds
        timed { gradientBuffer.withUnsafeMutableBufferPointer { communicator.sum($0) } }
        gradientSeconds += communicationSeconds - before
        gradientSums += 1
        offset = 0
        for p in trainable {
            if gradientBuffer[offset + p.count] > 0 {
                p.grad = Array(gradientBuffer[offset..<(offset + p.count)])
            }
            offset += p.count + 1
        }
    }

    /// The rows of every rank's `local` [n_r, …] joined in rank order: the whole batch's
    /// features. This rank's rows stay on the tape (their gradient flows back into this rank's
    /// network); the other ranks' rows are constants, whose gradients those ranks compute
    /// themselves from the same joined batch.
    public func gatherRows(_ local: Tensor) -> Tensor {
        guard isDistributed else { return local }
        let rowSize = local.count / max(local.shape[0], 1)
        let (all, counts) = timed { communicator.gather(local.data) }
        let before = counts[..<rank].reduce(0, +) / max(rowSize, 1), mine = local.shape[0]
        let trailing = Array(local.shape.dropFirst())
        var parts: [Tensor] = []
        if before > 0 { parts.append(Tensor(shape: [before] + trailing, data: Array(all[..<(before * rowSize)]))) }
        parts.append(local)
        let after = (all.count / max(rowSize, 1)) - before - mine
        if after > 0 { parts.append(Tensor(shape: [after] + trailing, data: Array(all[((before + mine) * rowSize)...]))) }
        return parts.count == 1 ? local : concat(parts, axis: 0)
    }

    /// Every rank's labels joined in rank order.
    public func gather(_ labels: [Int]) -> [Int] {
        guard isDistributed else { return labels }
        return timed { communicator.gather(labels.map(Int64.init)).values.map(Int.init) }
    }

    /// The sum over ranks of `value`.
    public func sum(_ value: Double) -> Double {
        guard isDistributed else { return value }
        var v = [value]
        timed { communicator.sum(&v) }
        return v[0]
    }

    /// Whether any rank says so (a stop that one rank alone took would leave the others waiting).
    public func any(_ flags: [Bool]) -> [Bool] {
        guard isDistributed else { return flags }
        var v = flags.map { $0 ? 1.0 : 0.0 }
        timed { communicator.maximum(&v) }
        return v.map { $0 > 0 }
    }

    /// Rank 0's value on every rank.
    public func fromLeader(_ value: Double) -> Double {
        guard isDistributed else { return value }
        var v = [value]
        timed { communicator.broadcast(&v) }
        return v[0]
    }

    /// The mean over ranks of each logged value, over the ranks that logged it (a rank may
    /// leave one out, e.g. FixMatch's pseudo-label accuracy when it has no confident label). In
    /// the order this rank logged them, then names only other ranks logged.
    public func mean(_ values: [(String, Double)]) -> [(String, Double)] {
        guard isDistributed else { return values }
        // Names travel as text: "name\tvalue" lines, gathered from every rank.
        let text = values.map { "\($0.0)\t\($0.1.bitPattern)" }.joined(separator: "\n") + "\n"
        let all = timed { communicator.gather(text.utf8.map { Int64($0) }).values }
        var sums: [String: (total: Double, count: Int)] = [:], order = values.map(\.0)
        for line in String(decoding: all.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let bits = UInt64(parts[1]) else { continue }
            let name = String(parts[0])
            if sums[name] == nil && !order.contains(name) { order.append(name) }
            sums[name, default: (0, 0)].total += Double(bitPattern: bits)
            sums[name, default: (0, 0)].count += 1
        }
        return order.compactMap { name in sums[name].map { (name, $0.total / Double($0.count)) } }
    }

    /// Runs `body` with BatchNorm statistics summed over all ranks when `synchronised` (and
    /// there is more than one rank), else per rank.
    public func withBatchNorm<T>(synchronised: Bool, _ body: () throws -> T) rethrows -> T {
        guard isDistributed, synchronised else { return try body() }
        nonisolated(unsafe) let parallel = self
        return try BatchNormSync.$reduce.withValue({ values in parallel.timed { parallel.communicator.sum(&values) } }, operation: body)
    }

    /// Checks that every rank holds the same state, from fingerprints each rank computes the
    /// same way (sums of its weights, of its memory, …): ranks that drifted apart would go on
    /// training different models without a word. Throws naming what differs.
    public func expectIdentical(_ fingerprints: [(String, Double)]) throws {
        guard isDistributed else { return }
        var extremes = fingerprints.map(\.1) + fingerprints.map { -$0.1 }
        timed { communicator.maximum(&extremes) }
        let n = fingerprints.count
        for (i, (name, _)) in fingerprints.enumerated() where extremes[i] != -extremes[n + i] {
            throw EngineError.data("the ranks hold different \(name) (fingerprints from \(-extremes[n + i]) to \(extremes[i])): "
                                   + "they no longer train one model; check that every rank reads the same config and data")
        }
    }

    /// The sum of `values` in Double, a fingerprint for `expectIdentical`.
    public static func fingerprint<C: Collection>(_ values: C) -> Double where C.Element == Float {
        values.reduce(0.0) { $0 + Double($1) }
    }

    /// One line on the time spent communicating, for the end of a run.
    public func report(trainingSeconds: Double) -> String {
        String(format: "data parallel: gradient sums %.2f s (%d sums of %d values, %.1f ms each), other collectives %.2f s, of %.1f s training",
               gradientSeconds, gradientSums, gradientValues, 1000 * gradientSeconds / Double(max(gradientSums, 1)),
               communicationSeconds - gradientSeconds, trainingSeconds)
    }

    private func timed<T>(_ body: () -> T) -> T {
        let start = Date()
        defer { communicationSeconds += Date().timeIntervalSince(start) }
        return body()
    }
}
