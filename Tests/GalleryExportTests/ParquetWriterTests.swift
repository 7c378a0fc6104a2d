import Foundation
@testable import GalleryExport
@testable import Retrieval
import TestSupport
import Testing

/// Reads back a Parquet file with the test-side Thrift decoder and a small page decoder written
/// from the format spec (data page v1, RLE levels, PLAIN values); pyarrow reads the same files
/// in Scripts/check-gallery-export.py.
@Suite struct ParquetWriterTests {
    struct Decoded {
        var footer: ThriftValue
        /// Per row group, per column: (repetition levels, definition levels, PLAIN value bytes).
        var chunks: [[(rep: [UInt8], def: [UInt8], values: [UInt8])]]
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> Int {
        var v = 0
        for i in 0..<4 { v |= Int(bytes[at + i]) << (8 * i) }
        return v
    }

    /// RLE / bit-packed hybrid levels of bit width 1 with their u32 length prefix; bit-packed
    /// groups (pyarrow writes them) hold 8 levels per byte, least significant bit first.
    static func decodeLevels(_ bytes: [UInt8], at offset: inout Int, count: Int) -> [UInt8] {
        let length = u32(bytes, offset)
        var r = ThriftCompactReader(bytes, at: offset + 4)
        var levels: [UInt8] = []
        while r.position < offset + 4 + length {
            let header = r.varint()
            if header & 1 == 0 {
                let value = r.byte()
                levels += [UInt8](repeating: value, count: Int(header >> 1))
            } else {
                for _ in 0..<Int(header >> 1) {
                    let b = r.byte()
                    for bit in 0..<8 { levels.append((b >> UInt8(bit)) & 1) }
                }
            }
        }
        offset += 4 + length
        return Array(levels.prefix(count))
    }

