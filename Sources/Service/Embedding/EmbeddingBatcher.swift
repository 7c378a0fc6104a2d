import Dispatch
import Engine
import Foundation
import TensorCore

/// Runs the model for many requests at once (micro-batching) with a bounded number of
/// concurrent runs.
///
/// Requests queue their preprocessed images; whenever a runner is free it takes every queued
/// request that fits into `maxBatchSize` images and embeds them in one model run. Under load the
/// queue fills while the runners are busy, so batches grow by themselves; an idle service runs a
/// lone request at once, with no waiting window. Runs happen on their own threads, off the
/// server's event loops and Swift's cooperative pool.
public final class EmbeddingBatcher: @unchecked Sendable {
    private struct Job {
        let images: [Tensor]
        let continuation: CheckedContinuation<[[Float]], Error>
    }

    let model: InferenceModel
    let maxBatchSize: Int
    let maxRunners: Int
    /// Requests allowed to wait for a run; more get `ServiceOverloaded` (503).
    let maxPending: Int
    private let metrics: ServiceMetrics
    private var pending: [Job] = []
    private var running = 0
    private let lock = NSLock()
    private let idle = DispatchGroup()
    private let queue = DispatchQueue(label: "magpie.model-runs", attributes: .concurrent)

    public init(model: InferenceModel, maxBatchSize: Int, maxRunners: Int, maxPending: Int = 64, metrics: ServiceMetrics) {
        self.model = model
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxRunners = max(1, maxRunners)
        self.maxPending = max(1, maxPending)
        self.metrics = metrics
    }

    /// Embeddings of preprocessed `[1, C, H, W]` images, one row each, in order.
    public func embed(_ images: [Tensor]) async throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let queued = lock.withLock { () -> Bool in
                guard pending.count < maxPending else { return false }
                pending.append(Job(images: images, continuation: continuation))
                return true
            }
            guard queued else { return continuation.resume(throwing: ServiceOverloaded(queue: "model run")) }
            startRuns()
        }
    }

    /// Blocks until no model run is in progress (shutdown).
    public func waitUntilIdle() { idle.wait() }

    private func startRuns() {
        while let jobs = takeBatch() {
            queue.async { self.run(jobs) }
        }
    }

    /// The next batch, when a runner is free and work is queued (whole requests, in arrival order).
    private func takeBatch() -> [Job]? {
        lock.withLock {
            guard running < maxRunners, !pending.isEmpty else { return nil }
            var taken = [pending.removeFirst()]
            var images = taken[0].images.count
            while let next = pending.first, images + next.images.count <= maxBatchSize {
                taken.append(pending.removeFirst())
                images += next.images.count
            }
            running += 1
            idle.enter()
            metrics.modelRunsInFlight(running)
            return taken
        }
    }

    private func run(_ jobs: [Job]) {
        let images = jobs.flatMap(\.images)
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            var rows: [[Float]] = []
            rows.reserveCapacity(images.count)
            // A single request larger than the batch limit runs in several passes.
            for lo in stride(from: 0, to: images.count, by: maxBatchSize) {
                let out = try model.embed(preprocessed: Array(images[lo..<min(lo + maxBatchSize, images.count)]))
                let d = out.shape[1]
                for r in 0..<out.shape[0] { rows.append(Array(out.data[(r * d)..<((r + 1) * d)])) }
            }
            metrics.modelRun(images: images.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            var offset = 0
            for job in jobs {
                job.continuation.resume(returning: Array(rows[offset..<(offset + job.images.count)]))
                offset += job.images.count
            }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
        }
        lock.withLock {
            running -= 1
            metrics.modelRunsInFlight(running)
        }
        idle.leave()
        startRuns()
    }
}
