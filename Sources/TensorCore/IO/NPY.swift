import Foundation

/// One array read from a `.npy` file (or an `.npz` member).
public struct NPYArray {
    /// The values as Float32 in C order (Fortran-ordered files are reordered).
    public var tensor: Tensor
    /// Exact values for integer and bool dtypes (`<i8`, `<i4`, `|u1`, `|b1`); nil for floats.
    public var integers: Int64Array?
    /// The numpy dtype string from the header, e.g. `<f4`.
    public var descr: String
    /// The values of a unicode string array (`<U…`), C order; `tensor` is then zeros of its shape.
    public var strings: [String]? = nil
    public var shape: [Int] { tensor.shape }
}

/// Reader and writer for numpy's `.npy` format: `\x93NUMPY`, major and minor version bytes, a
/// little-endian header length (u16 for v1.0, u32 for v2.0/v3.0), a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` space-padded and ended by `\n`
/// so the preamble is a multiple of 64 bytes, then the raw little-endian data.
///
/// Reads `<f4 <f8 <f2 <i8 <i4 |u1 |b1` and unicode strings `<U…`, C or Fortran order. Writes
/// `<f4`, `<i8` and `<U…` with exactly the header bytes `np.save` produces.
public enum NPY {
    static let kinds: [String: ElementKind] = [
        "f4": .f32, "f8": .f64, "f2": .f16, "i8": .i64, "i4": .i32, "u1": .u8, "b1": .bool,
    ]
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    // MARK: Reading

    public static func read(_ url: URL) throws -> NPYArray {
        try read(data: try readFileData(url), path: url.path)
    }

    /// Parses an in-memory `.npy`; `path` only labels errors.
    public static func read(data: Data, path: String) throws -> NPYArray {
        try data.withUnsafeBytes { try parse($0, path: path) }
    }

