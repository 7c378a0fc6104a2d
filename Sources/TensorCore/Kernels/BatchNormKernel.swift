/// Batch-norm rows: one channel of one image, `s` contiguous values, with an optional fused
/// activation (`slope` is its negative slope; `active` false means identity).
enum BatchNormKernel {
    /// y = act(x·scale + shift).
    @inline(__always)
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ s: Int,
                        scale: Float, shift: Float, active: Bool, slope: Float) {
        let sv = SIMD8<Float>(repeating: scale), bv = SIMD8<Float>(repeating: shift)
        var i = 0
        if active {
            while i + 8 <= s {
                Vectorized.store8(FusedActivation.forward(Vectorized.load8(x + i) * sv + bv, slope: slope), y + i)
                i += 8
            }
            while i < s { y[i] = FusedActivation.forward(x[i] * scale + shift, slope: slope); i += 1 }
        } else {
            while i + 8 <= s { Vectorized.store8(Vectorized.load8(x + i) * sv + bv, y + i); i += 8 }
            while i < s { y[i] = x[i] * scale + shift; i += 1 }
        }
    }

    /// (Σgz, Σgz·(x − mean)) where gz is the gradient before the activation.
    @inline(__always)
    static func sums(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ s: Int,
                     mean: Float, active: Bool, slope: Float) -> (Float, Float) {
        if !active { return Vectorized.sumAndDot(g, x, s, mean: mean) }
        var sg = SIMD8<Float>(), sgx = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        var i = 0
        while i + 8 <= s {
            let gz = FusedActivation.backward(Vectorized.load8(g + i), Vectorized.load8(y + i), slope: slope)
            sg += gz; sgx += gz * (Vectorized.load8(x + i) - m)
            i += 8
        }
        var a = sg.sum(), b = sgx.sum()
        while i < s {
            let gz = FusedActivation.backward(g[i], y[i], slope: slope)
            a += gz; b += gz * (x[i] - mean); i += 1
        }
        return (a, b)
    }

    /// Training: gx = k·(gz − a − (x − mean)·inv·b); eval (`training` false): gx = k·gz.
    @inline(__always)
    static func inputGradient(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                              _ gx: UnsafeMutablePointer<Float>, _ s: Int, training: Bool,
                              k: Float, a: Float, b: Float, mean: Float, inv: Float, active: Bool, slope: Float) {
        let kv = SIMD8<Float>(repeating: k), av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b * inv)
        let m = SIMD8<Float>(repeating: mean)
        var i = 0
        while i + 8 <= s {
            var gz = Vectorized.load8(g + i)
            if active { gz = FusedActivation.backward(gz, Vectorized.load8(y + i), slope: slope) }
            let r = training ? kv * (gz - av - (Vectorized.load8(x + i) - m) * bv) : kv * gz
            Vectorized.store8(r, gx + i)
            i += 8
        }
        while i < s {
            let gz = active ? FusedActivation.backward(g[i], y[i], slope: slope) : g[i]
            gx[i] = training ? k * (gz - a - (x[i] - mean) * (b * inv)) : k * gz
            i += 1
        }
    }
}