    static func decode(_ path: String, hasLevels: [(rep: Bool, def: Bool)]) throws -> Decoded {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(4)) == Array("PAR1".utf8))
        #expect(Array(bytes.suffix(4)) == Array("PAR1".utf8))
        let n = bytes.count
        let footerLength = u32(bytes, n - 8)
        var reader = ThriftCompactReader(bytes, at: n - 8 - footerLength)
        let footer = reader.structure()
        #expect(reader.position == n - 8, "the footer length covers exactly the FileMetaData")
        var chunks: [[(rep: [UInt8], def: [UInt8], values: [UInt8])]] = []
        for group in footer[4]?.list ?? [] {
            var columns: [(rep: [UInt8], def: [UInt8], values: [UInt8])] = []
            for (c, chunk) in (group[1]?.list ?? []).enumerated() {
                let meta = try #require(chunk[3])
                var offset = Int(try #require(meta[9]?.int))
                let end = offset + Int(try #require(meta[7]?.int))
                var column: (rep: [UInt8], def: [UInt8], values: [UInt8]) = ([], [], [])
                while offset < end {  // one or more data pages
                    var h = ThriftCompactReader(bytes, at: offset)
                    let header = h.structure()
                    #expect(header[1]?.int == 0, "DATA_PAGE")
                    let size = Int(try #require(header[3]?.int))
                    #expect(header[2]?.int == Int64(size), "uncompressed")
                    var p = h.position
                    let pageEnd = p + size
                    let count = Int(try #require(header[5]?[1]?.int))
                    if hasLevels[c].rep { column.rep += decodeLevels(bytes, at: &p, count: count) }
                    if hasLevels[c].def { column.def += decodeLevels(bytes, at: &p, count: count) }
                    column.values += bytes[p..<pageEnd]
                    offset = pageEnd
                }
                #expect(offset == end)
                columns.append(column)
            }
            chunks.append(columns)
        }
        return Decoded(footer: footer, chunks: chunks)
    }

    static func int64s(_ bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count, by: 8).map { (i: Int) -> Int64 in
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(bytes[i + b]) << UInt64(8 * b) }
            return Int64(bitPattern: v)
        }
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { (i: Int) -> Float in Float(bitPattern: UInt32(u32(bytes, i))) }
    }

    static func strings(_ bytes: [UInt8]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < bytes.count {
            let n = u32(bytes, i)
            out.append(String(decoding: bytes[(i + 4)..<(i + 4 + n)], as: UTF8.self))
            i += 4 + n
        }
        return out
    }

    @Test func schemaRowGroupsLevelsAndValuesReadBack() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/t.parquet"
        let w = try ParquetWriter(path: path, columns: Self.galleryColumns, createdBy: "magpie test",
                                  keyValueMetadata: [(key: "k", value: "v")])
        try w.writeRowGroup(rows: 2, [.int64([7, 8]), .floatList([1, 2, 3, -0.5]), .optionalInt64([1, nil]),
                                      .optionalString(["a", nil])])
        try w.writeRowGroup(rows: 1, [.int64([9]), .floatList([.pi, 6]), .optionalInt64([nil]), .optionalString(["ü€"])])
        try w.close()

        let d = try Self.decode(path, hasLevels: Self.galleryLevels)
        let f = d.footer
        #expect(f[1]?.int == 2)
        #expect(f[3]?.int == 3, "num_rows")
        #expect(f[6]?.string == "magpie test")
        #expect(f[5]?.list?.first?[1]?.string == "k")
        let schema = try #require(f[2]?.list)
        #expect(schema.map { $0[4]?.string } == ["schema", "id", "vector", "list", "element", "label", "path"])
        #expect(schema[0][5]?.int == 4, "root has 4 children")
        #expect(schema.map { $0[3]?.int } == [0, 0, 0, 2, 0, 1, 1], "repetition: required/repeated/optional")
        #expect(schema.map { $0[1]?.int } == [nil, 2, nil, nil, 4, 2, 6], "physical types INT64/FLOAT/BYTE_ARRAY")
        #expect(schema[2][6]?.int == 3 && schema[2][10]?[3] != nil, "vector is a LIST (converted and logical type)")
        #expect(schema[6][6]?.int == 0 && schema[6][10]?[1] != nil, "path is a STRING")

        let groups = try #require(f[4]?.list)
        #expect(groups.map { $0[3]?.int } == [2, 1])
        #expect(groups.map { $0[7]?.int } == [0, 1], "ordinals")
        let vectorMeta = try #require(groups[0][1]?.list?[1][3])
        #expect(vectorMeta[3]?.list?.map(\.string) == ["vector", "list", "element"])
        #expect(vectorMeta[5]?.int == 4, "num_values counts list elements")
        #expect(vectorMeta[4]?.int == 0, "UNCOMPRESSED")

        let (g0, g1) = (d.chunks[0], d.chunks[1])
        #expect(Self.int64s(g0[0].values) == [7, 8] && Self.int64s(g1[0].values) == [9])
        #expect(g0[1].rep == [0, 1, 0, 1] && g0[1].def == [1, 1, 1, 1])
        #expect(Self.floats(g0[1].values) == [1, 2, 3, -0.5] && Self.floats(g1[1].values) == [.pi, 6])
        #expect(g0[2].def == [1, 0] && Self.int64s(g0[2].values) == [1])
        #expect(g1[2].def == [0] && g1[2].values.isEmpty)
        #expect(g0[3].def == [1, 0] && Self.strings(g0[3].values) == ["a"] && Self.strings(g1[3].values) == ["ü€"])
    }

    /// A gallery export's columns (2-d vectors) and which of them carry repetition / definition levels.
    static let galleryColumns = [ParquetColumn("id", .int64), ParquetColumn("vector", .floatList(width: 2)),
                                 ParquetColumn("label", .optionalInt64), ParquetColumn("path", .optionalString)]
    static let galleryLevels: [(rep: Bool, def: Bool)] = [(false, false), (true, true), (false, true), (false, true)]

    /// Each schema element as (type, repetition, name, children, converted type, logical type id).
    static func schemaSummary(_ footer: ThriftValue) -> [String] {
        (footer[2]?.list ?? []).map { e in
            let logical: String
            if case .structure(let union)? = e[10] { logical = union.keys.map(String.init).joined() } else { logical = "-" }
            return [e[1]?.int, e[3]?.int, nil, e[5]?.int, e[6]?.int].map { $0.map(String.init) ?? "-" }.joined(separator: " ")
                + " \(e[4]?.string ?? "?") \(logical)"
        }
    }

