/// Something that splits an epoch into batches of item indices, reproducibly from its seed.
public protocol BatchSampling: Sendable {
    /// The batches of epoch `epoch` (0-based); the same epoch always gives the same batches.
    func batches(epoch: Int) -> [[Int]]
}

import TensorCore

extension RNG {
    /// A stream for one (seed, epoch, …) combination, independent of the others.
    static func derived(_ seed: UInt64, _ parts: Int...) -> RNG {
        var s = seed
        for (i, p) in parts.enumerated() {
            s = (s ^ (UInt64(bitPattern: Int64(p)) &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(i + 1))) &* 0xBF58_476D_1CE4_E5B9
            s ^= s >> 31
        }
        return RNG(seed: s)
    }
}
