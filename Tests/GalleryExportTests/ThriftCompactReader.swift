/// A test-side decoder of the Thrift compact protocol, written from the spec independently of
/// `ThriftCompactWriter`, so the Parquet footer and page headers can be checked field by field.
indirect enum ThriftValue: Equatable {
    case int(Int64), binary([UInt8]), bool(Bool), double(UInt64), list([ThriftValue]), structure([Int16: ThriftValue])

    var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var string: String? { if case .binary(let b) = self { return String(decoding: b, as: UTF8.self) }; return nil }
    var list: [ThriftValue]? { if case .list(let l) = self { return l }; return nil }
    subscript(_ id: Int16) -> ThriftValue? { if case .structure(let s) = self { return s[id] }; return nil }
}

struct ThriftCompactReader {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func byte() -> UInt8 {
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = byte()
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func zigzag() -> Int64 {
        let u = varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    mutating func value(_ type: UInt8) -> ThriftValue {
        switch type {
        case 1: return .bool(true)  // only in list elements here
        case 2: return .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: byte())))
        case 4, 5, 6: return .int(zigzag())
        case 7:
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(byte()) << (8 * UInt64(i)) }
            return .double(bits)
        case 8:
            let n = Int(varint())
            defer { position += n }
            return .binary(Array(bytes[position..<(position + n)]))
        case 9:
            let header = byte()
            var count = Int(header >> 4)
            if count == 15 { count = Int(varint()) }
            return .list((0..<count).map { _ in value(header & 0x0F) })
        case 12: return structure()
        default: fatalError("unexpected compact type \(type) at byte \(position)")
        }
    }

    mutating func structure() -> ThriftValue {
        var fields: [Int16: ThriftValue] = [:]
        var last: Int16 = 0
        while true {
            let header = byte()
            if header == 0 { return .structure(fields) }
            let type = header & 0x0F
            let delta = Int16(header >> 4)
            let id = delta == 0 ? Int16(zigzag()) : last + delta
            last = id
            fields[id] = value(type)
        }
    }
}
