import Foundation
import Testing
@testable import TensorCore

@Suite struct NPZTests {
    private static func u16(_ d: Data, _ at: Int) -> Int { Int(d[d.startIndex + at]) | Int(d[d.startIndex + at + 1]) << 8 }
    private static func u32(_ d: Data, _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(d[d.startIndex + at + $1]) << (8 * UInt32($1)) }
    }

    private static func append(_ values: any FixedWidthInteger..., to data: inout Data) {
        for v in values { data.appendLittleEndian(v) }  // opens each existential to its concrete type
    }

    /// An archive of ours rewritten the way a zip64 writer lays it out: each central entry's sizes
    /// and offset saturated to 0xFFFFFFFF with the real values in a zip64 extra field, and the end
    /// record's count and offset deferred to a zip64 end record.
    static func zip64Variant(of archive: Data) -> Data {
        let end = archive.count - 22
        let count = u16(archive, end + 10)
        let directoryOffset = Int(u32(archive, end + 16))
        var out = Data(archive.prefix(directoryOffset))
        var pos = directoryOffset
        for _ in 0..<count {
            let nameLength = u16(archive, pos + 28)
            let (size, offset) = (UInt64(u32(archive, pos + 24)), UInt64(u32(archive, pos + 42)))
            var entry = Data(archive[pos..<(pos + 46)])
            for field in [20, 24, 42] { entry.replaceSubrange(field..<(field + 4), with: [0xFF, 0xFF, 0xFF, 0xFF]) }
            entry.replaceSubrange(30..<32, with: [28, 0])  // extra field length
            entry.append(archive[(pos + 46)..<(pos + 46 + nameLength)])
            append(UInt16(1), UInt16(24), size, size, offset, to: &entry)  // zip64 extra: size, compressed, offset
            out.append(entry)
            pos += 46 + nameLength
        }
        let record = UInt64(out.count), directorySize = UInt64(out.count - directoryOffset)
        append(UInt32(0x0606_4b50), UInt64(44), UInt16(45), UInt16(45), UInt32(0), UInt32(0), to: &out)
        append(UInt64(count), UInt64(count), directorySize, UInt64(directoryOffset), to: &out)
        append(UInt32(0x0706_4b50), UInt32(0), record, UInt32(1), to: &out)  // zip64 locator
        append(UInt32(0x0605_4b50), UInt16(0), UInt16(0), UInt16(0xFFFF), UInt16(0xFFFF), to: &out)
        append(UInt32(0xFFFF_FFFF), UInt32(0xFFFF_FFFF), UInt16(0), to: &out)
        return out
    }

    @Test func readsZip64Records() throws {
        let a = IOFixture.pattern([5, 2], seed: 4), b = IOFixture.pattern([3], seed: 5)
        let archive = Self.zip64Variant(of: try NPZ.encode(["a": a, "b": b]))
        #expect(Self.u16(archive, archive.count - 22 + 10) == 0xFFFF)
        let file = try NPZ.read(data: archive, path: "zip64.npz")
        #expect(file.names == ["a", "b"])
        #expect(try file.tensor("a").data == a.data)
        #expect(try file.tensor("b").data == b.data)
    }

    @Test func readsNumpySavez() throws {
        let bytes = try IOFixture.data("savez.npz")
        // np.savez writes zip64 extra fields into local headers; make sure this fixture has one.
        #expect(Self.u32(bytes, 0) == 0x0403_4b50)
        #expect(Self.u16(bytes, 28) > 0, "expected an extra field in the first local header")

        let file = try NPZ.read(IOFixture.url("savez.npz"))
        #expect(Set(file.names) == ["weights", "labels", "scalar"])
        let weights = try file.tensor("weights")
        #expect(weights.shape == [3, 4])
        #expect(weights.data == IOFixture.pattern([3, 4], seed: 10).data)
        #expect(file.arrays["labels"]?.integers == Int64Array(IOFixture.intPattern(6, seed: 11)))
        #expect(file.arrays["labels"]?.descr == "<i8")
        #expect(try file.tensor("scalar").shape == [])
        #expect(try file.tensor("scalar").data == IOFixture.pattern([], seed: 12).data)
        #expect(throws: TensorCoreError.missingTensor("bias", path: file.path)) { try file.tensor("bias") }
    }

    @Test func rejectsCompressedArchives() {
        let message = IOFixture.errorMessage { _ = try NPZ.read(IOFixture.url("savez_compressed.npz")) }
        #expect(message?.contains("compressed .npz is not supported") == true)
        #expect(message?.contains("np.savez") == true)
    }

    @Test func roundTripsAndWritesStoredMembers() throws {
        var rng = RNG(seed: 5)
        for _ in 0..<30 {
            var floats: [String: Tensor] = [:], ints: [String: Int64Array] = [:]
            for i in 0..<rng.int(below: 4) { floats["w\(i)"] = Tensor.randn(IOFixture.randomShape(&rng), rng: &rng) }
            for i in 0..<rng.int(below: 3) {
                let shape = IOFixture.randomShape(&rng)
                ints["n\(i)"] = Int64Array(shape: shape, values: (0..<Shape.count(shape)).map { _ in Int64(bitPattern: rng.next()) })
            }
            let bytes = try NPZ.encode(floats, int64Arrays: ints)
            // End record: entry count, then each member is STORED (method 0) with its .npy inside.
            let end = bytes.count - 22
            #expect(Self.u32(bytes, end) == 0x0605_4b50)
            #expect(Self.u16(bytes, end + 10) == floats.count + ints.count)
            if !floats.isEmpty || !ints.isEmpty { #expect(Self.u16(bytes, 8) == 0) }

            let file = try NPZ.read(data: bytes, path: "rt.npz")
            #expect(file.names == (Array(floats.keys) + Array(ints.keys)).sorted())
            for (name, t) in floats {
                #expect(file.arrays[name]?.shape == t.shape)
                #expect(file.arrays[name]?.tensor.data == t.data)
            }
            for (name, a) in ints { #expect(file.arrays[name]?.integers == a) }
        }
    }

    @Test func membersAreNumpyFiles() throws {
        // The first member of our archive is byte-identical to what np.save writes for it.
        let bytes = try NPZ.encode(["a": IOFixture.pattern([2, 3], seed: 1)])
        let npy = try IOFixture.data("f4_2x3.npy")
        let dataStart = 30 + Self.u16(bytes, 26) + Self.u16(bytes, 28)
        #expect(bytes[bytes.startIndex + 30 ..< bytes.startIndex + 35] == Data("a.npy".utf8))
        #expect(Data(bytes[(bytes.startIndex + dataStart)...].prefix(npy.count)) == npy)
        #expect(Self.u32(bytes, 14) == CRC32.checksum([UInt8](npy)))
    }

    @Test func writesStringMembersBesideNumbers() throws {
        let data = try NPZ.encode(["x": Tensor(shape: [2], data: [1, 2])], int64Arrays: ["labels": Int64Array([3, -1])],
                                  strings: ["paths": ["a.jpg", "dir/b.png"]])
        let file = try NPZ.read(data: data, path: "mixed")
        #expect(file.names == ["labels", "paths", "x"])
        #expect(file.arrays["paths"]?.strings == ["a.jpg", "dir/b.png"])
        #expect(file.arrays["paths"]?.descr == "<U9")
        #expect(file.arrays["labels"]?.integers?.values == [3, -1])
        #expect(throws: TensorCoreError.self) { try NPZ.encode(["x": Tensor(shape: [1], data: [0])], strings: ["x": ["a"]]) }
    }

    @Test func writesFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPZ.write(["x": Tensor([1, 2])], int64Arrays: ["y": Int64Array([3])], to: url)
        let file = try NPZ.read(url)
        #expect(file.names == ["x", "y"])
        #expect(file.tensors["x"]?.data == [1, 2])
        #expect(file.arrays["y"]?.integers?.values == [3])
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        // The CRC-32/ISO-HDLC check value: CRC of the ASCII digits "123456789".
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func survivesTruncationAndRandomCorruption() throws {
        let data = try IOFixture.data("savez.npz")
        let (rejected, foreign) = IOFixture.fuzz(data, seed: 3) { _ = try NPZ.read(data: $0, path: "fuzz") }
        #expect(rejected >= data.count)  // at least every truncation
        #expect(foreign.isEmpty, "\(foreign.prefix(3))")
    }

    @Test func rejectsCorruptArchives() throws {
        let good = try IOFixture.data("savez.npz")
        var flipped = good
        flipped[flipped.startIndex + 200] ^= 0xFF  // inside the first member's data
        let cases: [(String, Data, String)] = [
            ("not a zip", Data(repeating: 7, count: 100), "not a zip archive"),
            ("tiny", Data([1, 2, 3]), "not a zip archive"),
            ("truncated", good.prefix(good.count - 30), "not a zip archive"),
            ("corrupt data", flipped, "CRC-32"),
        ]
        for (name, data, expected) in cases {
            let message = IOFixture.errorMessage { _ = try NPZ.read(data: data, path: "bad.npz") }
            #expect(message?.contains(expected) == true, "\(name): got \(message ?? "no error")")
        }
        let clash = IOFixture.errorMessage { _ = try NPZ.encode(["a": Tensor([1])], int64Arrays: ["a": Int64Array([1])]) }
        #expect(clash?.contains("both") == true)
    }
}
