import Dispatch
import TensorCore

/// Scores query blocks against gallery chunks with one sgemm per tile and hands each tile to a
/// consumer. Higher scores are closer: IP tiles hold ⟨q, g⟩; L2 tiles hold 2⟨q, g⟩ − ‖g‖²
/// (= ‖q‖² − ‖q − g‖², the same order as the distance). Workers own whole query blocks, so a
/// consumer may keep per-query state without locks. Memory: one tile per worker.
struct ScoreScan {
    let gallery: UnsafePointer<Float>
    let galleryCount: Int
    let dimension: Int
    let metric: DistanceMetric
    /// −‖g‖² per gallery row (L2 only).
    let negatedNorms: [Float]
    /// 512 × 512 floats = 1 MiB: the tile stays in L2 between the sgemm that writes it and the scan.
    var queryBlock = 512
    var galleryChunk = 512

    init(gallery: UnsafePointer<Float>, count: Int, dimension: Int, metric: DistanceMetric) {
        self.gallery = gallery
        galleryCount = count
        self.dimension = dimension
        self.metric = metric
        if metric == .l2 {
            negatedNorms = (0..<count).map { i in
                var s: Float = 0
                for j in 0..<dimension { s += gallery[i * dimension + j] * gallery[i * dimension + j] }
                return -s
            }
        } else {
            negatedNorms = []
        }
    }

    /// Calls `body(queryRange, chunkRange, tile)` for every tile, `tile` row-major with row stride
    /// `chunkRange.count`. Query blocks run in parallel; chunks of one block run in order.
    func run(queries: UnsafePointer<Float>, count queryCount: Int,
             _ body: (Range<Int>, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let blocks = (queryCount + queryBlock - 1) / queryBlock
        guard blocks > 0, galleryCount > 0 else { return }
        let workers = max(1, min(Parallel.cores, blocks))
        let savedThreads = GEMM.threads
        if workers > 1 { GEMM.threads = 1 }  // our threads split the work; OpenBLAS must not nest
        defer { if workers > 1 { GEMM.threads = savedThreads } }
        let d = dimension
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * galleryChunk)
            defer { tile.deallocate() }
            var b = w
            while b < blocks {
                let q0 = b * queryBlock, q1 = min(queryCount, q0 + queryBlock)
                var g0 = 0
                while g0 < galleryCount {
                    let g1 = min(galleryCount, g0 + galleryChunk)
                    let m = q1 - q0, n = g1 - g0
                    var beta: Float = 0, alpha: Float = 1
                    if metric == .l2 {
                        negatedNorms.withUnsafeBufferPointer { norms in
                            for r in 0..<m { (tile + r * n).update(from: norms.baseAddress! + g0, count: n) }
                        }
                        beta = 1; alpha = 2
                    }
                    GEMM.sgemm(transB: true, m: m, n: n, k: d, alpha: alpha, a: queries + q0 * d, lda: d,
                               b: gallery + g0 * d, ldb: d, beta: beta, c: tile, ldc: n)
                    body(q0..<q1, g0..<g1, tile)
                    g0 = g1
                }
                b += workers
            }
        }
    }
}
