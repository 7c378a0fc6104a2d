import Foundation

/// Reads ZIP archives whose members are stored uncompressed, as `np.savez` and `torch.save` write
/// them, including the zip64 extra fields large archives carry. Shared by `.npz` and PyTorch
/// checkpoints.
enum StoredZip {
    /// One file in the archive: its name and where its bytes lie in the archive.
    struct Member {
        let name: String
        let bytes: Range<Int>
    }

    /// Every file member (directories skipped) in central-directory order, CRC-checked.
    /// `compressedAdvice` finishes the error for a deflated member ("… is deflate-compressed; <advice>").
    static func members(_ raw: UnsafeRawBufferPointer, path: String, compressedAdvice: String) throws -> [Member] {
        func invalid(_ reason: String) -> TensorCoreError { .invalidFile(path: path, reason: reason) }
        func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        func u64(_ at: Int) -> Int { Int(clamping: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }

        // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
        guard raw.count >= 22 else { throw invalid("not a zip archive (only \(raw.count) bytes)") }
        guard let eocd = stride(from: raw.count - 22, through: max(0, raw.count - 22 - 0xFFFF), by: -1)
            .first(where: { u32($0) == 0x0605_4b50 })
        else { throw invalid("not a zip archive (no end-of-central-directory record; truncated?)") }
        var entryCount = u16(eocd + 10)
        var directoryOffset = u32(eocd + 16)
        if entryCount == 0xFFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before the record points at the zip64 end record.
            guard eocd >= 20, u32(eocd - 20) == 0x0706_4b50 else { throw invalid("zip64 end-of-central-directory locator missing") }
            let record = u64(eocd - 20 + 8)
            guard record <= raw.count - 56, u32(record) == 0x0606_4b50 else { throw invalid("zip64 end-of-central-directory record missing") }
            entryCount = u64(record + 32)
            directoryOffset = u64(record + 48)
        }

        var members: [Member] = []
        var pos = directoryOffset
        for _ in 0..<min(entryCount, raw.count / 46) {
            guard pos <= raw.count - 46, u32(pos) == 0x0201_4b50 else { throw invalid("corrupt zip central directory (truncated?)") }
            let flags = u16(pos + 8), method = u16(pos + 10), crc = u32(pos + 16)
            var compressedSize = u32(pos + 20), size = u32(pos + 24)
            let nameLength = u16(pos + 28), extraLength = u16(pos + 30), commentLength = u16(pos + 32)
            var localOffset = u32(pos + 42)
            let nameStart = pos + 46, extraStart = nameStart + nameLength
            pos = extraStart + extraLength + commentLength
            guard pos <= raw.count else { throw invalid("corrupt zip central directory (truncated?)") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[nameStart..<extraStart]), as: UTF8.self)

            // Zip64 extra field (id 1): 8-byte values for whichever 32-bit fields are saturated, in this order.
            var e = extraStart
            let extraEnd = extraStart + extraLength
            while e + 4 <= extraEnd, e + 4 + u16(e + 2) <= extraEnd {
                let fieldEnd = e + 4 + u16(e + 2)
                if u16(e) == 1 {
                    var v = e + 4
                    func widen(_ field: inout Int) {
                        if field == 0xFFFF_FFFF, v + 8 <= fieldEnd { field = u64(v); v += 8 }
                    }
                    widen(&size); widen(&compressedSize); widen(&localOffset)
                }
                e = fieldEnd
            }

            if name.hasSuffix("/") { continue }  // directory entry
            let member = "member '\(name)'"
            guard flags & 1 == 0 else { throw invalid("\(member) is encrypted") }
            if method == 8 { throw invalid("\(member) is deflate-compressed; \(compressedAdvice)") }
            guard method == 0 else {
                throw invalid("\(member) uses zip compression method \(method); only uncompressed members are supported")
            }
            guard compressedSize == size else { throw invalid("\(member) is stored but its compressed and plain sizes differ") }
            guard localOffset <= raw.count - 30, u32(localOffset) == 0x0403_4b50 else {
                throw invalid("\(member): bad local header offset")
            }
            let dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            guard dataStart <= raw.count, size <= raw.count - dataStart else {
                throw invalid("\(member) runs past the end of the file (truncated?)")
            }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + size)])
            guard CRC32.checksum(bytes) == UInt32(crc) else { throw invalid("\(member) fails its CRC-32 check (corrupt file)") }

            members.append(Member(name: name, bytes: dataStart..<(dataStart + size)))
        }
        return members
    }
}
