@testable import GalleryExport
@testable import Retrieval
import TestSupport
import Testing

@Suite struct ThriftCompactWriterTests {
    @Test func encodesFieldHeadersVarintsAndZigzagByHand() {
        var t = ThriftCompactWriter()
        t.field(1, i32: 0)  // delta 1, type i32 (5): 0x15; zigzag(0) = 0
        t.field(3, i32: -1)  // delta 2: 0x25; zigzag(-1) = 1
        t.field(4, i64: 300)  // delta 1, i64 (6): 0x16; zigzag(300) = 600 = 0b100_1011000 → 0xD8 0x04
        t.field(20, i32: 1)  // delta 16 > 15: type byte 0x05, then zigzag(20) = 40 = 0x28; zigzag(1) = 2
        t.field(21, string: "ab")  // delta 1, binary (8): 0x18, length 2, bytes
        t.beginStruct(22)  // 0x1C; nested ids restart at 0
        t.field(1, i32: -64)  // zigzag(-64) = 127 = 0x7F
        t.endStruct()  // 0x00
        t.field(23, bool: true)  // delta 1 from 22, BOOLEAN_TRUE (1): 0x11
        t.beginList(24, of: .i32, count: 3)  // 0x19, then size 3 << 4 | 5 = 0x35
        for v: Int32 in [1, 2, 3] { t.element(i32: v) }  // 0x02 0x04 0x06
        t.field(5, i16: 7)  // going back to id 5: long form 0x04, zigzag(5) = 0x0A, zigzag(7) = 0x0E
        let expected: [UInt8] = [
            0x15, 0x00, 0x25, 0x01, 0x16, 0xD8, 0x04, 0x05, 0x28, 0x02, 0x18, 0x02, 0x61, 0x62,
            0x1C, 0x15, 0x7F, 0x00, 0x11, 0x19, 0x35, 0x02, 0x04, 0x06, 0x04, 0x0A, 0x0E, 0x00,
        ]
        #expect(t.finish() == expected)
    }

    @Test func extremeIntegersAndLongLists() {
        #expect(ThriftCompactWriter.zigzag(Int64.min) == UInt64.max)
        #expect(ThriftCompactWriter.zigzag(Int64.max) == UInt64.max - 1)
        var t = ThriftCompactWriter()
        t.field(1, i64: Int64.min)
        t.beginList(3, of: .binary, count: 20)  // delta 2: 0x29; 20 ≥ 15: 0xF8, then the size as a varint
        for _ in 0..<20 { t.element(string: "") }
        let bytes = t.finish()
        #expect(Array(bytes[0..<11]) == [0x16] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        #expect(Array(bytes[11..<14]) == [0x29, 0xF8, 0x14])
        #expect(bytes.count == 14 + 20 + 1)
    }

    @Test func independentReaderDecodesWhatTheWriterWrites() {
        var t = ThriftCompactWriter()
        t.field(1, i32: -123_456)
        t.beginStruct(4)
        t.beginList(2, of: .struct, count: 2)
        for i in 0..<2 {
            t.beginListElementStruct()
            t.field(16, i64: Int64(i) - 5_000_000_000)
            t.endStruct()
        }
        t.endStruct()
        t.field(9, string: "café")
        var r = ThriftCompactReader(t.finish())
        let v = r.structure()
        #expect(v[1]?.int == -123_456)
        #expect(v[4]?[2]?.list?.map { $0[16]?.int } == [-5_000_000_000, -4_999_999_999])
        #expect(v[9]?.string == "café")
    }

    @Test func rleRunsWithTheirLengthPrefix() {
        #expect(RLEHybrid.runs([0, 1, 1, 1, 0, 0] as [UInt8]).map { [$0.0, UInt8($0.1)] } == [[0, 1], [1, 3], [0, 2]])
        // (0 × 1): header 1 << 1 = 2, value 0; (1 × 127): header 254 → varint 0xFE 0x01, value 1.
        #expect(RLEHybrid.levels(runs: [(0, 1), (1, 127)]) == [5, 0, 0, 0, 0x02, 0x00, 0xFE, 0x01, 0x01])
    }
}
