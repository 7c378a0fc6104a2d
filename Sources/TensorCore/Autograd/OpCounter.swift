/// Counts multiply-accumulates of conv2d and matmul while a closure runs (for `magpie models`).
public final class OpCounter: @unchecked Sendable {
    @TaskLocal static var current: OpCounter?

    /// Multiply-accumulates recorded so far.
    public private(set) var macs = 0

    /// Runs `body` and returns its result with the MACs of every conv2d/matmul it performed.
    public static func counting<T>(_ body: () throws -> T) rethrows -> (T, Int) {
        let counter = OpCounter()
        let result = try $current.withValue(counter) { try body() }
        return (result, counter.macs)
    }

    @inline(__always) static func record(_ macs: Int) {
        if let c = current { c.macs += macs }
    }
}
