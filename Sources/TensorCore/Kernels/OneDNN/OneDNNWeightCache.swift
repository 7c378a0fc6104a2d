import Foundation

/// Weights already reordered into an inference primitive's layout (blocked, or Winograd's
/// transformed weights), so a model that embeds image after image reorders each weight once.
///
/// An entry keeps the source array alive, and Swift arrays copy on write: while the entry holds
/// the buffer, any write to the model's weights (an optimizer step, a checkpoint load, a test
/// nudging one element) first moves them to a new buffer. The same buffer address therefore
/// means the same values, and a changed weight simply misses. Entries are kept per primitive,
/// least recently used out first; several layers of one shape share a primitive, hence a list.
final class OneDNNWeightCache: @unchecked Sendable {
    private struct Entry {
        let source: [Float]
        let staged: OneDNNBuffer
        var lastUse: Int
    }
    private var entries: [Entry] = []
    private var clock = 0
    private let capacity: Int
    private let lock = NSLock()

    init(capacity: Int = 32) { self.capacity = capacity }

    /// Off while an inference graph traces a model: that eager pass runs once, and its staged
    /// weights would stay in the cache for nothing.
    @TaskLocal static var isEnabled = true

    /// `weights` in the primitive's layout: from the cache, or made by `stage` and remembered.
    func staged(_ weights: [Float], _ stage: () -> OneDNNBuffer) -> OneDNNBuffer {
        guard Self.isEnabled else { return stage() }
        let address = weights.withUnsafeBufferPointer { $0.baseAddress }
        lock.lock()
        clock += 1
        if let i = entries.firstIndex(where: { entry in
            entry.source.count == weights.count && entry.source.withUnsafeBufferPointer { $0.baseAddress } == address
        }) {
            entries[i].lastUse = clock
            let hit = entries[i].staged
            lock.unlock()
            return hit
        }
        lock.unlock()
        let made = stage()
        guard made.isCopy else { return made }  // the plain layout: nothing to keep
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity, let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            entries.remove(at: oldest)
        }
        entries.append(Entry(source: weights, staged: made, lastUse: clock))
        return made
    }
}
