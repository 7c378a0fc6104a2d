import CZlib
import Foundation

/// An IDX file (the MNIST family's format: Fashion-MNIST, MNIST, EMNIST) of unsigned bytes,
/// plain or gzipped.
///
/// Layout: two zero bytes, the element type (0x08 = unsigned byte, the only one read here), the
/// number of dimensions, each dimension as a big-endian UInt32, then the elements in row-major
/// order. Image files are `[count, rows, columns]`, label files `[count]`.
public struct IDXFile: Equatable, Sendable {
    public static let unsignedByte: UInt8 = 0x08

    public var dimensions: [Int]
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(dimensions.reduce(1, *) == bytes.count, "IDXFile: \(bytes.count) bytes for dimensions \(dimensions)")
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// The file at `path`, gzipped or not (zlib reads both).
    public static func read(path: String) throws -> IDXFile {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetsError.badData(path: path, reason: "no such file") }
        let contents = try readAll(path: path)
        return try parse(contents, path: path)
    }

    /// Parses the bytes of an IDX file; `path` names it in errors.
    public static func parse(_ contents: [UInt8], path: String) throws -> IDXFile {
        func fail(_ reason: String) -> DatasetsError { .badData(path: path, reason: reason) }
        guard contents.count >= 4, contents[0] == 0, contents[1] == 0 else {
            throw fail("not an IDX file (it must start with two zero bytes, a type byte and a dimension count)")
        }
        guard contents[2] == unsignedByte else {
            throw fail(String(format: "IDX element type 0x%02X is not supported; only unsigned bytes (0x08) are read", contents[2]))
        }
        let rank = Int(contents[3])
        guard rank >= 1 else { throw fail("an IDX file needs at least one dimension") }
        let header = 4 + 4 * rank
        guard contents.count >= header else { throw fail("truncated header: \(rank) dimensions need \(header) bytes, the file has \(contents.count)") }
        var dimensions: [Int] = [], count = 1
        for d in 0..<rank {
            let at = 4 + 4 * d
            let size = contents[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("dimensions overflow") }
            dimensions.append(size); count = product
        }
        let data = contents.count - header
        guard data == count else {
            throw fail("dimensions \(dimensions.map(String.init).joined(separator: "×")) need \(count) data bytes, the file has \(data)"
                       + (data < count ? " (truncated?)" : ""))
        }
        return IDXFile(dimensions: dimensions, bytes: Array(contents[header...]))
    }

    /// The file's bytes: the header, then the elements.
    public var encoded: [UInt8] {
        var out: [UInt8] = [0, 0, IDXFile.unsignedByte, UInt8(dimensions.count)]
        for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return out + bytes
    }

    /// Writes the file, gzipped when `gzip` is set (as the MNIST family is distributed).
    public func write(to path: String, gzip: Bool) throws {
        let data = encoded
        guard gzip else {
            try Data(data).write(to: URL(fileURLWithPath: path), options: .atomic)
            return
        }
        guard let file = gzopen(path, "wb") else { throw DatasetsError.badData(path: path, reason: "cannot create the file") }
        let written = data.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        let closed = gzclose(file)
        guard written == Int32(data.count), closed == Z_OK else { throw DatasetsError.badData(path: path, reason: "cannot write the file") }
    }

    /// Every byte of a plain or gzipped file. A damaged or cut-off gzip stream is an error, not short data.
    private static func readAll(path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw DatasetsError.badData(path: path, reason: "cannot open the file") }
        defer { gzclose(file) }
        var out: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                throw DatasetsError.badData(path: path, reason: "damaged gzip stream (\(message))")
            }
            if n == 0 {
                // At the end of a cut-off stream zlib returns what it has and flags Z_BUF_ERROR.
                var code: Int32 = 0
                _ = gzerror(file, &code)
                if code == Z_BUF_ERROR { throw DatasetsError.badData(path: path, reason: "the gzip stream ends early (truncated file?)") }
                break
            }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        return out
    }
}
