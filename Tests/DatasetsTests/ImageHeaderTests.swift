import Foundation
import Testing
@testable import Datasets

/// Image sizes are checked from the header, before any scan is decoded: a hostile header must
/// cost an error, not gigabytes of grey pixels.
@Suite struct ImageHeaderTests {
    /// `bytes` with the frame header (SOF0/SOF1/SOF2) declaring `width` × `height`.
    static func declaring(_ bytes: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var out = bytes
        var i = 2
        while i + 9 < out.count {
            guard out[i] == 0xFF else { i += 1; continue }
            let marker = out[i + 1]
            if (0xC0...0xC2).contains(marker) {
                out[i + 5] = UInt8(height >> 8); out[i + 6] = UInt8(height & 0xFF)
                out[i + 7] = UInt8(width >> 8); out[i + 8] = UInt8(width & 0xFF)
                return out
            }
            i += 2 + Int(out[i + 2]) << 8 + Int(out[i + 3])  // skip this segment
        }
        throw DatasetsError.badImage(path: "test", reason: "no frame header")
    }

    @Test func probeReadsTheDeclaredSize() throws {
        let bytes = try JPEGEncoder.encode(Fixtures.synthetic(width: 64, height: 48), quality: 80)
        let size = try ImageDecoder().probe(bytes)
        #expect(size.width == 64 && size.height == 48)
        let huge = try Self.declaring(bytes, width: 30000, height: 20000)
        #expect(throws: DatasetsError.self) { try ImageDecoder(maxPixels: 100_000_000).probe(huge) }
    }

    /// A few KB cannot hold 13000² pixels: libjpeg would fill the rest with grey at full cost.
    @Test func truncatedJPEGIsRefusedFromItsHeader() throws {
        let bytes = try JPEGEncoder.encode(Fixtures.synthetic(width: 64, height: 48), quality: 80)
        let bomb = try Self.declaring(bytes, width: 13000, height: 13000)
        #expect(13000 * 13000 < ImageDecoder().maxPixels)  // under the pixel limit: only the size bound refuses it
        for attempt in [{ _ = try ImageDecoder().probe(bomb) }, { _ = try ImageDecoder().decode(bomb) }] {
            do {
                try attempt()
                Issue.record("a 13000x13000 header in \(bomb.count) bytes was accepted")
            } catch let error as DatasetsError {
                #expect("\(error)".contains("truncated"), "\(error)")
            }
        }
    }

    /// A progressive JPEG's scans are read in full by jpeg_start_decompress; the pixel limit must
    /// act before that. The file below is cut right after its header: reading scans would fail
    /// with "premature end", so the pixel-limit message shows the header check ran first.
    @Test func progressiveJPEGOverThePixelLimitIsRefusedBeforeItsScans() throws {
        let bytes = try JPEGEncoder.encode(Fixtures.synthetic(width: 64, height: 48), quality: 80, progressive: true)
        var bomb = try Self.declaring(bytes, width: 40000, height: 40000)
        let sos = try #require((2..<(bomb.count - 1)).first { bomb[$0] == 0xFF && bomb[$0 + 1] == 0xDA })
        bomb = Array(bomb[..<(sos + 2 + Int(bomb[sos + 2]) << 8 + Int(bomb[sos + 3]) + 16)])
        do {
            _ = try ImageDecoder().decode(bomb)
            Issue.record("a 40000x40000 progressive JPEG was decoded")
        } catch let error as DatasetsError {
            #expect("\(error)".contains("over the limit"), "\(error)")
        }
    }

    @Test func truncatedPNGIsRefusedFromItsHeader() throws {
        let png = Self.png(width: 20000, height: 20000, idat: [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        do {
            _ = try ImageDecoder(maxPixels: Int.max).probe(png)
            Issue.record("a 20000x20000 PNG in \(png.count) bytes was accepted")
        } catch let error as DatasetsError {
            #expect("\(error)".contains("truncated"), "\(error)")
        }
        #expect(throws: DatasetsError.self) { try ImageDecoder(maxPixels: Int.max).decode(png) }
    }

    /// A minimal RGB PNG: signature, IHDR, one IDAT, IEND.
    static func png(width: Int, height: Int, idat: [UInt8]) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(data.count) + body + be32(Int(crc32(body)))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
