import CBLAS

/// Row-major single-precision matrix multiply on OpenBLAS.
/// Dimension letters: C[M×N] = α·op(A)[M×K]·op(B)[K×N] + β·C.
public enum GEMM {
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Runs `body` with OpenBLAS on one thread when its GEMMs total fewer than `threshold`
    /// multiply-adds (a classifier head, a loss's similarity matrix): waking OpenBLAS's workers
    /// costs more than they save, and they then spin in sched_yield for a while, taking cores
    /// from the convolution workers that follow.
    @inline(__always)
    public static func onOneThreadIfSmall<R>(macs: Int, threshold: Int = 1 << 24, _ body: () -> R) -> R {
        if macs >= threshold { return body() }
        let saved = threads
        if saved <= 1 { return body() }
        threads = 1
        defer { threads = saved }
        return body()
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// OpenBLAS's name for the kernel set it picked on this CPU (e.g. "Haswell", "Zen", "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
}
