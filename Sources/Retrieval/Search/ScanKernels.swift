/// Vector helpers for the hot scans. Written with concrete `SIMD8<Float>` and `replacing(with:where:)`
/// because that is what the Swift optimiser turns into `maxps` without spilling lanes to the
/// stack (generic `pointwiseMax`, `any()` and branchy scalar counts did not vectorise).
enum ScanKernels {
    @inline(__always)
    static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

    /// The largest of the 64 floats at `p` (no alignment needed).
    @inline(__always)
    static func maxOf64(_ p: UnsafePointer<Float>) -> Float {
        let raw = UnsafeRawPointer(p)
        var m = raw.loadUnaligned(as: SIMD8<Float>.self)
        for i in 1..<8 { m = max(m, raw.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)) }
        let h = m.lowHalf.replacing(with: m.highHalf, where: m.highHalf .> m.lowHalf)
        return Swift.max(Swift.max(h[0], h[1]), Swift.max(h[2], h[3]))
    }

    /// The largest of the 16 floats at `p`.
    @inline(__always)
    static func maxOf16(_ p: UnsafePointer<Float>) -> Float {
        let raw = UnsafeRawPointer(p)
        let m = max(raw.loadUnaligned(as: SIMD8<Float>.self), raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
        let h = m.lowHalf.replacing(with: m.highHalf, where: m.highHalf .> m.lowHalf)
        return Swift.max(Swift.max(h[0], h[1]), Swift.max(h[2], h[3]))
    }
}
