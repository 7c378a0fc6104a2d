import Foundation

/// Which convolution kernels this process has run, for `magpie bench` and logs: oneDNN's
/// implementation names (e.g. "jit_wino_4x3:avx512_core", "jit:avx512_core") with the number of
/// distinct shapes each served, and the shapes that ran on im2col + OpenBLAS.
public enum KernelReport {
    nonisolated(unsafe) private static var shapes: [String: Set<ConvGeometry>] = [:]
    private static let lock = NSLock()

    static func record(_ conv: OneDNNConvolution) {
        lock.lock()
        defer { lock.unlock() }
        for name in Set(conv.implementations) { shapes[name, default: []].insert(conv.geometry) }
    }

    static func record(_ implementation: String, _ g: ConvGeometry) {
        lock.lock()
        defer { lock.unlock() }
        shapes[implementation, default: []].insert(g)
    }

    static func recordIm2col(_ g: ConvGeometry) {
        lock.lock()
        defer { lock.unlock() }
        shapes["im2col+openblas", default: []].insert(g)
    }

    /// Kernel name → number of distinct convolution shapes it ran, most used first.
    public static var convolutions: [(kernel: String, shapes: Int)] {
        lock.lock()
        defer { lock.unlock() }
        return shapes.map { ($0.key, $0.value.count) }.sorted { ($0.shapes, $1.kernel) > ($1.shapes, $0.kernel) }
    }

    /// One line: "jit_wino_4x3:avx512_core ×6, jit:avx512_core ×4".
    public static var summary: String {
        let list = convolutions
        return list.isEmpty ? "no convolutions" : list.map { "\($0.kernel) ×\($0.shapes)" }.joined(separator: ", ")
    }

    /// oneDNN's version, or "none" without a CPU engine.
    public static var oneDNNVersion: String { OneDNN.engine == nil ? "none" : OneDNN.version }
}
