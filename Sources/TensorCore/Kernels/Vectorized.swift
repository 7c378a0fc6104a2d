/// Reductions over contiguous runs with SIMD lanes (the compiler keeps float sums in order, so a
/// plain loop does not vectorise), and arrays for outputs a kernel fully overwrites.
enum Vectorized {
    /// Σ p[i]: 512-value blocks in SIMD lanes, blocks added in Double (a BatchNorm channel can
    /// hold 10⁵–10⁶ values; float lanes alone would drift).
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total: Double = 0, start = 0
        while start < n {
            let end = Swift.min(start + 512, n)
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = start
            while i + 16 <= end {
                acc0 += load8(p + i); acc1 += load8(p + i + 8)
                i += 16
            }
            var s = (acc0 + acc1).sum()
            while i < end { s += p[i]; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// Σ (p[i] − mean)², blocked as `sum`.
    @inline(__always)
    static func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Double {
        let m = SIMD8<Float>(repeating: mean)
        var total: Double = 0, start = 0
        while start < n {
            let end = Swift.min(start + 512, n)
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = start
            while i + 16 <= end {
                let d0 = load8(p + i) - m, d1 = load8(p + i + 8) - m
                acc0 += d0 * d0; acc1 += d1 * d1
                i += 16
            }
            var s = (acc0 + acc1).sum()
            while i < end { let d = p[i] - mean; s += d * d; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// (Σ g[i], Σ g[i]·(x[i] − mean)).
    @inline(__always)
    static func sumAndDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> (Float, Float) {
        var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        var i = 0
        while i + 8 <= n {
            let gv = load8(g + i)
            sg += gv; sgx += gv * (load8(x + i) - m)
            i += 8
        }
        var a = sg.sum(), b = sgx.sum()
        while i < n { a += g[i]; b += g[i] * (x[i] - mean); i += 1 }
        return (a, b)
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

extension Array where Element == Float {
    /// An array of `count` elements that `body` must write in full (no zero-fill first).
    @inline(__always)
    static func overwritten(count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
    }
}

extension Array where Element == Float {
    /// An array of `count` elements with unspecified contents, for buffers a kernel writes in
    /// full before anything reads them.
    static func uninitialized(count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
