import Foundation

/// The arrays of a `.npz` archive.
public struct NPZFile {
    /// Where the data came from (used in error messages).
    public var path: String
    /// Arrays by name (the member name without `.npy`).
    public var arrays: [String: NPYArray]
    /// Names in archive order.
    public var names: [String]

    /// Every array as a Float32 tensor.
    public var tensors: [String: Tensor] { arrays.mapValues(\.tensor) }

    /// The array called `name` as a tensor, or `TensorCoreError.missingTensor`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let a = arrays[name] else { throw TensorCoreError.missingTensor(name, path: path) }
        return a.tensor
    }
}

/// numpy's `.npz`: a ZIP archive of `<name>.npy` members. Writes uncompressed (STORED) members,
/// like `np.savez`; reads stored members, including the zip64 extra fields `np.savez` adds.
/// Deflated archives (`np.savez_compressed`) are rejected with an explanation.
public enum NPZ {
    // MARK: Reading

    public static func read(_ url: URL) throws -> NPZFile {
        try read(data: try readFileData(url), path: url.path)
    }

    /// Parses an in-memory archive; `path` only labels errors.
    public static func read(data: Data, path: String) throws -> NPZFile {
        try data.withUnsafeBytes { try parse($0, path: path) }
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> NPZFile {
        let members = try StoredZip.members(raw, path: path, compressedAdvice:
            "compressed .npz is not supported, save with np.savez instead of np.savez_compressed")
        var file = NPZFile(path: path, arrays: [:], names: [])
        for member in members {
            guard member.name.hasSuffix(".npy") else {
                throw TensorCoreError.invalidFile(path: path, reason: "member '\(member.name)' is not a .npy array")
            }
            let key = String(member.name.dropLast(4))
            guard file.arrays[key] == nil else { throw TensorCoreError.invalidFile(path: path, reason: "duplicate array name '\(key)'") }
            file.arrays[key] = try NPY.parse(UnsafeRawBufferPointer(rebasing: raw[member.bytes]), path: "\(path)[\(member.name)]")
            file.names.append(key)
        }
        return file
    }

    // MARK: Writing

    /// Writes `tensors` as `<f4`, `int64Arrays` as `<i8` and `strings` as 1-D `<U…` members,
    /// sorted by name, atomically.
    public static func write(_ tensors: [String: Tensor], int64Arrays: [String: Int64Array] = [:],
                             strings: [String: [String]] = [:], to url: URL) throws {
        try writeFileAtomically(try encode(tensors, int64Arrays: int64Arrays, strings: strings, path: url.path), to: url)
    }

    /// Archives this writer produces stay below this size (no zip64).
    public static let maximumArchiveBytes = 0xFFFF_FFFF

    /// The archive bytes: one STORED `<name>.npy` member per array, sorted by name. Throws when a
    /// name is used twice or the archive would need zip64 (4 GiB or more).
    public static func encode(_ tensors: [String: Tensor], int64Arrays: [String: Int64Array] = [:],
                              strings: [String: [String]] = [:]) throws -> Data {
        try encode(tensors, int64Arrays: int64Arrays, strings: strings, path: "<npz data>")
    }

    private static func encode(_ tensors: [String: Tensor], int64Arrays: [String: Int64Array], strings: [String: [String]],
                               path: String) throws -> Data {
        let names = (Array(tensors.keys) + Array(int64Arrays.keys) + Array(strings.keys)).sorted(by: utf8Less)
        for (a, b) in zip(names, names.dropFirst()) where a == b {
            let kinds = [tensors[a] != nil ? "a Float32" : nil, int64Arrays[a] != nil ? "an Int64" : nil, strings[a] != nil ? "a string" : nil]
            throw TensorCoreError.invalidFile(path: path, reason: "'\(a)' is both \(kinds.compactMap { $0 }.prefix(2).joined(separator: " and ")) array")
        }
        var out = Data()
        var directory = Data()
        for name in names {
            let payload = tensors[name].map { NPY.encode($0) } ?? int64Arrays[name].map { NPY.encode($0) } ?? NPY.encode(strings: strings[name]!)
            let fileName = Array((name + ".npy").utf8)
            guard out.count + payload.count + fileName.count + 30 < maximumArchiveBytes, fileName.count <= 0xFFFF, names.count < 0xFFFF else {
                throw TensorCoreError.invalidFile(path: path, reason: "archive too large: zip64 output is not supported")
            }
            let crc = payload.withUnsafeBytes { CRC32.checksum($0) }
            let flags: UInt16 = fileName.contains { $0 >= 0x80 } ? 0x0800 : 0  // bit 11: name is UTF-8
            let offset = UInt32(out.count)

            // Fields shared by the local header (after its signature) and the central entry.
            var common = Data()
            common.appendLittleEndian(UInt16(20))  // version needed: 2.0
            common.appendLittleEndian(flags)
            common.appendLittleEndian(UInt16(0))  // method: stored
            common.appendLittleEndian(UInt16(0))  // time 00:00:00
            common.appendLittleEndian(UInt16(0x21))  // date 1980-01-01, as numpy writes
            common.appendLittleEndian(crc)
            common.appendLittleEndian(UInt32(payload.count))  // compressed size
            common.appendLittleEndian(UInt32(payload.count))  // uncompressed size
            common.appendLittleEndian(UInt16(fileName.count))
            common.appendLittleEndian(UInt16(0))  // extra field length

            out.appendLittleEndian(UInt32(0x0403_4b50))
            out.append(common)
            out.append(contentsOf: fileName)
            out.append(payload)

            directory.appendLittleEndian(UInt32(0x0201_4b50))
            directory.appendLittleEndian(UInt16(0x0314))  // made by: Unix, zip 2.0
            directory.append(common)
            directory.appendLittleEndian(UInt16(0))  // comment length
            directory.appendLittleEndian(UInt16(0))  // disk number
            directory.appendLittleEndian(UInt16(0))  // internal attributes
            directory.appendLittleEndian(UInt32(0o100644) << 16)  // external: regular file, rw-r--r--
            directory.appendLittleEndian(offset)
            directory.append(contentsOf: fileName)
        }
        guard out.count + directory.count < maximumArchiveBytes else {
            throw TensorCoreError.invalidFile(path: path, reason: "archive too large: zip64 output is not supported")
        }
        let directoryOffset = UInt32(out.count)
        out.append(directory)
        out.appendLittleEndian(UInt32(0x0605_4b50))
        out.appendLittleEndian(UInt16(0))  // this disk
        out.appendLittleEndian(UInt16(0))  // disk with the directory
        out.appendLittleEndian(UInt16(names.count))
        out.appendLittleEndian(UInt16(names.count))
        out.appendLittleEndian(UInt32(directory.count))
        out.appendLittleEndian(directoryOffset)
        out.appendLittleEndian(UInt16(0))  // comment length
        return out
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as ZIP uses it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
