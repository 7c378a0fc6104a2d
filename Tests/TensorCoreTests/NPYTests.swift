import Foundation
import Testing
@testable import TensorCore

@Suite struct NPYTests {
    /// Float32 fixtures written by np.save, with the shape and seed make_io_fixtures.py used.
    static let float32Fixtures: [(file: String, shape: [Int], seed: Int)] = [
        ("f4_2x3.npy", [2, 3], 1), ("f4_7.npy", [7], 2), ("f4_scalar.npy", [], 3), ("f4_empty.npy", [0, 3], 4),
    ]

    @Test func readsNumpyFloat32AndWritesIdenticalBytes() throws {
        for (file, shape, seed) in Self.float32Fixtures {
            let bytes = try IOFixture.data(file)
            let expected = IOFixture.pattern(shape, seed: seed)
            let array = try NPY.read(data: bytes, path: file)
            #expect(array.descr == "<f4")
            #expect(array.integers == nil)
            #expect(array.shape == shape, "\(file)")
            #expect(array.tensor.data == expected.data, "\(file)")
            #expect(NPY.encode(expected) == bytes, "\(file): header or data differ from np.save")
        }
    }

    @Test func readsAndWritesUnicodeStringsLikeNumpy() throws {
        let bytes = try IOFixture.data("U_strings.npy")
        let strings = ["a/b.jpg", "ü€😀", ""]
        let array = try NPY.read(data: bytes, path: "U_strings.npy")
        #expect(array.descr == "<U7")
        #expect(array.shape == [3])
        #expect(array.strings == strings)
        #expect(NPY.encode(strings: strings) == bytes, "header or data differ from np.save")
        let fortran = try NPY.read(IOFixture.url("U_2x2_fortran.npy"))
        #expect(fortran.shape == [2, 2])
        #expect(fortran.strings == ["a", "bc", "def", "g"])
    }

    @Test func truncatedUnicodeArrayIsRefused() throws {
        let bytes = try IOFixture.data("U_strings.npy")
        #expect(throws: TensorCoreError.self) { try NPY.read(data: bytes.prefix(bytes.count - 4), path: "cut") }
    }

    @Test func readsAndWritesInt64LikeNumpy() throws {
        let bytes = try IOFixture.data("i8_5.npy")
        let expected = Int64Array(IOFixture.intPattern(5, seed: 6))
        let array = try NPY.read(IOFixture.url("i8_5.npy"))
        #expect(array.descr == "<i8")
        #expect(array.integers == expected)
        #expect(array.tensor.data == expected.values.map { Float($0) })
        #expect(NPY.encode(expected) == bytes)
    }

