import Foundation
import Testing
@testable import TensorCore

/// Fixture access and the array contents of Scripts/fixtures/make_io_fixtures.py (shared by the
/// SafeTensors, NPY and NPZ tests). `pattern` and `intPattern` must stay in sync with the script.
enum IOFixture {
    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/io"),
                     "missing fixture Fixtures/io/\(name)")
    }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    /// ((7i + seed) mod 23 - 11) / 16 + i / 4096, computed in Double then rounded, as numpy does.
    static func pattern(_ shape: [Int], seed: Int) -> Tensor {
        let values = (0..<Shape.count(shape)).map { i in
            Float((Double((i * 7 + seed) % 23) - 11) / 16 + Double(i) / 4096)
        }
        return Tensor(shape: shape, data: values)
    }

    /// (i - 2) · 1_000_000_007 + seed: negative values and values beyond 2^32.
    static func intPattern(_ n: Int, seed: Int64) -> [Int64] { (0..<n).map { (Int64($0) - 2) * 1_000_000_007 + seed } }

    /// The message of the error `body` throws, or nil (with a recorded issue) when it does not throw.
    static func errorMessage(_ body: () throws -> Void) -> String? {
        let error = #expect(throws: TensorCoreError.self) { try body() }
        return error.map { String(describing: $0) }
    }

    /// Same bits, or both NaN.
    static func sameFloats(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    /// Feeds `read` every truncation of `data` and `trials` copies with random byte changes.
    /// Returns how many were rejected and the errors that were not `TensorCoreError` (a trap
    /// would crash the test run instead).
    static func fuzz(_ data: Data, seed: UInt64, trials: Int = 300, read: (Data) throws -> Void) -> (rejected: Int, foreign: [String]) {
        var rng = RNG(seed: seed)
        var rejected = 0, foreign: [String] = []
        func attempt(_ d: Data) {
            do { try read(d) } catch is TensorCoreError { rejected += 1 } catch { foreign.append("\(error)") }
        }
        for n in 0..<data.count { attempt(data.prefix(n)) }
        for _ in 0..<trials {
            var d = data
            for _ in 0..<(1 + rng.int(below: 3)) {
                d[d.startIndex + rng.int(below: d.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
            attempt(d)
        }
        return (rejected, foreign)
    }

    /// A random shape of rank 0...4 with dimensions 0...5 (so empty tensors occur).
    static func randomShape(_ rng: inout RNG) -> [Int] { (0..<rng.int(below: 5)).map { _ in rng.int(below: 6) } }
}

@Suite struct SafeTensorsTests {
    /// The state dict make_io_fixtures.py saves as reference.safetensors.
    static let referenceTensors: [String: Tensor] = [
        "conv.weight": IOFixture.pattern([4, 3, 2, 2], seed: 1),
        "bn.running_mean": IOFixture.pattern([4], seed: 2),
        "scalar": IOFixture.pattern([], seed: 5),
        "empty": Tensor(shape: [0, 3], data: []),
    ]
    static let referenceInts: [String: Int64Array] = [
        "bn.num_batches_tracked": Int64Array(shape: [], values: [IOFixture.intPattern(5, seed: 3)[4]]),
        "labels": Int64Array(IOFixture.intPattern(5, seed: 4)),
    ]

    @Test func readsReferenceFile() throws {
        let file = try SafeTensors.read(IOFixture.url("reference.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(Set(file.names) == Set(Self.referenceTensors.keys).union(Self.referenceInts.keys))
        #expect(file.names.count == 6)
        for (name, expected) in Self.referenceTensors {
            let t = try file.tensor(name)
            #expect(t.shape == expected.shape, "\(name)")
            #expect(t.data == expected.data, "\(name)")
            #expect(file.dtypes[name] == "F32")
        }
        for (name, expected) in Self.referenceInts {
            #expect(file.integers[name] == expected, "\(name)")
            #expect(file.tensors[name]?.data == expected.values.map { Float($0) })
            #expect(file.dtypes[name] == "I64")
        }
        #expect(throws: TensorCoreError.missingTensor("nope", path: file.path)) { try file.tensor("nope") }
    }

    @Test func writerMatchesReferenceBytes() throws {
        let reference = try IOFixture.data("reference.safetensors")
        let ours = try SafeTensors.encode(Self.referenceTensors, int64Tensors: Self.referenceInts, metadata: ["format": "pt"])
        #expect(ours.count == reference.count)
        let firstDifference = zip(ours, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "first differing byte at \(firstDifference ?? -1)")
    }

    @Test func escapesNamesAndMetadataLikeTheReference() throws {
        // ESCAPED_NAME in make_io_fixtures.py.
        let name = "q\" b\\ n\n t\t c\u{01}\u{1F} / \u{E9} \u{2028} \u{1F600}"
        let reference = try IOFixture.data("escapes.safetensors")
        let file = try SafeTensors.read(data: reference, path: "escapes")
        #expect(file.names == [name])
        #expect(file.metadata == ["note": name])
        #expect(try file.tensor(name).data == IOFixture.pattern([2], seed: 14).data)
        #expect(try SafeTensors.encode([name: IOFixture.pattern([2], seed: 14)], metadata: ["note": name]) == reference)
    }

    @Test func writerAddsNoPaddingToAnAlignedHeader() throws {
        let reference = try IOFixture.data("aligned.safetensors")
        let headerLength = reference.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(reference[reference.startIndex + 8 + headerLength - 1] == UInt8(ascii: "}"), "fixture should be unpadded")
        #expect(try SafeTensors.encode(["abc": IOFixture.pattern([1], seed: 13)]) == reference)
    }

    @Test func readsEveryDTypeLikeNumpy() throws {
        let file = try SafeTensors.read(IOFixture.url("dtypes.safetensors"))
        for (name, reference) in [("f16", "f16_as_f32"), ("bf16", "bf16_as_f32"), ("f64", "f64_as_f32"), ("i32", "i32_as_f32")] {
            let ours = try file.tensor(name), numpy = try file.tensor(reference)
            #expect(ours.shape == numpy.shape)
            #expect(IOFixture.sameFloats(ours.data, numpy.data), "\(name): \(ours.data) vs \(numpy.data)")
        }
        // The fixture must exercise the hard cases for the comparison above to mean anything.
        let f16 = try file.tensor("f16").data, bf16 = try file.tensor("bf16").data
        for values in [f16, bf16] {
            #expect(values.contains { $0.isNaN })
            #expect(values.contains { $0 == .infinity } && values.contains { $0 == -.infinity })
            #expect(values.contains { $0 == 0 && $0.sign == .minus })
        }
        #expect(f16.contains { $0 != 0 && abs($0) < 0x1p-14 })  // binary16 subnormal
        #expect(bf16.contains { $0.isSubnormal })

        #expect(file.integers["i32"]?.values == [-3, 0, Int64(Int32.max), Int64(Int32.min)])
        #expect(file.integers["u8"] == Int64Array(shape: [2, 2], values: [0, 1, 128, 255]))
        #expect(file.integers["bool"]?.values == [1, 0, 1])
        #expect(file.tensors["bool"]?.data == [1, 0, 1])
        #expect(file.integers["f16"] == nil)
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 is unavailable on Intel Macs
    @Test func halfConversionMatchesFloat16ForEveryBitPattern() {
        var mismatches: [UInt16] = []
        for bits in 0...UInt16.max {
            let ours = floatFromHalf(bits), swift = Float(Float16(bitPattern: bits))
            if !(ours.bitPattern == swift.bitPattern || (ours.isNaN && swift.isNaN)) { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }
    #endif

    @Test func bfloat16IsTheHighHalfOfFloat32() {
        var rng = RNG(seed: 7)
        for _ in 0..<1000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF_0000)
            #expect(floatFromBFloat16(UInt16(f.bitPattern >> 16)).bitPattern == f.bitPattern)
        }
    }

    @Test func roundTripsRandomTensors() throws {
        var rng = RNG(seed: 42)
        for trial in 0..<50 {
            var floats: [String: Tensor] = [:], ints: [String: Int64Array] = [:]
            for i in 0..<rng.int(below: 5) {
                floats["t\(i)_\(rng.int(below: 100))"] = Tensor.randn(IOFixture.randomShape(&rng), rng: &rng)
            }
            for i in 0..<rng.int(below: 3) {
                let shape = IOFixture.randomShape(&rng)
                ints["i\(i)"] = Int64Array(shape: shape, values: (0..<Shape.count(shape)).map { _ in Int64(bitPattern: rng.next()) })
            }
            let metadata = trial % 2 == 0 ? [:] : ["epoch": "\(trial)", "note": "quote \" newline \n é"]
            let data = try SafeTensors.encode(floats, int64Tensors: ints, metadata: metadata)
            let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(headerLength % 8 == 0)

            let file = try SafeTensors.read(data: data, path: "trial \(trial)")
            #expect(file.metadata == metadata)
            #expect(file.names.count == floats.count + ints.count)
            for (name, t) in floats {
                #expect(file.tensors[name]?.shape == t.shape)
                #expect(file.tensors[name]?.data == t.data)
            }
            for (name, a) in ints { #expect(file.integers[name] == a) }
        }
    }

    @Test func writesAtomicallyAndReplaces() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensors.write(["a": Tensor([1, 2, 3])], to: url)
        try SafeTensors.write(["b": Tensor([4, 5])], int64Tensors: ["n": Int64Array([9])], to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
        let file = try SafeTensors.read(url)
        #expect(file.names == ["n", "b"])
        #expect(file.tensors["b"]?.data == [4, 5])
        #expect(file.integers["n"]?.values == [9])
    }

    @Test func encodeRejectsAmbiguousNames() {
        let clash = IOFixture.errorMessage { _ = try SafeTensors.encode(["x": Tensor([1])], int64Tensors: ["x": Int64Array([1])]) }
        #expect(clash?.contains("both") == true)
        let reserved = IOFixture.errorMessage { _ = try SafeTensors.encode(["__metadata__": Tensor([1])]) }
        #expect(reserved?.contains("reserved") == true)
    }

    @Test func missingFileIsReported() {
        let message = IOFixture.errorMessage { _ = try SafeTensors.read(URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
        #expect(message?.contains("/nonexistent/x.safetensors: no such file") == true)
    }

    /// A file with the given header text (unpadded) and a zero-filled buffer.
    static func craft(_ header: String, buffer: Int) -> Data {
        var data = Data()
        data.appendLittleEndian(UInt64(header.utf8.count))
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(count: buffer))
        return data
    }

    @Test func rejectsCorruptFiles() throws {
        let reference = try IOFixture.data("reference.safetensors")
        func withLength(_ n: UInt64) -> Data {
            var d = reference
            d.replaceSubrange(0..<8, with: withUnsafeBytes(of: n.littleEndian) { Data($0) })
            return d
        }
        func entry(_ name: String, _ dtype: String = "F32", shape: String, _ begin: Int, _ end: Int) -> String {
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}"
        }
        let cases: [(String, Data, String)] = [
            ("shorter than 8 bytes", reference.prefix(5), "too short"),
            ("truncated header", reference.prefix(40), "runs past the end"),
            ("truncated buffer", reference.dropLast(10), "out of range"),
            ("header length too large", withLength(200_000_000), "exceeds the 100000000-byte limit"),
            ("header length beyond file", withLength(UInt64(reference.count)), "runs past the end"),
            ("not an object", Self.craft("[1]", buffer: 0), "does not start with '{'"),
            ("bad JSON", Self.craft("{\"a\":{\"dtype\":\"F32\",", buffer: 0), "not valid JSON"),
            ("trailing garbage", Self.craft("{}x", buffer: 0), "not valid JSON"),
            ("overlap", Self.craft("{\(entry("a", shape: "2", 0, 8)),\(entry("b", shape: "2", 4, 12))}", buffer: 12), "overlap"),
            ("hole", Self.craft("{\(entry("a", shape: "1", 0, 4)),\(entry("b", shape: "1", 8, 12))}", buffer: 12), "hole"),
            ("unused tail", Self.craft("{\(entry("a", shape: "1", 0, 4))}", buffer: 8), "after the last tensor"),
            ("non-string metadata", Self.craft("{\"__metadata__\":{\"epoch\":3}}", buffer: 0), "metadata values must be strings"),
            ("metadata not a map", Self.craft("{\"__metadata__\":\"x\"}", buffer: 0), "expected a map"),
            ("duplicate name", Self.craft("{\(entry("a", shape: "1", 0, 4)),\(entry("a", shape: "1", 4, 8))}", buffer: 8),
             "duplicate tensor name 'a'"),
            ("negative dimension", Self.craft("{\(entry("a", shape: "-1,2", 0, 0))}", buffer: 0), "negative dimension -1"),
            ("fractional dimension", Self.craft("{\(entry("a", shape: "1.5", 0, 4))}", buffer: 4), "must be integers"),
            ("overflowing shape", Self.craft("{\(entry("a", shape: "4294967296,4294967296,0", 0, 0))}", buffer: 0), "too large"),
            ("size mismatch", Self.craft("{\(entry("a", shape: "3", 0, 8))}", buffer: 8), "needs 12"),
            ("begin after end", Self.craft("{\(entry("a", shape: "0", 8, 4))}", buffer: 8), "begin <= end"),
            ("offsets out of range", Self.craft("{\(entry("a", shape: "4", 0, 16))}", buffer: 8), "out of range"),
            ("missing dtype", Self.craft("{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}", buffer: 4), "dtype"),
        ]
        for (name, data, expected) in cases {
            let message = IOFixture.errorMessage { _ = try SafeTensors.read(data: data, path: "bad.safetensors") }
            #expect(message?.hasPrefix("bad.safetensors: ") == true, "\(name)")
            #expect(message?.contains(expected) == true, "\(name): got \(message ?? "no error")")
        }
        #expect(throws: TensorCoreError.unsupportedDType("F8_E4M3", path: "bad")) {
            try SafeTensors.read(data: Self.craft("{\(entry("a", "F8_E4M3", shape: "4", 0, 4))}", buffer: 4), path: "bad")
        }
    }

    @Test func survivesTruncationAndRandomCorruption() throws {
        let (rejected, foreign) = IOFixture.fuzz(try IOFixture.data("reference.safetensors"), seed: 1) {
            _ = try SafeTensors.read(data: $0, path: "fuzz")
        }
        #expect(rejected >= 700)  // at least every truncation
        #expect(foreign.isEmpty, "\(foreign.prefix(3))")
    }

    @Test func acceptsPaddedHeadersAndEmptyFiles() throws {
        // Whitespace padding after the JSON, zero-size tensors sharing an offset, and a header with no tensors.
        let padded = Self.craft("{\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
            + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}   \n ", buffer: 4)
        let file = try SafeTensors.read(data: padded, path: "padded")
        #expect(file.names == ["e", "s"])
        #expect(file.tensors["s"]?.shape == [])
        #expect(file.tensors["e"]?.count == 0)
        let empty = try SafeTensors.encode([:])
        #expect(try SafeTensors.read(data: empty, path: "empty").names.isEmpty)
        #expect(empty.count == 16)  // 8-byte length + "{}" padded to 8
    }
}
