import Foundation
import TensorCore

/// sgemm throughput on square matrices.
enum GEMMBench {
    struct Row { let size: Int; let seconds: Double; var gflops: Double { 2 * pow(Double(size), 3) / seconds / 1e9 } }

    struct Report {
        let rows: [Row]
        var peak: Double { rows.map(\.gflops).max() ?? 0 }

        var table: String {
            var lines = ["sgemm (OpenBLAS \(GEMM.coreName), \(GEMM.threads) threads)",
                         "  size      ms   GFLOP/s"]
            for r in rows {
                lines.append(String(format: "%6d %7.2f %9.1f", r.size, r.seconds * 1e3, r.gflops))
            }
            lines.append(String(format: "peak: %.1f GFLOP/s", peak))
            return lines.joined(separator: "\n")
        }

        var json: String {
            let items = rows.map { String(format: "{\"size\":%d,\"seconds\":%.6f,\"gflops\":%.2f}", $0.size, $0.seconds, $0.gflops) }
            return "{\"bench\":\"gemm\",\"core\":\"\(GEMM.coreName)\",\"threads\":\(GEMM.threads),"
                + String(format: "\"peak_gflops\":%.2f,", peak) + "\"rows\":[\(items.joined(separator: ","))]}"
        }
    }

    static func run(sizes: [Int], repeats: Int) -> Report {
        Report(rows: sizes.map { n in
            Row(size: n, seconds: time(m: n, n: n, k: n, repeats: repeats))
        })
    }

    /// Seconds for one C[m×n] = A[m×k]·B[k×n] (or with transposes) on random data.
    static func time(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, repeats: Int) -> Double {
        var rng = RNG(seed: 1)
        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        var c = [Float](repeating: 0, count: m * n)
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Stopwatch.best(repeats: repeats) {
                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                   a: pa.baseAddress!, lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n,
                                   c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }
}
