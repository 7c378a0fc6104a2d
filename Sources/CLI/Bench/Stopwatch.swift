import Foundation

/// Wall-clock timing for benchmarks.
enum Stopwatch {
    /// Best of `repeats` timed runs of `body`, in seconds, after one untimed warm-up run.
    static func best(repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}
