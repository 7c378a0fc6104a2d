import Foundation

/// Every oneDNN convolution built so far, by shape and options, for the life of the process.
enum OneDNNConvolutionCache {
    nonisolated(unsafe) private static var built: [OneDNNConvolution.Key: OneDNNConvolution?] = [:]
    private static let lock = NSLock()

    /// The convolution for `key`, built on first use; nil when oneDNN has no implementation
    /// for it (the caller then runs the im2col kernels).
    static func convolution(_ key: OneDNNConvolution.Key) -> OneDNNConvolution? {
        lock.lock()
        defer { lock.unlock() }
        if let hit = built[key] { return hit }
        let made = OneDNNConvolution(key)
        built[key] = .some(made)
        if let made { KernelReport.record(made) }
        return made
    }
}
