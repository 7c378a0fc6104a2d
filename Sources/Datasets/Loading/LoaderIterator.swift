import Foundation

/// Shared state between the worker threads and the consumer.
final class LoaderState: @unchecked Sendable {
    let condition = NSCondition()
    let total: Int
    var nextToClaim = 0
    var nextToConsume = 0
    var results: [Int: Result<Batch, Error>] = [:]
    var cancelled = false
    var earlyError: Error?

    init(total: Int) { self.total = total }

    /// The next batch position to load, waiting while `prefetch` batches are ready ahead; nil when done.
    func claim(prefetch: Int) -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !cancelled && nextToClaim < total && nextToClaim >= nextToConsume + prefetch { condition.wait() }
        guard !cancelled && nextToClaim < total else { return nil }
        nextToClaim += 1
        return nextToClaim - 1
    }

    func deliver(_ position: Int, _ result: Result<Batch, Error>) {
        condition.lock()
        results[position] = result
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Result<Batch, Error>? {
        condition.lock(); defer { condition.unlock() }
        guard nextToConsume < total else { return nil }
        while results[nextToConsume] == nil {
            if cancelled && nextToConsume >= nextToClaim { return nil }   // stopped: nothing more will arrive
            condition.wait()
        }
        let r = results.removeValue(forKey: nextToConsume)!
        nextToConsume += 1
        condition.broadcast()
        return r
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Hands out the batches of one epoch in order. Dropping it stops the workers.
public final class LoaderIterator {
    let state: LoaderState

    init(state: LoaderState) { self.state = state }
    deinit { state.cancel() }

    /// The next batch, nil after the last; rethrows a worker's error (the loader then stops).
    /// Under the skip policy, batches whose items were all skipped are passed over.
    public func next() throws -> Batch? {
        if let error = state.earlyError { state.earlyError = nil; state.cancel(); throw error }
        while let result = state.take() {
            switch result {
            case let .success(batch):
                if batch.indices.isEmpty { continue }
                return batch
            case let .failure(error):
                state.cancel()
                throw error
            }
        }
        return nil
    }
}
