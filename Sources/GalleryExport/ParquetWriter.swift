import Foundation
import Retrieval

/// Writes a Parquet file (format 2 metadata, data page v1, PLAIN values, RLE levels, no
/// compression) one row group at a time, so memory is one row group whatever the file size.
///
/// Layout: `PAR1`, then per row group and column one chunk of data pages (each a Thrift
/// `PageHeader` followed by repetition levels, definition levels and values), then the Thrift
/// `FileMetaData`, its length as a little-endian u32, and `PAR1` again.
final class ParquetWriter {
    static let magic = Array("PAR1".utf8)
    /// Rough target for one data page's values, so readers can stream pages.
    static let pageBytes = 1 << 20

    let columns: [ParquetColumn]
    private let sink: FileSink
    private let createdBy: String
    private let keyValueMetadata: [(key: String, value: String)]
    private var rowGroups: [RowGroupInfo] = []
    private var rowCount = 0

    private struct ChunkInfo {
        var firstPageOffset: Int
        var byteCount: Int
        var valueCount: Int
    }

    private struct RowGroupInfo {
        var chunks: [ChunkInfo]
        var rows: Int
    }

    init(path: String, columns: [ParquetColumn], createdBy: String,
         keyValueMetadata: [(key: String, value: String)] = []) throws {
        for c in columns {
            if case .floatList(let width) = c.kind, width <= 0 {
                throw RetrievalError.invalidArgument("Parquet column \(c.name): list width must be positive")
            }
        }
        self.columns = columns
        self.createdBy = createdBy
        self.keyValueMetadata = keyValueMetadata
        sink = try FileSink(path: path)
        try sink.append(Self.magic)
    }

    /// Appends one row group; `values[i]` belongs to `columns[i]` and all hold `rows` rows.
    func writeRowGroup(rows: Int, _ values: [ParquetColumn.Values]) throws {
        guard values.count == columns.count else {
            throw RetrievalError.invalidArgument("row group has \(values.count) columns, the schema \(columns.count)")
        }
        var chunks: [ChunkInfo] = []
        for (column, v) in zip(columns, values) {
            try check(column, v, rows: rows)
            let rowsPerPage = max(1, Self.pageBytes / max(1, estimatedRowBytes(column, v, rows: rows)))
            var chunk = ChunkInfo(firstPageOffset: sink.offset, byteCount: 0, valueCount: 0)
            var lo = 0
            repeat {
                let hi = min(rows, lo + rowsPerPage)
                let (page, valueCount) = Self.pageBody(column, v, rows: lo..<hi)
                let header = Self.pageHeader(bodySize: page.count, valueCount: valueCount)
                try sink.append(header)
                try sink.append(page)
                chunk.byteCount += header.count + page.count
                chunk.valueCount += valueCount
                lo = hi
            } while lo < rows
            chunks.append(chunk)
        }
        rowGroups.append(RowGroupInfo(chunks: chunks, rows: rows))
        rowCount += rows
    }

    /// Writes the footer and closes the file.
    func close() throws {
        let footer = fileMetaData()
        try sink.append(footer)
        try sink.appendLittleEndian(UInt32(footer.count))
        try sink.append(Self.magic)
        try sink.close()
    }

    // MARK: Pages

    private func check(_ column: ParquetColumn, _ values: ParquetColumn.Values, rows: Int) throws {
        let count: Int
        switch (column.kind, values) {
        case (.int64, .int64(let v)): count = v.count
        case (.optionalInt64, .optionalInt64(let v)): count = v.count
        case (.optionalString, .optionalString(let v)): count = v.count
        case (.floatList(let w), .floatList(let v)):
            guard v.count % w == 0 else { count = -1; break }
            count = v.count / w
        default:
            throw RetrievalError.invalidArgument("Parquet column \(column.name): values do not match its type \(column.kind)")
        }
        guard count == rows else {
            throw RetrievalError.invalidArgument("Parquet column \(column.name): \(count) rows, expected \(rows)")
        }
    }