    @Test func unicodeWidthCountsScalarsAndAnEmptyListIsU1() throws {
        // The fixture holds an empty string, 2-byte and 3-byte UTF-8 characters and an emoji
        // (one scalar, 4 UTF-8 bytes): width is counted in Unicode scalars, not bytes.
        let strings = ["img/0.jpg", "", "caf\u{e9}/\u{20ac}\u{1F600}.png", #"{"a": 1}"#]
        let paths = try IOFixture.data("U_paths.npy")
        #expect(NPY.encode(strings: strings) == paths)
        #expect(try NPY.read(data: paths, path: "U_paths.npy").strings == strings)
        // An empty list is <U1 with no data, as np.array([], dtype=str).
        let empty = try IOFixture.data("U_empty.npy")
        #expect(NPY.encode(strings: []) == empty)
        let read = try NPY.read(data: empty, path: "U_empty.npy")
        #expect(read.descr == "<U1" && read.strings == [] && read.shape == [0])
    }

    @Test func headerGrowthPaddingMatchesNumpyForHugeFirstAxis() throws {
        let bytes = try IOFixture.data("f4_long_shape.npy")
        let array = try NPY.read(data: bytes, path: "long")
        #expect(array.shape == [1_000_000_000_000, 0, 2])
        #expect(array.tensor.count == 0)
        #expect(NPY.encode(Tensor(shape: [1_000_000_000_000, 0, 2], data: [])) == bytes)
    }

    @Test func headerPaddingMatchesNumpyOnA64ByteBoundary() throws {
        // np.save adds 64 spaces (not 0) when the header would end exactly on a 64-byte boundary.
        let bytes = try IOFixture.data("f4_pad_boundary.npy")
        #expect(bytes.count == 192)
        let shape = [0] + [Int](repeating: 1, count: 12) + [100]
        #expect(try NPY.read(data: bytes, path: "boundary").shape == shape)
        #expect(NPY.encode(Tensor(shape: shape, data: [])) == bytes)
    }

    @Test func readsOtherDTypes() throws {
        let f8 = try NPY.read(IOFixture.url("f8_4.npy"))
        #expect(f8.tensor.data == [0.1, -2.5e-3, 1e300, 3.0].map { Float($0 as Double) })

        // f2_specials.npy holds the same binary16 values as dtypes.safetensors' "f16"; compare
        // with numpy's own float32 conversion stored there.
        let f2 = try NPY.read(IOFixture.url("f2_specials.npy"))
        let numpy = try SafeTensors.read(IOFixture.url("dtypes.safetensors")).tensor("f16_as_f32")
        #expect(f2.shape == numpy.shape)
        #expect(IOFixture.sameFloats(f2.tensor.data, numpy.data))

        #expect(try NPY.read(IOFixture.url("i4_4.npy")).integers?.values == [-3, 0, Int64(Int32.max), Int64(Int32.min)])
        #expect(try NPY.read(IOFixture.url("u1_3.npy")).integers?.values == [0, 128, 255])
        let b1 = try NPY.read(IOFixture.url("b1_3.npy"))
        #expect(b1.descr == "|b1")
        #expect(b1.integers?.values == [1, 0, 1])
        #expect(b1.tensor.data == [1, 0, 1])
    }

    @Test func readsFortranOrderInLogicalOrder() throws {
        let bytes = try IOFixture.data("f4_fortran.npy")
        #expect(String(decoding: bytes.prefix(80), as: UTF8.self).contains("'fortran_order': True"))
        let array = try NPY.read(data: bytes, path: "fortran")
        let expected = IOFixture.pattern([2, 3, 4], seed: 7)
        #expect(array.shape == expected.shape)
        #expect(array.tensor.data == expected.data)
    }

    @Test func fortranToCTransposes() {
        // A 2x3 matrix stored column-major: [[a, b, c], [d, e, f]] -> a d b e c f.
        #expect(NPY.fortranToC([1, 4, 2, 5, 3, 6], shape: [2, 3]) == [1, 2, 3, 4, 5, 6])
        var rng = RNG(seed: 3)
        for _ in 0..<20 {
            let shape = (0..<rng.int(below: 4) + 1).map { _ in rng.int(below: 4) + 1 }
            let n = Shape.count(shape)
            // Column-major storage of values v[i] = row-major index i.
            var columnMajor = [Int](repeating: 0, count: n)
            let cStrides = Shape.strides(shape)
            for i in 0..<n {
                var offset = 0, fStride = 1
                for k in 0..<shape.count {
                    offset += (i / cStrides[k] % shape[k]) * fStride
                    fStride *= shape[k]
                }
                columnMajor[offset] = i
            }
            #expect(NPY.fortranToC(columnMajor, shape: shape) == Array(0..<n))
        }
    }

    @Test func readsVersion2And3Headers() throws {
        for (file, major) in [("f4_v2.npy", UInt8(2)), ("f4_v3.npy", UInt8(3))] {
            let bytes = try IOFixture.data(file)
            #expect(bytes[bytes.startIndex + 6] == major)
            let array = try NPY.read(data: bytes, path: file)
            #expect(array.shape == [3, 2])
            #expect(array.tensor.data == IOFixture.pattern([3, 2], seed: 8).data)
        }
    }

    @Test func roundTripsRandomArrays() throws {
        var rng = RNG(seed: 11)
        for _ in 0..<100 {
            let shape = IOFixture.randomShape(&rng)
            let t = Tensor.randn(shape, rng: &rng)
            let bytes = NPY.encode(t)
            // Preamble: 10 bytes + header, a multiple of 64 ending in '\n'.
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            #expect((10 + headerLength) % 64 == 0)
            #expect(bytes[10 + headerLength - 1] == UInt8(ascii: "\n"))
            #expect(bytes.count == 10 + headerLength + 4 * t.count)
            let back = try NPY.read(data: bytes, path: "rt")
            #expect(back.shape == shape)
            #expect(back.tensor.data == t.data)

            let ints = Int64Array(shape: shape, values: (0..<t.count).map { _ in Int64(bitPattern: rng.next()) })
            #expect(try NPY.read(data: NPY.encode(ints), path: "rt").integers == ints)
        }
    }

    @Test func writesFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let t = IOFixture.pattern([3, 5], seed: 2)
        try NPY.write(t, to: url)
        #expect(try NPY.read(url).tensor.data == t.data)
        try NPY.write(Int64Array([7, -7]), to: url)
        #expect(try NPY.read(url).integers?.values == [7, -7])
    }

