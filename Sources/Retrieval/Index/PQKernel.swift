import CPrefetch

/// The product-quantization kernels `IVFPQIndex` runs per query: lookup tables (AVX-512 when
/// `DistanceKernel.usesAVX512`, else portable C) and the scan of one list's codes.
enum PQKernel {
    static let codebookSize = 256

    /// −⟨v_j, w⟩ for every sub-vector v_j of `v` (`dimension` floats, sub-vectors of
    /// `subDimension`) and every codeword w of its sub-quantizer, into `table` (m × 256).
    /// `booksTransposed` is d × 256: row i holds coordinate i of its sub-quantizer's codewords.
    @inline(__always)
    static func innerProductTables(_ v: UnsafePointer<Float>, booksTransposed: UnsafePointer<Float>, dimension: Int,
                                   subDimension: Int, into table: UnsafeMutablePointer<Float>,
                                   avx512: Bool = DistanceKernel.usesAVX512) {
        if avx512 {
            magpie_pq_ip_tables_avx512(v, booksTransposed, dimension, subDimension, table)
        } else {
            magpie_pq_ip_tables(v, booksTransposed, dimension, subDimension, table)
        }
    }

    /// scores[i] = base + Σ_j table[j·256 + codes[i·m + j]] for `count` codes of m bytes.
    @inline(__always)
    static func scan(codes: UnsafePointer<UInt8>, count: Int, m: Int, table: UnsafePointer<Float>, base: Float,
                     into scores: UnsafeMutablePointer<Float>) {
        magpie_pq_scan(codes, count, m, table, base, scores)
    }
}