    static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> NPYArray {
        func invalid(_ reason: String) -> TensorCoreError { .invalidFile(path: path, reason: reason) }

        guard raw.count >= 10, raw.prefix(6).elementsEqual(magic) else {
            throw invalid("not a .npy file (missing the \\x93NUMPY magic, or truncated)")
        }
        let (major, minor) = (raw[6], raw[7])
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default: throw invalid(".npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard raw.count >= 8 + lengthSize else { throw invalid("file ends inside the .npy preamble (truncated)") }
        let headerLength = lengthSize == 2
            ? Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
            : Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= raw.count else {
            throw invalid("header length \(headerLength) runs past the end of the \(raw.count)-byte file (truncated?)")
        }

        let header = try HeaderDict(UnsafeRawBufferPointer(rebasing: raw[(8 + lengthSize)..<dataStart]), invalid)
        if let width = header.unicodeWidth {
            return try parseStrings(raw, from: dataStart, width: width, shape: try header.shape(invalid),
                                    fortran: try header.fortranOrder(invalid), invalid)
        }
        let (descr, kind) = try header.dtype(invalid)
        let fortran = try header.fortranOrder(invalid)
        let shape = try header.shape(invalid)

        guard let bytes = checkedByteCount(shape, itemSize: kind.itemSize) else { throw invalid("shape \(shape) is too large") }
        let available = raw.count - dataStart
        guard available >= bytes else {
            throw invalid("data is \(available) bytes but \(descr) with shape \(shape) needs \(bytes) (truncated?)")
        }
        guard available == bytes else { throw invalid("\(available - bytes) unexpected bytes after the array data") }

        var (floats, ints) = kind.decode(raw, offset: dataStart, count: bytes / kind.itemSize)
        if fortran {
            floats = fortranToC(floats, shape: shape)
            ints = ints.map { fortranToC($0, shape: shape) }
        }
        return NPYArray(tensor: Tensor(shape: shape, data: floats),
                        integers: ints.map { Int64Array(shape: shape, values: $0) }, descr: descr)
    }

    /// A `<U{width}` array: `width` UTF-32LE code units per element, NUL-padded.
    static func parseStrings(_ raw: UnsafeRawBufferPointer, from dataStart: Int, width: Int, shape: [Int], fortran: Bool,
                             _ invalid: (String) -> TensorCoreError) throws -> NPYArray {
        let count = Shape.count(shape)
        guard let bytes = checkedByteCount(shape, itemSize: 4 * width) else { throw invalid("shape \(shape) is too large") }
        guard raw.count - dataStart == bytes else {
            throw invalid("data is \(raw.count - dataStart) bytes but <U\(width) with shape \(shape) needs \(bytes) (truncated?)")
        }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for i in 0..<count {
            var scalars = String.UnicodeScalarView()
            for j in 0..<width {
                let code = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + (i * width + j) * 4, as: UInt32.self))
                if code == 0 { break }
                guard let scalar = Unicode.Scalar(code) else { throw invalid("element \(i) holds \(code), not a Unicode code point") }
                scalars.append(scalar)
            }
            strings.append(String(scalars))
        }
        if fortran { strings = fortranToC(strings, shape: shape) }
        return NPYArray(tensor: Tensor.zeros(shape), integers: nil, descr: "<U\(width)", strings: strings)
    }

    /// Reorders column-major elements of `shape` into row-major order.
    static func fortranToC<T>(_ source: [T], shape: [Int]) -> [T] {
        let rank = shape.count
        guard rank > 1, !source.isEmpty else { return source }
        var strides = [Int](repeating: 1, count: rank)  // column-major strides
        for k in 1..<rank { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        var out: [T] = []
        out.reserveCapacity(source.count)
        for _ in 0..<source.count {
            out.append(source[offset])
            var k = rank - 1  // advance the row-major index, last axis fastest
            while k >= 0 {
                index[k] += 1
                offset += strides[k]
                if index[k] < shape[k] { break }
                offset -= strides[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
        return out
    }

    // MARK: Writing

    /// The `.npy` bytes of a Float32 tensor (`<f4`).
    public static func encode(_ tensor: Tensor) -> Data {
        var out = preamble(descr: "<f4", shape: tensor.shape)
        out.appendLittleEndian(tensor.data)
        return out
    }

    /// The `.npy` bytes of an Int64 array (`<i8`).
    public static func encode(_ array: Int64Array) -> Data {
        var out = preamble(descr: "<i8", shape: array.shape)
        out.appendLittleEndian(array.values)
        return out
    }

    /// The `.npy` bytes of a 1-D unicode string array (`<U{longest}`, at least `<U1` as numpy).
    public static func encode(strings: [String]) -> Data {
        let scalars = strings.map { Array($0.unicodeScalars) }
        let width = unicodeWidth(strings)
        var out = preamble(descr: "<U\(width)", shape: [strings.count])
        var units = [UInt32](repeating: 0, count: strings.count * width)
        for (i, s) in scalars.enumerated() { for (j, c) in s.enumerated() { units[i * width + j] = c.value } }
        out.reserveCapacity(out.count + units.count * 4)
        for u in units { out.appendLittleEndian(u) }
        return out
    }

    public static func write(_ tensor: Tensor, to url: URL) throws { try writeFileAtomically(encode(tensor), to: url) }
    public static func write(_ array: Int64Array, to url: URL) throws { try writeFileAtomically(encode(array), to: url) }
    public static func write(strings: [String], to url: URL) throws { try writeFileAtomically(encode(strings: strings), to: url) }

    /// Magic, version, header length and header exactly as numpy's `write_array` lays them out.
    static func preamble(descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        // numpy leaves room for the first axis to grow to 21 digits (so files can be appended to
        // in place), then pads with 1...64 spaces so the preamble ends on a 64-byte boundary.
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        func header(lengthSize: Int) -> [UInt8] {
            Array((dict + String(repeating: " ", count: 64 - (8 + lengthSize + dict.utf8.count + 1) % 64) + "\n").utf8)
        }
        var out = Data(magic)
        let v1 = header(lengthSize: 2)
        if v1.count <= 0xFFFF {
            out.append(contentsOf: [1, 0])
            out.appendLittleEndian(UInt16(v1.count))
            out.append(contentsOf: v1)
        } else {  // version 1.0 stores the header length in a u16; longer headers need 2.0's u32
            let v2 = header(lengthSize: 4)
            out.append(contentsOf: [2, 0])
            out.appendLittleEndian(UInt32(v2.count))
            out.append(contentsOf: v2)
        }
        return out
    }
}

/// The `.npy` header: a Python dict literal of strings, booleans, None, ints and tuples/lists.
private struct HeaderDict {
    indirect enum Value {
        case string(String), int(Int), bool(Bool), pyNone, sequence([Value])
    }

    var items: [String: Value] = [:]

    init(_ bytes: UnsafeRawBufferPointer, _ invalid: (String) -> TensorCoreError) throws {
        var p = Parser(bytes: bytes)
        guard let items = p.dict() else { throw invalid("header is not a Python dict literal near byte \(p.index)") }
        self.items = items
    }

    func dtype(_ invalid: (String) -> TensorCoreError) throws -> (String, ElementKind) {
        guard let value = items["descr"] else { throw invalid("header has no 'descr'") }
        guard case .string(let descr) = value else {
            throw invalid("structured arrays (record dtypes) are not supported; save a plain numeric array")
        }
        if descr.contains("O") { throw invalid("object arrays ('\(descr)') are not supported; they need pickle") }
        let order = descr.first
        guard let kind = NPY.kinds[String(descr.dropFirst())], order == "<" || order == "|" || order == ">" else {
            throw invalid("dtype '\(descr)' is not supported (use <f4, <f8, <f2, <i8, <i4, |u1 or |b1)")
        }
        if order == ">" && kind.itemSize > 1 {
            throw invalid("big-endian dtype '\(descr)' is not supported; save arr.astype('<\(descr.dropFirst())')")
        }
        return (descr, kind)
    }

    /// The character count of a little-endian unicode dtype (`<U12`), nil for any other dtype.
    var unicodeWidth: Int? {
        guard case .string(let descr)? = items["descr"], descr.hasPrefix("<U") || descr.hasPrefix("|U") else { return nil }
        return Int(descr.dropFirst(2)).flatMap { $0 > 0 ? $0 : nil }
    }

    func fortranOrder(_ invalid: (String) -> TensorCoreError) throws -> Bool {
        guard case .bool(let b)? = items["fortran_order"] else { throw invalid("header has no boolean 'fortran_order'") }
        return b
    }

    func shape(_ invalid: (String) -> TensorCoreError) throws -> [Int] {
        guard case .sequence(let dims)? = items["shape"] else { throw invalid("header has no 'shape' tuple") }
        return try dims.map {
            guard case .int(let d) = $0, d >= 0 else { throw invalid("shape must hold non-negative integers") }
            return d
        }
    }

    /// Recursive-descent parser; returns nil on any syntax error (the caller reports it).
    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0a || bytes[index] == 0x09 { index += 1 }
        }

        mutating func take(_ c: Character) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == c.asciiValue! else { return false }
            index += 1
            return true
        }

        mutating func dict() -> [String: Value]? {
            guard take("{") else { return nil }
            var items: [String: Value] = [:]
            while !take("}") {
                guard case .string(let key)? = value(depth: 1), take(":"), let v = value(depth: 1) else { return nil }
                items[key] = v
                if !take(",") { guard take("}") else { return nil }; break }
            }
            skipSpace()
            return index == bytes.count ? items : nil
        }

        /// Items up to `close`, allowing a trailing comma.
        mutating func sequence(_ close: Character, depth: Int) -> Value? {
            var items: [Value] = []
            while !take(close) {
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                if !take(",") { guard take(close) else { return nil }; break }
            }
            return .sequence(items)
        }

        /// Bytes of identifiers and integer literals: ASCII letters, digits, '_' and '-'.
        static func isWordByte(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b) || b == 0x5f || b == 0x2d
        }

        mutating func value(depth: Int) -> Value? {
            skipSpace()
            guard depth < 32, index < bytes.count else { return nil }
            let c = bytes[index]
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                index += 1
                let start = index
                while index < bytes.count, bytes[index] != c { index += 1 }
                guard index < bytes.count else { return nil }
                defer { index += 1 }
                return .string(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            }
            if take("(") { return sequence(")", depth: depth) }
            if take("[") { return sequence("]", depth: depth) }
            let start = index
            while index < bytes.count, Parser.isWordByte(bytes[index]) { index += 1 }
            var word = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .pyNone
            default:
                if word.hasSuffix("L") { word.removeLast() }  // Python 2 long literals
                return Int(word).map { .int($0) }
            }
        }
    }
}
