/// The distance the approximate indexes rank by, smaller is closer: −⟨a, b⟩ for inner product,
/// ‖a − b‖² for L2; eight lanes at a time.
enum DistanceKernel {
    @inline(__always)
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int, metric: DistanceMetric) -> Float {
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