    @Test func decoderReadsPyarrowsFileAndOurSchemaMatchesPyarrows() throws {
        // Scripts/fixtures/make_parquet_fixture.py: the same four columns and rows, written by pyarrow.
        let fixture = Fixture.url("pyarrow_gallery.parquet").path
        let theirs = try Self.decode(fixture, hasLevels: Self.galleryLevels)
        let c = theirs.chunks[0]
        #expect(Self.int64s(c[0].values) == [7, 8, 9])
        #expect(c[1].rep == [0, 1, 0, 1, 0, 1] && c[1].def == [1, 1, 1, 1, 1, 1])
        #expect(Self.floats(c[1].values) == [1, 2, 3, -0.5, 3.140625, 6])
        #expect(c[2].def == [1, 0, 0] && Self.int64s(c[2].values) == [1])
        #expect(c[3].def == [1, 0, 1] && Self.strings(c[3].values) == ["a", "ü€"])

        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/ours.parquet"
        let w = try ParquetWriter(path: path, columns: Self.galleryColumns, createdBy: "t")
        try w.writeRowGroup(rows: 3, [.int64([7, 8, 9]), .floatList([1, 2, 3, -0.5, 3.140625, 6]),
                                      .optionalInt64([1, nil, nil]), .optionalString(["a", nil, "ü€"])])
        try w.close()
        let ours = try Self.decode(path, hasLevels: Self.galleryLevels)
        #expect(Self.schemaSummary(ours.footer) == Self.schemaSummary(theirs.footer))
        for (a, b) in zip(ours.chunks[0], c) {
            #expect(a.rep == b.rep && a.def == b.def && a.values == b.values)
        }
    }

    @Test func bigRowGroupsSplitIntoPagesAtRowBoundaries() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/big.parquet"
        let (rows, width) = (3000, 200)  // 2.4 MB of floats: three 1 MiB pages
        let values = (0..<(rows * width)).map { Float($0 % 1000) * 0.25 }
        let w = try ParquetWriter(path: path, columns: [ParquetColumn("vector", .floatList(width: width))], createdBy: "t")
        try w.writeRowGroup(rows: rows, [.floatList(values)])
        try w.close()
        let d = try Self.decode(path, hasLevels: [(true, true)])
        let chunk = d.chunks[0][0]
        #expect(Self.floats(chunk.values) == values)
        #expect(chunk.rep.count == rows * width && chunk.rep.filter { $0 == 0 }.count == rows)
        #expect(zip(chunk.rep.indices, chunk.rep).allSatisfy { ($1 == 0) == ($0 % width == 0) })
        #expect(chunk.def.allSatisfy { $0 == 1 })
    }

    @Test func aFileWithoutRowsKeepsItsSchemaAndHasNoRowGroups() throws {
        // An empty gallery exports to this: readers need the schema even without rows.
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/empty.parquet"
        let w = try ParquetWriter(path: path, columns: Self.galleryColumns, createdBy: "t")
        try w.close()
        let d = try Self.decode(path, hasLevels: Self.galleryLevels)
        #expect(d.footer[3]?.int == 0, "num_rows")
        #expect(d.footer[4]?.list?.isEmpty == true, "row_groups present and empty")
        #expect(d.chunks.isEmpty)
        #expect((d.footer[2]?.list ?? []).map { $0[4]?.string } == ["schema", "id", "vector", "list", "element", "label", "path"])
    }

    @Test func refusesValuesThatDoNotMatchTheSchema() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let w = try ParquetWriter(path: dir.path + "/x.parquet", columns: [ParquetColumn("v", .floatList(width: 3))], createdBy: "t")
        #expect(throws: RetrievalError.self) { try w.writeRowGroup(rows: 1, [.floatList([1, 2])]) }
        #expect(throws: RetrievalError.self) { try w.writeRowGroup(rows: 1, [.int64([1])]) }
    }
}
