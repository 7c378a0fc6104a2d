import Retrieval

/// Parquet's RLE / bit-packing hybrid encoding, as used for repetition and definition levels of
/// data page v1, written with RLE runs only: each run is a ULEB128 header `count << 1` followed by
/// the value in ⌈bit width / 8⌉ bytes. Levels here are 0 or 1 (bit width 1, one value byte).
enum RLEHybrid {
    /// Consecutive equal levels merged into (value, count) runs.
    static func runs<S: Sequence>(_ levels: S) -> [(UInt8, Int)] where S.Element == UInt8 {
        var out: [(UInt8, Int)] = []
        for level in levels {
            if let last = out.last, last.0 == level { out[out.count - 1].1 += 1 } else { out.append((level, 1)) }
        }
        return out
    }

    /// The encoded runs preceded by their byte length as a little-endian u32 (the page v1 framing).
    static func levels(runs: [(UInt8, Int)]) -> [UInt8] {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(runs.count * 3)
        for (value, count) in runs where count > 0 {
            var header = UInt64(count) << 1
            while header >= 0x80 {
                encoded.append(UInt8(header & 0x7F) | 0x80)
                header >>= 7
            }
            encoded.append(UInt8(header))
            encoded.append(value)
        }
        var out: [UInt8] = []
        out.reserveCapacity(4 + encoded.count)
        appendLittleEndian(UInt32(encoded.count), to: &out)
        return out + encoded
    }
}
