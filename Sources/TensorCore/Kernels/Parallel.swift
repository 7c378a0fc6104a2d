import Dispatch

/// Splits loops across the machine's cores when the work is big enough to pay for the hand-off.
public enum Parallel {
    /// Worker count for our own loops, and the thread count of OpenBLAS and of oneDNN's OpenMP
    /// (they take turns, never nest): MAGPIE_NUM_THREADS when set; else the machine's cores,
    /// shared out among the ranks `mpirun` started on this machine (OMPI_COMM_WORLD_LOCAL_SIZE),
    /// so a data-parallel job never oversubscribes the cores.
    public static let cores: Int = {
        if let n = positiveEnvironmentInteger("MAGPIE_NUM_THREADS") { return n }
        return max(1, sysconf_cores() / (localRanks ?? 1))
    }()

    /// Ranks of an MPI job on this machine; nil outside `mpirun`.
    static var localRanks: Int? { positiveEnvironmentInteger("OMPI_COMM_WORLD_LOCAL_SIZE") }

    /// Applies `cores` to OpenBLAS (oneDNN takes `cores` on every call): the one knob for all
    /// three pools. Without MAGPIE_NUM_THREADS or mpirun each uses every core, the same thing.
    public static func applyThreadSetting() {
        guard getenv("MAGPIE_NUM_THREADS") != nil || localRanks != nil else { return }
        GEMM.threads = cores
    }

    private static func positiveEnvironmentInteger(_ name: String) -> Int? {
        guard let text = getenv(name).map({ String(cString: $0) }), let n = Int(text), n > 0 else { return nil }
        return n
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
        OpenMPTeam.run(workers) { w, team in
            let lo = count * w / team, hi = count * (w + 1) / team
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
