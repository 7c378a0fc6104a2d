import Foundation
import Retrieval

/// A file written through a 1 MiB buffer with `fwrite`: exporters append small pieces (a number,
/// a JSON key, a page) without building the whole file in memory.
final class FileSink {
    let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 20
    /// Bytes appended so far (written or buffered): the offset of the next byte in the file.
    private(set) var offset = 0

    init(path: String) throws {
        guard let f = fopen(path, "wb") else {
            throw RetrievalError.invalidInput(path: path, reason: "cannot create file (\(String(cString: strerror(errno))))")
        }
        self.path = path
        file = f
        buffer.reserveCapacity(Self.capacity)
    }

    deinit { fclose(file) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        offset += bytes.count
        if buffer.count + bytes.count > Self.capacity {
            try flush()
            if bytes.count >= Self.capacity { return try writeOut(bytes) }
        }
        buffer.append(contentsOf: bytes)
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    func append(_ text: String) throws {
        var t = text
        try t.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
    }

    func append(byte: UInt8) throws {
        if buffer.count == Self.capacity { try flush() }
        buffer.append(byte)
        offset += 1
    }

    func appendLittleEndian<T: FixedWidthInteger>(_ value: T) throws {
        try withUnsafeBytes(of: value.littleEndian) { try append($0) }
    }

    /// Writes what is buffered; the file is complete only after `close()`.
    func flush() throws {
        try buffer.withUnsafeBytes { try writeOut($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and syncs the file to disk so a rename after it never exposes a short file.
    func close() throws {
        try flush()
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else { throw failure() }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        guard fwrite(bytes.baseAddress!, 1, bytes.count, file) == bytes.count else { throw failure() }
    }

    private func failure() -> RetrievalError {
        .invalidInput(path: path, reason: "cannot write (\(String(cString: strerror(errno)))); is the disk full?")
    }
}
