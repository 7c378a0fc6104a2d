import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Magpie's own parallel loops on oneDNN's OpenMP threads (libgomp, loaded with oneDNN).
///
/// A training step alternates oneDNN primitives with Swift loops (BatchNorm, residual adds). On
/// a separate pool, OpenMP's workers spin-wait after each primitive while the Swift loop's
/// workers want the same cores; on one team the loop runs on the threads that are already
/// awake. Without libgomp, or inside another parallel region, loops fall back to Dispatch.
enum OpenMPTeam {
    private typealias Region = @convention(c) (UnsafeMutableRawPointer?) -> Void
    private typealias Start = @convention(c) (Region, UnsafeMutableRawPointer?, UInt32, UInt32) -> Void
    private typealias Query = @convention(c) () -> Int32

    private struct Functions {
        let start: Start, threadNumber: Query, threadCount: Query, inParallel: Query
    }

    nonisolated(unsafe) private static let functions: Functions? = {
        func symbol<T>(_ name: String, _ type: T.Type) -> T? {
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
        }
        guard let start = symbol("GOMP_parallel", Start.self), let number = symbol("omp_get_thread_num", Query.self),
              let count = symbol("omp_get_num_threads", Query.self), let inParallel = symbol("omp_in_parallel", Query.self)
        else { return nil }
        return Functions(start: start, threadNumber: number, threadCount: count, inParallel: inParallel)
    }()

    private struct Job {
        let body: (Int, Int) -> Void
    }

    /// Calls `body(worker, team)` once on each thread of a team of up to `workers` threads
    /// (`team` is the size OpenMP gave; split the work by it).
    static func run(_ workers: Int, _ body: (_ worker: Int, _ team: Int) -> Void) {
        guard let f = functions, f.inParallel() == 0 else {
            return DispatchQueue.concurrentPerform(iterations: workers) { body($0, workers) }
        }
        withoutActuallyEscaping(body) { body in
            var job = Job(body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                f.start({ context in
                    guard let f = OpenMPTeam.functions else { return }
                    let job = context!.assumingMemoryBound(to: Job.self)
                    job.pointee.body(Int(f.threadNumber()), Int(f.threadCount()))
                }, pointer, UInt32(workers), 0)
            }
        }
    }
}
