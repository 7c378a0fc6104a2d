import Foundation

/// A fixed set of threads for the CPU-heavy part of requests (multipart parsing, image decoding,
/// preprocessing, search, gallery writes) with a bounded queue.
///
/// Route handlers run on Swift's cooperative pool, which has one thread per core: CPU work done
/// there directly would stall every other request, `/healthz` included. Here it waits in a queue
/// of at most `maxQueued` jobs; a full queue answers `ServiceOverloaded` at once (503 with
/// `Retry-After`) instead of letting latency and memory grow without bound.
final class RequestWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopped = false
    private var live = 0
    private var busy = 0
    let threads: Int
    let maxQueued: Int

    init(threads: Int, maxQueued: Int, name: String = "magpie.request-worker") {
        self.threads = max(1, threads)
        self.maxQueued = max(0, maxQueued)
        for i in 0..<self.threads {
            let thread = Thread { [self] in loop() }
            thread.name = "\(name)-\(i)"
            thread.stackSize = 8 << 20
            live += 1
            thread.start()
        }
    }

    /// Jobs waiting for a thread now.
    var queued: Int { condition.withLock { jobs.count - head } }

    /// Runs `work` on a worker thread; throws `ServiceOverloaded` when the queue is full and
    /// `CancellationError` after `stop()`.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = condition.withLock { () -> Bool in
                // Waiting plus running stays within the threads plus the queue.
                guard !stopped, jobs.count - head + busy < threads + maxQueued else { return false }
                jobs.append { continuation.resume(with: Result { try work() }) }
                condition.signal()
                return true
            }
            if !accepted {
                continuation.resume(throwing: condition.withLock { stopped } ? CancellationError() : ServiceOverloaded(queue: "request workers"))
            }
        }
    }

    /// Refuses new jobs, lets the queued ones finish, and returns when every thread has ended.
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
            while live > 0 { condition.wait() }
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while head == jobs.count, !stopped { condition.wait() }
            if head == jobs.count {
                live -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs[head]
            jobs[head] = {}  // drop the closure now: it holds the request's bytes
            head += 1
            if head > 1024, head * 2 > jobs.count {  // drop the consumed prefix now and then
                jobs.removeFirst(head)
                head = 0
            }
            busy += 1
            condition.unlock()
            job()
            condition.withLock { busy -= 1 }
        }
    }
}

/// A bounded queue is full: the client should retry later (503 + `Retry-After`).
struct ServiceOverloaded: Error, CustomStringConvertible {
    let queue: String
    var description: String { "the service is busy (\(queue) queue full); retry in a second" }
}
