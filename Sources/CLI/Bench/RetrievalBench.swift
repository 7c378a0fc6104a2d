import Foundation
import Retrieval
import TensorCore

/// Random unit vectors and process figures shared by the retrieval benchmarks.
enum RetrievalBench {
    /// `n × d` Gaussian rows scaled to unit length (seeded, so every run sees the same data).
    static func unitVectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            var s: Float = 0
            for j in 0..<d { let v = rng.normal(); x[i * d + j] = v; s += v * v }
            let inv = 1 / s.squareRoot()
            for j in 0..<d { x[i * d + j] *= inv }
        }
        return x
    }

    /// `n × d` unit rows around `clusters` seeded Gaussian centres (spread 0.35): clustered like
    /// real embeddings, which uniform noise is not.
    static func mixture(_ n: Int, _ d: Int, clusters: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in rng.normal() }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let c = Int(rng.next() % UInt64(clusters))
            var s: Float = 0
            for j in 0..<d { let v = centres[c * d + j] + 0.35 * rng.normal(); x[i * d + j] = v; s += v * v }
            let inv = 1 / s.squareRoot()
            for j in 0..<d { x[i * d + j] *= inv }
        }
        return x
    }

    /// Peak resident memory of this process so far, in MiB.
    static var peakRSSMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
