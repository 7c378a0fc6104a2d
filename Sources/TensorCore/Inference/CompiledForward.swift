import Foundation

/// A model's eval-mode forward pass through inference graphs compiled on first use, one per
/// input shape, sharing one workspace (weights and activation buffers). Batches of up to
/// `wholeBatches` images run whole, each size its own graph (a service micro-batching 1…16
/// images: one run per batch; splitting 7 into 4 + 2 + 1 made a loaded service 20 % slower);
/// a larger batch is split into power-of-two parts (50 runs as 32 + 16 + 2). Runs eagerly where
/// the options in force (`ConvolutionOptions.current`) rule the graph out or the model has an
/// op it cannot compile.
///
/// The weights are captured when a graph is compiled: use this for a model whose weights no
/// longer change (a loaded checkpoint), not during training.
public final class CompiledForward: @unchecked Sendable {
    private let forward: (Tensor) -> Tensor
    private var graphs: [String: InferenceGraph] = [:]
    private var refused: Set<String> = []
    private let workspace = InferenceWorkspace()
    private let lock = NSLock()
    /// Told with the reason the first time a shape cannot be compiled and runs eagerly.
    public var onFallback: (@Sendable (String) -> Void)?
    private var toldFallback = false

    public init(_ forward: @escaping (Tensor) -> Tensor) { self.forward = forward }

    /// Batches up to this size run whole, each size its own graph; larger ones are split.
    public static let wholeBatches = 16

    /// The model's output for `x` (no tape).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let options = ConvolutionOptions.current
        guard options.usesInferenceGraph, x.rank >= 1, x.shape[0] > 0 else { return withNoGrad { forward(x) } }
        let n = x.shape[0]
        if n <= Self.wholeBatches { return run(x, options) }
        var parts: [Range<Int>] = []
        var start = 0
        while start < n {
            let size = 1 << (Int.bitWidth - 1 - (n - start).leadingZeroBitCount)  // the largest power of two that fits
            parts.append(start..<(start + size))
            start += size
        }
        if parts.count == 1 { return run(x, options) }
        return withNoGrad { concat(parts.map { run(x.slice(axis: 0, $0), options) }, axis: 0) }
    }

    private func run(_ x: Tensor, _ options: ConvolutionOptions) -> Tensor {
        let key = "\(x.shape) \(options)"
        lock.lock()
        if let graph = graphs[key] {
            lock.unlock()
            return graph(x)
        }
        if refused.contains(key) {
            lock.unlock()
            return withNoGrad { forward(x) }
        }
        // Compiled under the lock: a second caller with the same shape waits instead of compiling again.
        do {
            let graph = try InferenceGraph.compile(input: x, options: options, workspace: workspace, forward)
            graphs[key] = graph
            lock.unlock()
            return graph(x)
        } catch {
            refused.insert(key)
            let tell = !toldFallback
            toldFallback = true
            lock.unlock()
            if tell { onFallback?("\(error)") }
            return withNoGrad { forward(x) }
        }
    }
}
