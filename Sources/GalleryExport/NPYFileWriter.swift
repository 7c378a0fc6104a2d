import Foundation
import Retrieval
import TensorCore

/// Streams `.npy` files (the header `np.save` writes, then the data) through a `FileSink`, so a
/// large gallery's columns are never copied into one in-memory file image.
enum NPYFileWriter {
    static func write(float32 values: [Float], shape: [Int], to path: String) throws {
        let sink = try FileSink(path: path)
        try sink.append([UInt8](NPY.header(descr: "<f4", shape: shape)))
        try values.withUnsafeBytes { try sink.append($0) }  // little-endian hosts only (Linux x86-64/arm64)
        try sink.close()
    }

    static func write(int64 values: [Int64], to path: String) throws {
        let sink = try FileSink(path: path)
        try sink.append([UInt8](NPY.header(descr: "<i8", shape: [values.count])))
        try values.withUnsafeBytes { try sink.append($0) }
        try sink.close()
    }

    /// A numpy unicode array (`<U{width}`): per element `width` UTF-32LE code points, zero-padded.
    static func write(strings: [String], to path: String) throws {
        let width = NPY.unicodeWidth(strings)
        let sink = try FileSink(path: path)
        try sink.append([UInt8](NPY.header(descr: "<U\(width)", shape: [strings.count])))
        var row = [UInt32](repeating: 0, count: width)
        for s in strings {
            var i = 0
            for scalar in s.unicodeScalars {
                row[i] = scalar.value.littleEndian
                i += 1
            }
            for j in i..<width { row[j] = 0 }
            try row.withUnsafeBytes { try sink.append($0) }
        }
        try sink.close()
    }
}