    private func estimatedRowBytes(_ column: ParquetColumn, _ values: ParquetColumn.Values, rows: Int) -> Int {
        switch values {
        case .int64, .optionalInt64: return 8
        case .floatList(let v): return 4 * v.count / max(rows, 1)
        case .optionalString(let v):
            let sample = v.prefix(256)
            return 4 + sample.reduce(0) { $0 + ($1?.utf8.count ?? 0) } / max(sample.count, 1)
        }
    }

    /// Levels and PLAIN values of rows `range`, and the page's value count (levels included).
    static func pageBody(_ column: ParquetColumn, _ values: ParquetColumn.Values, rows range: Range<Int>) -> ([UInt8], Int) {
        var body: [UInt8] = []
        switch values {
        case .int64(let v):
            body.reserveCapacity(range.count * 8)
            for x in v[range] { appendLittleEndian(x, to: &body) }
            return (body, range.count)
        case .optionalInt64(let v):
            body += RLEHybrid.levels(runs: RLEHybrid.runs(v[range].lazy.map { $0 == nil ? 0 : 1 }))
            for case let x? in v[range] { appendLittleEndian(x, to: &body) }
            return (body, range.count)
        case .optionalString(let v):
            body += RLEHybrid.levels(runs: RLEHybrid.runs(v[range].lazy.map { $0 == nil ? 0 : 1 }))
            for case let s? in v[range] {
                appendLittleEndian(UInt32(s.utf8.count), to: &body)
                body += s.utf8
            }
            return (body, range.count)
        case .floatList(let v):
            guard case .floatList(let w) = column.kind else { preconditionFailure("checked by writeRowGroup") }
            let n = range.count * w
            // Repetition level 0 starts a row (a new list), 1 continues it; every element is
            // defined (level 1: the repeated group is present and the element is required).
            var rep: [(UInt8, Int)] = []
            rep.reserveCapacity(w == 1 ? 1 : 2 * range.count)
            if w == 1 { rep = [(0, range.count)] } else {
                for _ in range { rep.append((0, 1)); rep.append((1, w - 1)) }
            }
            body += RLEHybrid.levels(runs: rep)
            body += RLEHybrid.levels(runs: [(1, n)])
            v[(range.lowerBound * w)..<(range.upperBound * w)].withUnsafeBytes { body += $0 }
            return (body, n)
        }
    }

    static func pageHeader(bodySize: Int, valueCount: Int) -> [UInt8] {
        var t = ThriftCompactWriter()
        t.field(1, i32: 0)  // type: DATA_PAGE
        t.field(2, i32: Int32(bodySize))  // uncompressed_page_size
        t.field(3, i32: Int32(bodySize))  // compressed_page_size
        t.beginStruct(5)  // data_page_header
        t.field(1, i32: Int32(valueCount))
        t.field(2, i32: 0)  // encoding: PLAIN
        t.field(3, i32: 3)  // definition_level_encoding: RLE
        t.field(4, i32: 3)  // repetition_level_encoding: RLE
        t.endStruct()
        return t.finish()
    }

    // MARK: Footer

