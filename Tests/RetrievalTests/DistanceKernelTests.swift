import Testing
import TensorCore
@testable import Retrieval

/// The distance kernels the approximate indexes rank by: the AVX-512 one (when this CPU runs
/// it) and the portable one against a plain double-precision sum, on lengths that exercise every
/// tail (none, under 8, under 16, under 32).
@Suite struct DistanceKernelTests {
    @Test(arguments: [1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 128, 129, 512])
    func kernelsMatchAPlainSum(length n: Int) {
        var rng = RNG(seed: UInt64(n))
        let a = (0..<n).map { _ in rng.uniform(-1, 1) }, b = (0..<n).map { _ in rng.uniform(-1, 1) }
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let l2 = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let (x, y) = (pa.baseAddress!, pb.baseAddress!)
                let tolerance = 1e-5 * Double(n)
                for (metric, expected) in [(DistanceMetric.innerProduct, -dot), (.l2, l2)] {
                    #expect(abs(Double(DistanceKernel.distance(x, y, count: n, metric: metric)) - expected) < tolerance)
                    #expect(abs(Double(DistanceKernel.portable(x, y, count: n, metric: metric)) - expected) < tolerance)
                }
            }
        }
    }

    /// The per-step batch call gives each listed row's distance, rows read `stride` floats apart.
    @Test func batchDistancesMatchOneAtATime() {
        let d = 37, stride = 45, rowsInBase = 20
        var rng = RNG(seed: 9)
        let query = (0..<d).map { _ in rng.uniform(-1, 1) }
        let base = (0..<(rowsInBase * stride)).map { _ in rng.uniform(-1, 1) }
        let rows: [Int32] = [19, 0, 7, 7, 3]
        for metric in [DistanceMetric.innerProduct, .l2] {
            var out = [Float](repeating: .nan, count: rows.count + 1)
            query.withUnsafeBufferPointer { q in
                base.withUnsafeBufferPointer { b in
                    rows.withUnsafeBufferPointer { r in
                        out.withUnsafeMutableBufferPointer { o in
                            DistanceKernel.distances(q.baseAddress!, base: b.baseAddress!, stride: stride, rows: r.baseAddress!, count: rows.count,
                                                     dimension: d, metric: metric, into: o.baseAddress!)
                        }
                    }
                }
                for (i, row) in rows.enumerated() {
                    let one = base.withUnsafeBufferPointer { DistanceKernel.distance(q.baseAddress!, $0.baseAddress! + Int(row) * stride, count: d, metric: metric) }
                    #expect(out[i] == one, "\(metric) row \(row)")
                }
            }
            #expect(out[rows.count].isNaN, "wrote past the rows")
        }
    }
}
