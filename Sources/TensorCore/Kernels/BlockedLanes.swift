/// Eight lanes of a blocked map, read as and written from fp32 vectors, whether the map stores
/// fp32 or bfloat16 (`TensorLayout.blocked16BF16`). Indices count values, not bytes.
protocol BlockedLanes {
    static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float>
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer, _ i: Int)
}

enum FP32Lanes: BlockedLanes {
    @inline(__always)
    static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        (p + 4 * i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer, _ i: Int) {
        (p + 4 * i).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

/// bfloat16 is the top half of an fp32: widening shifts it up; narrowing rounds to nearest even.
enum BF16Lanes: BlockedLanes {
    @inline(__always)
    static func load8(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        let half = (p + 2 * i).loadUnaligned(as: SIMD8<UInt16>.self)
        return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: half) &<< 16, to: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutableRawPointer, _ i: Int) {
        let bits = unsafeBitCast(v, to: SIMD8<UInt32>.self)
        let rounded = bits &+ 0x7FFF &+ ((bits &>> 16) & 1)
        (p + 2 * i).storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: rounded &>> 16), as: SIMD8<UInt16>.self)
    }
}
