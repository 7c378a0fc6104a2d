import Foundation

/// An integer array kept exactly (Float32 cannot hold every Int64): PyTorch's
/// `num_batches_tracked`, label arrays, index lists. Row-major like `Tensor`.
public struct Int64Array: Equatable, Sendable {
    public let shape: [Int]
    public let values: [Int64]

    public init(shape: [Int], values: [Int64]) {
        precondition(values.count == Shape.count(shape),
                     "values has \(values.count) elements, shape \(Shape.describe(shape)) needs \(Shape.count(shape))")
        self.shape = shape
        self.values = values
    }

    /// A 1-D array.
    public init(_ values: [Int64]) { self.init(shape: [values.count], values: values) }

    public var count: Int { values.count }

    /// The values converted to Float32 (rounded to nearest beyond 2^24).
    public var floatTensor: Tensor { Tensor(shape: shape, data: values.map { Float($0) }) }
}

/// Element encodings the readers understand. Everything decodes to Float32; integer and bool
/// kinds also decode exactly to Int64.
enum ElementKind {
    case f32, f64, f16, bf16, i64, i32, u8, bool

    var itemSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .u8, .bool: return 1
        }
    }

    var isInteger: Bool {
        switch self {
        case .i64, .i32, .u8, .bool: return true
        case .f32, .f64, .f16, .bf16: return false
        }
    }

    /// Decodes `count` little-endian elements starting at `offset`. The caller has checked bounds.
    func decode(_ raw: UnsafeRawBufferPointer, offset: Int, count: Int) -> (floats: [Float], integers: [Int64]?) {
        let size = itemSize
        @inline(__always) func u16(_ i: Int) -> UInt16 {
            UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset + i * size, as: UInt16.self))
        }
        @inline(__always) func u32(_ i: Int) -> UInt32 {
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + i * size, as: UInt32.self))
        }
        @inline(__always) func u64(_ i: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + i * size, as: UInt64.self))
        }
        func floats(_ f: (Int) -> Float) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buf, n in
                for i in 0..<count { buf[i] = f(i) }
                n = count
            }
        }
        switch self {
        case .f32: return (floats { Float(bitPattern: u32($0)) }, nil)
        case .f64: return (floats { Float(Double(bitPattern: u64($0))) }, nil)
        case .f16: return (floats { floatFromHalf(u16($0)) }, nil)
        case .bf16: return (floats { floatFromBFloat16(u16($0)) }, nil)
        case .i64, .i32, .u8, .bool:
            let ints = [Int64](unsafeUninitializedCapacity: count) { buf, n in
                for i in 0..<count {
                    switch self {
                    case .i64: buf[i] = Int64(bitPattern: u64(i))
                    case .i32: buf[i] = Int64(Int32(bitPattern: u32(i)))
                    case .u8: buf[i] = Int64(raw[offset + i])
                    default: buf[i] = raw[offset + i] == 0 ? 0 : 1
                    }
                }
                n = count
            }
            return (ints.map { Float($0) }, ints)
        }
    }
}

/// IEEE binary16 → Float32, exact for every value (subnormals, ±inf, NaN payloads kept).
@inline(__always) func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2^-24, which Float32 represents exactly.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
    // Rebias the exponent from 15 to 127.
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// bfloat16 is the top half of a Float32, so widening is a shift.
@inline(__always) func floatFromBFloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Element count of a file-supplied shape, or nil when a dimension is negative or the product
/// overflows. Multiplies in the same order as `Shape.count`, so a shape accepted here can never
/// overflow there (`[2^40, 2^40, 0]` is rejected even though it holds no elements).
func checkedCount(_ shape: [Int]) -> Int? {
    if shape.contains(where: { $0 < 0 }) { return nil }
    var n = 1
    for d in shape {
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// `count * itemSize`, or nil on overflow.
func checkedByteCount(_ shape: [Int], itemSize: Int) -> Int? {
    guard let n = checkedCount(shape) else { return nil }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: itemSize)
    return overflow ? nil : bytes
}

/// Byte-wise (UTF-8) string order, as Rust's `String` and Python's `bytes` compare.
func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends Float32 values as little-endian bytes.
    mutating func appendLittleEndian(_ values: [Float]) {
        #if _endian(little)
        values.withUnsafeBufferPointer { append($0) }
        #else
        for v in values { appendLittleEndian(v.bitPattern) }
        #endif
    }

    mutating func appendLittleEndian(_ values: [Int64]) {
        #if _endian(little)
        values.withUnsafeBufferPointer { append($0) }
        #else
        for v in values { appendLittleEndian(v) }
        #endif
    }
}

/// Reads a whole file, mapping it when the platform allows, with errors naming the path.
func readFileData(_ url: URL) throws -> Data {
    let path = url.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw TensorCoreError.invalidFile(path: path, reason: "no such file")
    }
    if isDirectory.boolValue { throw TensorCoreError.invalidFile(path: path, reason: "is a directory, not a file") }
    do {
        return try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
        throw TensorCoreError.invalidFile(path: path, reason: "cannot read file: \(error)")
    }
}

/// Writes `data` to a temporary file in the destination directory, then renames it over `url`,
/// so readers never see a half-written file and a crash leaves the old file intact.
func writeFileAtomically(_ data: Data, to url: URL) throws {
    let path = url.path
    let directory = url.deletingLastPathComponent()
    let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt32.random(in: .min ... .max))")
    do {
        try data.write(to: temp)
    } catch {
        throw TensorCoreError.invalidFile(path: path, reason: "cannot write file: \(error)")
    }
    if rename(temp.path, path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temp)
        throw TensorCoreError.invalidFile(path: path, reason: "cannot move temporary file into place: \(reason)")
    }
}
