import Retrieval

/// Encodes Thrift structs with the compact protocol, the encoding of Parquet's page headers and
/// file footer. Only what Parquet needs: i16/i32/i64 (zigzag varints), binary/string (varint
/// length + bytes), bool, nested structs and lists.
///
/// A field header is one byte `(id − previous id) << 4 | type` when the delta is 1...15, else the
/// type byte followed by the id as a zigzag varint; each struct ends with a 0 byte and restarts
/// the delta from 0 for its own fields.
struct ThriftCompactWriter {
    enum CompactType: UInt8 {
        case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
        case list = 9, set = 10, map = 11, `struct` = 12
    }

    private(set) var bytes: [UInt8] = []
    /// Last field id written, one entry per open struct.
    private var lastFieldIDs: [Int16] = [0]

    // MARK: Primitive encodings

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func fieldHeader(_ id: Int16, _ type: CompactType) {
        let delta = Int(id) - Int(lastFieldIDs[lastFieldIDs.count - 1])
        if delta > 0, delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(Self.zigzag(Int64(id)))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    // MARK: Fields

    mutating func field(_ id: Int16, i32 value: Int32) {
        fieldHeader(id, .i32)
        varint(Self.zigzag(Int64(value)))
    }

    mutating func field(_ id: Int16, i64 value: Int64) {
        fieldHeader(id, .i64)
        varint(Self.zigzag(value))
    }

    mutating func field(_ id: Int16, i16 value: Int16) {
        fieldHeader(id, .i16)
        varint(Self.zigzag(Int64(value)))
    }

    mutating func field(_ id: Int16, bool value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func field(_ id: Int16, string value: String) {
        fieldHeader(id, .binary)
        binary(Array(value.utf8))
    }

    /// Opens a struct-valued field; close it with `endStruct()`.
    mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .struct)
        lastFieldIDs.append(0)
    }

    /// Opens a struct that is a list element (no field header); close it with `endStruct()`.
    mutating func beginListElementStruct() { lastFieldIDs.append(0) }

    mutating func endStruct() {
        bytes.append(0)
        lastFieldIDs.removeLast()
    }

    /// Writes the list field header; the caller then writes `count` elements of `elementType`.
    mutating func beginList(_ id: Int16, of elementType: CompactType, count: Int) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            varint(UInt64(count))
        }
    }

    // MARK: List elements

    mutating func element(i32 value: Int32) { varint(Self.zigzag(Int64(value))) }

    mutating func element(string value: String) { binary(Array(value.utf8)) }

    private mutating func binary(_ value: [UInt8]) {
        varint(UInt64(value.count))
        bytes += value
    }

    /// Ends the outermost struct (a whole message such as a page header or the footer).
    mutating func finish() -> [UInt8] {
        precondition(lastFieldIDs.count == 1, "unbalanced beginStruct/endStruct")
        bytes.append(0)
        return bytes
    }
}
