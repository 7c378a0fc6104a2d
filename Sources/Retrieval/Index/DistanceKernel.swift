import CPrefetch
/// The distance the approximate indexes rank by, smaller is closer: −⟨a, b⟩ for inner product,
/// ‖a − b‖² for L2; eight lanes at a time.
enum DistanceKernel {
    /// Whether the AVX-512 kernels run (decided once from the CPU).
    static let usesAVX512 = magpie_has_avx512f() != 0

    /// Smaller is closer: −⟨a, b⟩ for inner product, ‖a − b‖² for L2.
    @inline(__always)
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int, metric: DistanceMetric) -> Float {
        if usesAVX512 {
            return metric == .innerProduct ? -magpie_dot_avx512(a, b, n) : magpie_l2sq_avx512(a, b, n)
        }
        return portable(a, b, count: n, metric: metric)
    }

    /// `distance(query, base + rows[i] · stride)` into `out[i]` for each of `count` rows: one
    /// call per graph-search step instead of one per neighbour.
    @inline(__always)
    static func distances(_ query: UnsafePointer<Float>, base: UnsafePointer<Float>, stride: Int, rows: UnsafePointer<Int32>, count: Int,
                          dimension: Int, metric: DistanceMetric, into out: UnsafeMutablePointer<Float>) {
        if usesAVX512 {
            magpie_distances_avx512(query, base, stride, rows, count, dimension, metric == .innerProduct ? 0 : 1, out)
            return
        }
        for i in 0..<count { out[i] = portable(query, base + Int(rows[i]) * stride, count: dimension, metric: metric) }
    }

    /// The same on generic x86-64 (two SSE lanes per SIMD8).
    @inline(__always)
    static func portable(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int, metric: DistanceMetric) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        if metric == .innerProduct {
            while j + 8 <= n {
                acc += ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                j += 8
            }
            var s = acc.sum()
            while j < n { s += a[j] * b[j]; j += 1 }
            return -s
        }
        while j + 8 <= n {
            let diff = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            acc += diff * diff
            j += 8
        }
        var s = acc.sum()
        while j < n { let t = a[j] - b[j]; s += t * t; j += 1 }
        return s
    }
}
