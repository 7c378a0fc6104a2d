import Dispatch

/// Splits loops across the machine's cores when the work is big enough to pay for the hand-off.
public enum Parallel {
    /// Worker count for our own loops, and the thread count of OpenBLAS and of oneDNN's OpenMP
    /// (they take turns, never nest): the machine's cores, or MAGPIE_NUM_THREADS when set.
    public static let cores: Int = {
        if let text = getenv("MAGPIE_NUM_THREADS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return max(1, sysconf_cores())
    }()

    /// Applies MAGPIE_NUM_THREADS to OpenBLAS (oneDNN takes `cores` on every call). The one
    /// knob for all three pools; without it each uses every core, which is the same thing.
    public static func applyThreadSetting() {
        guard getenv("MAGPIE_NUM_THREADS") != nil else { return }
        GEMM.threads = cores
    }

    /// Calls `body(range)` over contiguous chunks of 0..<count, in parallel when
    /// `count * costPerItem` exceeds roughly 32k elementary operations.
    @inline(__always)
    public static func chunks(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(cores, count)
        if workers <= 1 || count * costPerItem < 32_768 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func sysconf_cores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#else
import Darwin
private func sysconf_cores() -> Int { Int(sysconf(_SC_NPROCESSORS_ONLN)) }
#endif

/// `DispatchQueue.concurrentPerform` for kernels that manage their own chunking.
enum DispatchQueueBridge {
    static func concurrentPerform(_ iterations: Int, _ body: (Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }
}
