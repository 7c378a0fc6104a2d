import Foundation

/// An index that can be saved beside a gallery's LMDB data (`index.hnsw`, `index.ivfpq`) and
/// loaded instead of rebuilt. The file carries a stamp saying what it was built from.
public protocol PersistentIndex: VectorIndex {
    /// Writes the index with `stamp` (a temporary file renamed over `url`: a crash leaves the old
    /// file or the new one).
    func save(to url: URL, stamp: Int) throws
    /// The stamp in the file's header, read without loading the rest; nil when the file is
    /// missing or not this kind of index.
    static func savedStamp(at url: URL) -> Int?
}

/// The little-endian building blocks of Magpie's index files: an 8-byte magic, then Int64
/// header fields, then arrays.
enum IndexFile {
    static func append(_ value: Int, to out: inout Data) {
        withUnsafeBytes(of: Int64(value).littleEndian) { out.append(contentsOf: $0) }
    }

    static func append<T>(contentsOf array: [T], to out: inout Data) {
        array.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    /// The removed rows: a count, then each row, ascending.
    static func append(removedRows rows: Set<Int>, to out: inout Data) {
        append(rows.count, to: &out)
        for row in rows.sorted() { append(row, to: &out) }
    }

    /// Writes `data` to a temporary file beside `url` and renames it over `url`.
    static func write(_ data: Data, to url: URL, kind: String) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw RetrievalError.invalidInput(path: url.path, reason: "cannot write the \(kind) index (\(error.localizedDescription))")
        }
    }

    /// Header field `field` (0-based, after the magic) of the file at `url` when it starts with
    /// `magic`; reads only the header.
    static func headerField(_ field: Int, at url: URL, magic: [UInt8]) -> Int? {
        headerFields(field + 1, at: url, magic: magic)?.last
    }

    /// The first `count` header fields of the file at `url` when it starts with `magic`.
    static func headerFields(_ count: Int, at url: URL, magic: [UInt8]) -> [Int]? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let length = magic.count + 8 * count
        guard let head = try? handle.read(upToCount: length), head.count == length, Array(head.prefix(magic.count)) == magic else { return nil }
        return head.withUnsafeBytes { raw in
            (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: magic.count + 8 * $0, as: Int64.self))) }
        }
    }

    /// Overwrites header fields `first`, `first + 1`, … with `values` in place: one write of a few
    /// bytes in the file's first page, no copy of the file. Used to re-stamp an index whose
    /// search settings alone changed; a crash that tears the write leaves a stamp that matches
    /// nothing, and the next open rebuilds.
    static func overwriteHeaderFields(from first: Int, with values: [Int], at url: URL, magic: [UInt8]) throws {
        var bytes = Data()
        for v in values { append(v, to: &bytes) }
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(magic.count + 8 * first))
        try handle.write(contentsOf: bytes)
    }
}

/// Sequential little-endian reads of an index file, with bounds checks: a short or damaged file
/// is a `RetrievalError.corrupt` naming the index kind, never a crash.
struct IndexFileReader {
    let data: Data
    let path: String
    let kind: String
    var offset = 0

    /// The file at `url` read whole, its magic checked and its `fields` Int64 header fields read.
    static func open(_ url: URL, kind: String, magic: [UInt8], fields: Int) throws -> (reader: IndexFileReader, header: [Int]) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RetrievalError.invalidInput(path: url.path, reason: "no \(kind) index file")
        }
        var reader = IndexFileReader(data: data, path: url.path, kind: kind)
        guard try reader.bytes(magic.count) == magic else { throw reader.damaged("not a Magpie \(kind) index") }
        let header = try (0..<fields).map { _ in try reader.int64() }
        return (reader, header)
    }

    /// The removed rows written by `IndexFile.append(removedRows:)`, each below `rows`.
    mutating func removedRows(below rows: Int) throws -> Set<Int> {
        let count = try int64()
        guard count >= 0, count <= rows else { throw damaged("bad removal count") }
        var removed = Set<Int>()
        for _ in 0..<count {
            let row = try int64()
            guard (0..<rows).contains(row) else { throw damaged("a removed row past the items") }
            removed.insert(row)
        }
        return removed
    }

    var atEnd: Bool { offset == data.count }

    func damaged(_ reason: String) -> RetrievalError { .corrupt(path: path, reason: "\(kind) index: \(reason)") }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, data.count - offset >= count else { throw damaged("the file is truncated") }
        defer { offset += count }
        return Array(data[(data.startIndex + offset)..<(data.startIndex + offset + count)])
    }

    mutating func int64() throws -> Int {
        Int(Int64(littleEndian: try bytes(8).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }))
    }

    mutating func int32() throws -> Int32 {
        Int32(littleEndian: try bytes(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }

    mutating func int64s(_ count: Int) throws -> [Int64] {
        guard count >= 0, count <= (data.count - offset) / 8 else { throw damaged("the file is truncated") }
        return try bytes(count * 8).withUnsafeBytes { raw in (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } }
    }

    mutating func int32s(_ count: Int) throws -> [Int32] {
        guard count >= 0, count <= (data.count - offset) / 4 else { throw damaged("the file is truncated") }
        return try bytes(count * 4).withUnsafeBytes { raw in (0..<count).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
    }

    mutating func floats(_ count: Int) throws -> [Float] {
        guard count >= 0, count <= (data.count - offset) / 4 else { throw damaged("the file is truncated") }
        return try bytes(count * 4).withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