    @Test func survivesTruncationAndRandomCorruption() throws {
        for file in ["f4_2x3.npy", "f4_fortran.npy", "i8_5.npy"] {
            let data = try IOFixture.data(file)
            let (rejected, foreign) = IOFixture.fuzz(data, seed: 2) { _ = try NPY.read(data: $0, path: "fuzz") }
            #expect(rejected >= data.count, "\(file)")  // at least every truncation
            #expect(foreign.isEmpty, "\(file): \(foreign.prefix(3))")
        }
    }

    @Test func rejectsUnsupportedAndCorruptFiles() throws {
        let good = try IOFixture.data("f4_7.npy")
        /// `good` with the first occurrence of `from` (in the header) replaced by `to`.
        func patched(_ from: String, _ to: String) -> Data {
            var bytes = [UInt8](good)
            let f = Array(from.utf8)
            guard let i = (0...(bytes.count - f.count)).first(where: { bytes[$0..<$0 + f.count].elementsEqual(f) }) else {
                Issue.record("'\(from)' not in the fixture header")
                return good
            }
            bytes.replaceSubrange(i..<i + f.count, with: Array(to.utf8))
            return Data(bytes)
        }
        var version4 = good
        version4[version4.startIndex + 6] = 4
        let cases: [(String, Data, String)] = [
            ("big-endian", try IOFixture.data("f4_bigendian.npy"), "big-endian"),
            ("object array", try IOFixture.data("object.npy"), "object arrays"),
            ("bad magic", Data("hello world, not numpy".utf8), "missing the \\x93NUMPY magic"),
            ("truncated data", good.dropLast(3), "truncated"),
            ("truncated header", good.prefix(60), "runs past the end"),
            ("trailing bytes", good + Data([0, 0, 0, 0]), "unexpected bytes"),
            ("version 4", version4, "version 4.0"),
            ("complex dtype", patched("'<f4'", "'<c8'"), "dtype '<c8' is not supported"),
            ("no shape", patched("'shape'", "'shope'"), "'shape'"),
            ("broken dict", patched("(7,)", "(7,,"), "not a Python dict literal"),
            ("negative dim", patched("(7,)", "(-7)"), "non-negative"),
            ("overflowing shape", NPY.preamble(descr: "<f4", shape: [1 << 40, 1 << 40, 0]), "too large"),
        ]
        for (name, data, expected) in cases {
            let message = IOFixture.errorMessage { _ = try NPY.read(data: data, path: "bad.npy") }
            #expect(message?.contains(expected) == true, "\(name): got \(message ?? "no error")")
        }
    }
}
