import CDNNL
import Foundation

/// What the inference graphs of one model share: the buffers their activations live in (graphs
/// run one at a time, so the largest graph's needs are enough for all) and the folded,
/// reordered weights (a graph for another batch size usually wants the same layouts).
///
/// The weights are keyed by the parameter tensors they came from, so a workspace belongs to one
/// model whose weights no longer change; compile new graphs with a new workspace after they do.
public final class InferenceWorkspace: @unchecked Sendable {
    let lock = NSLock()
    private(set) var buffers: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    /// The graph whose memory objects point into `buffers` now (they move when a buffer grows),
    /// by its serial number (an object address could come back for another graph).
    var boundGraph: Int?
    private static let serials = SerialNumbers()
    /// A number no other graph of this process has.
    static func nextSerial() -> Int { serials.next() }

    struct ConstantKey: Hashable {
        /// The parameter (weight or bias) the constant was made from.
        let source: ObjectIdentifier
        /// The BatchNorm running variance folded into it, if any.
        let folded: ObjectIdentifier?
    }
    private var constants: [ConstantKey: [OneDNNBuffer]] = [:]
    /// The tensors the keys name, kept alive so their identifiers stay theirs.
    private var sources: [Tensor] = []
    private let constantsLock = NSLock()

    public init() {}

    deinit { for b in buffers { b.pointer.deallocate() } }

    /// Makes `buffers` at least as many and as large as `sizes`; true when any moved.
    /// Call with `lock` held.
    func reserve(_ sizes: [Int]) -> Bool {
        var moved = false
        for (i, need) in sizes.enumerated() {
            if i == buffers.count {
                buffers.append((.allocate(byteCount: Swift.max(need, 64), alignment: 64), need))
                moved = true
            } else if buffers[i].bytes < need {
                buffers[i].pointer.deallocate()
                buffers[i] = (.allocate(byteCount: need, alignment: 64), need)
                moved = true
            }
        }
        return moved
    }

    /// The constant for `key` in layout `desc`: made by `make` once, then shared. `sources`
    /// (the tensors `key` names) are kept alive with it.
    func constant(_ key: ConstantKey, sources keys: [Tensor], _ desc: dnnl_memory_desc_t, _ make: () -> OneDNNBuffer) -> OneDNNBuffer {
        constantsLock.lock()
        defer { constantsLock.unlock() }
        if let hit = constants[key]?.first(where: { OneDNN.equal($0.layout, desc) }) { return hit }
        let made = make()
        constants[key, default: []].append(made)
        sources += keys
        return made
    }
}

/// Process-wide serial numbers.
final class SerialNumbers: @unchecked Sendable {
    private var last = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        last += 1
        return last
    }
}
