import Foundation

/// The oneDNN convolutions built so far, by shape and options. A training run or a model
/// embedding fixed-size batches reuses a few dozen; a service batching requests of every size
/// makes more, so the least recently used are dropped past `capacity` (each holds JIT code and
/// reordered inference weights). A dropped one still in use lives on until its tape ends.
enum OneDNNConvolutionCache {
    private struct Entry {
        let convolution: OneDNNConvolution?
        var lastUse: Int
    }
    nonisolated(unsafe) private static var built: [OneDNNConvolution.Key: Entry] = [:]
    nonisolated(unsafe) private static var clock = 0
    static let capacity = 512
    private static let lock = NSLock()

    /// The convolution for `key`, built on first use; nil when oneDNN has no implementation
    /// for it (the caller then runs the im2col kernels).
    static func convolution(_ key: OneDNNConvolution.Key) -> OneDNNConvolution? {
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        if let hit = built[key] {
            built[key]?.lastUse = clock
            return hit.convolution
        }
        if built.count >= capacity, let oldest = built.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            built[oldest] = nil
        }
        let made = OneDNNConvolution(key)
        built[key] = Entry(convolution: made, lastUse: clock)
        if let made { KernelReport.record(made) }
        return made
    }
}