    func fileMetaData() -> [UInt8] {
        var t = ThriftCompactWriter()
        t.field(1, i32: 2)  // version
        let schema = schemaElements()
        t.beginList(2, of: .struct, count: schema.count)
        for element in schema { element.write(to: &t) }
        t.field(3, i64: Int64(rowCount))
        t.beginList(4, of: .struct, count: rowGroups.count)
        for (ordinal, group) in rowGroups.enumerated() {
            t.beginListElementStruct()
            t.beginList(1, of: .struct, count: group.chunks.count)
            for (column, chunk) in zip(columns, group.chunks) {
                t.beginListElementStruct()
                t.field(2, i64: Int64(chunk.firstPageOffset))  // file_offset
                t.beginStruct(3)  // meta_data: ColumnMetaData
                t.field(1, i32: column.physicalType)
                t.beginList(2, of: .i32, count: column.hasLevels ? 2 : 1)  // encodings
                t.element(i32: 0)  // PLAIN
                if column.hasLevels { t.element(i32: 3) }  // RLE
                t.beginList(3, of: .binary, count: column.leafPath.count)
                for part in column.leafPath { t.element(string: part) }
                t.field(4, i32: 0)  // codec: UNCOMPRESSED
                t.field(5, i64: Int64(chunk.valueCount))
                t.field(6, i64: Int64(chunk.byteCount))  // total_uncompressed_size
                t.field(7, i64: Int64(chunk.byteCount))  // total_compressed_size
                t.field(9, i64: Int64(chunk.firstPageOffset))  // data_page_offset
                t.endStruct()
                t.endStruct()
            }
            let bytes = group.chunks.reduce(0) { $0 + $1.byteCount }
            t.field(2, i64: Int64(bytes))  // total_byte_size
            t.field(3, i64: Int64(group.rows))
            t.field(5, i64: Int64(group.chunks.first?.firstPageOffset ?? 0))  // file_offset
            t.field(6, i64: Int64(bytes))  // total_compressed_size
            if ordinal <= Int(Int16.max) { t.field(7, i16: Int16(ordinal)) }  // optional; an i16 cannot count further
            t.endStruct()
        }
        if !keyValueMetadata.isEmpty {
            t.beginList(5, of: .struct, count: keyValueMetadata.count)
            for (key, value) in keyValueMetadata {
                t.beginListElementStruct()
                t.field(1, string: key)
                t.field(2, string: value)
                t.endStruct()
            }
        }
        t.field(6, string: createdBy)
        return t.finish()
    }

    /// parquet.thrift `SchemaElement`, only the fields used here.
    struct SchemaElement {
        enum Repetition: Int32 { case required = 0, optional = 1, repeated = 2 }
        enum Logical { case string, list }

        var name: String
        var type: Int32? = nil
        var repetition: Repetition? = nil
        var children: Int32? = nil
        /// Legacy `ConvertedType`: UTF8 = 0, LIST = 3 (kept for older readers).
        var converted: Int32? = nil
        var logical: Logical? = nil

        func write(to t: inout ThriftCompactWriter) {
            t.beginListElementStruct()
            if let type { t.field(1, i32: type) }
            if let repetition { t.field(3, i32: repetition.rawValue) }
            t.field(4, string: name)
            if let children { t.field(5, i32: children) }
            if let converted { t.field(6, i32: converted) }
            if let logical {
                t.beginStruct(10)  // logicalType: a union of empty structs
                t.beginStruct(logical == .string ? 1 : 3)  // STRING = 1, LIST = 3
                t.endStruct()
                t.endStruct()
            }
            t.endStruct()
        }
    }

    /// The schema tree flattened depth first, as `FileMetaData.schema` stores it.
    func schemaElements() -> [SchemaElement] {
        var out = [SchemaElement(name: "schema", repetition: .required, children: Int32(columns.count))]  // as pyarrow writes the root
        for c in columns {
            switch c.kind {
            case .int64: out.append(SchemaElement(name: c.name, type: 2, repetition: .required))
            case .optionalInt64: out.append(SchemaElement(name: c.name, type: 2, repetition: .optional))
            case .optionalString:
                out.append(SchemaElement(name: c.name, type: 6, repetition: .optional, converted: 0, logical: .string))
            case .floatList:
                out.append(SchemaElement(name: c.name, repetition: .required, children: 1, converted: 3, logical: .list))
                out.append(SchemaElement(name: "list", repetition: .repeated, children: 1))
                out.append(SchemaElement(name: "element", type: 4, repetition: .required))
            }
        }
        return out
    }
}

@inline(__always) func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
}
