import CDNNL
import Foundation

/// Reorder primitives between pairs of layouts, built on first use and kept. A convolution
/// needs a handful (its inputs in, its outputs out), so a locked list is enough.
final class OneDNNReorderCache: @unchecked Sendable {
    private struct Entry {
        let from, to: dnnl_memory_desc_t
        let reorder: OneDNNPrimitive?
    }
    private var entries: [Entry] = []
    private let lock = NSLock()

    /// The reorder from `from` to `to`, or nil when the layouts are the same.
    func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> OneDNNPrimitive? {
        lock.lock()
        defer { lock.unlock() }
        if let hit = entries.first(where: { OneDNN.equal($0.from, from) && OneDNN.equal($0.to, to) }) {
            return hit.reorder
        }
        let made = OneDNNPrimitive.reorder(from: from, to: to)
        entries.append(Entry(from: from, to: to, reorder: made))
        return made
    }
}
