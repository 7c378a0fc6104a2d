import Foundation
import Testing
import TensorCore
@testable import Datasets

@Suite struct ImageDecoderTests {
    static let decoded = ["rgb_q90.jpg", "rgb_420_q75.jpg", "gray.jpg", "cmyk.jpg", "progressive.jpg",
                          "exif_orientation_3.jpg", "exif_orientation_6.jpg", "exif_orientation_8.jpg",
                          "rgb.png", "gray.png", "palette.png", "rgba.png", "rgba_alpha.png", "gray_alpha.png",
                          "gray16.png", "palette_trns.png"]

    @Test(arguments: decoded)
    func matchesPillow(_ name: String) throws {
        let reference = Fixtures.image(from: try Fixtures.safetensors("decode.safetensors").tensor(name))
        let image = try ImageDecoder().decode(contentsOf: Fixtures.image(name))
        #expect(image.channels == 3)
        #expect(image.width == reference.width && image.height == reference.height)
        #expect(Fixtures.maxDifference(image, reference) == 0, "\(name) differs from Pillow")
    }

    @Test func orientationCanBeIgnored() throws {
        let raw = try ImageDecoder(respectsOrientation: false).decode(contentsOf: Fixtures.image("exif_orientation_6.jpg"))
        let upright = try ImageDecoder().decode(contentsOf: Fixtures.image("exif_orientation_6.jpg"))
        #expect(raw.width == 21 && raw.height == 13)
        #expect(upright.width == 13 && upright.height == 21)
        // Orientation 6 means "rotate 90° clockwise to view": the stored top-left lands top-right.
        #expect(upright[12, 0, 0] == raw[0, 0, 0] && upright[12, 0, 1] == raw[0, 0, 1])
    }

    @Test func alphaCanBeComposited() throws {
        let white = try ImageDecoder(alpha: .composite(r: 255, g: 255, b: 255)).decode(contentsOf: Fixtures.image("palette_trns.png"))
        let dropped = try ImageDecoder().decode(contentsOf: Fixtures.image("palette_trns.png"))
        // Palette index 1 (green) is fully transparent: white when composited, green when dropped.
        #expect(Array(white.pixels[3..<6]) == [255, 255, 255])
        #expect(Array(dropped.pixels[3..<6]) == [0, 255, 0])
        #expect(Array(white.pixels[0..<3]) == [255, 0, 0])
    }

    @Test(arguments: [("truncated.jpg", "JPEG"), ("truncated.png", "PNG"), ("not_an_image.jpg", "not a JPEG or PNG")])
    func badFilesThrowNamingTheFile(_ name: String, _ fragment: String) {
        let path = Fixtures.image(name)
        do {
            _ = try ImageDecoder().decode(contentsOf: path)
            Issue.record("\(name) decoded without error")
        } catch let error as DatasetsError {
            #expect(error.description.hasPrefix(path))
            #expect(error.description.contains(fragment))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func missingAndEmptyFilesThrow() throws {
        #expect(throws: DatasetsError.badImage(path: "/nonexistent/x.jpg", reason: "no such file")) {
            try ImageDecoder().decode(contentsOf: "/nonexistent/x.jpg")
        }
        #expect(throws: DatasetsError.badImage(path: "mem", reason: "the file is empty")) {
            try ImageDecoder().decode([UInt8](), source: "mem")
        }
    }

    @Test func pixelLimitRefusesHugeImages() throws {
        let bytes = try JPEGEncoder.encode(Fixtures.synthetic(width: 40, height: 30), quality: 80)
        #expect(throws: DatasetsError.self) { try ImageDecoder(maxPixels: 1000).decode(bytes) }
        #expect(try ImageDecoder(maxPixels: 1200).decode(bytes).width == 40)
    }

    @Test func corruptedBytesNeverCrash() throws {
        // Every prefix and many single-byte corruptions of a valid JPEG and PNG: each either
        // decodes or throws; none may end the process.
        let jpeg = try JPEGEncoder.encode(Fixtures.synthetic(width: 24, height: 16), quality: 70)
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.image("rgb.png"))))
        var rng = RNG(seed: 7)
        var failures = 0
        for original in [jpeg, png] {
            for cut in stride(from: 0, to: original.count, by: 7) {
                if (try? ImageDecoder().decode(Array(original[..<cut]))) == nil { failures += 1 }
            }
            for _ in 0..<150 {
                var bytes = original
                bytes[rng.int(below: bytes.count)] = UInt8(rng.int(below: 256))
                _ = try? ImageDecoder().decode(bytes)
            }
        }
        #expect(failures > 100)  // truncated prefixes are refused, not padded with grey
    }

    @Test func jpegRoundTripIsClose() throws {
        // A smooth gradient: JPEG's 4:2:0 chroma subsampling would blur per-pixel noise.
        var image = Image(width: 33, height: 20)
        for y in 0..<20 { for x in 0..<33 { image[x, y, 0] = UInt8(x * 7); image[x, y, 1] = UInt8(y * 12); image[x, y, 2] = 90 } }
        let decoded = try ImageDecoder().decode(try JPEGEncoder.encode(image, quality: 100))
        #expect(decoded.width == 33 && decoded.height == 20)
        let meanError = zip(image.pixels, decoded.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(image.pixels.count)
        #expect(meanError < 3)
        let low = try JPEGEncoder.encode(image, quality: 10), high = try JPEGEncoder.encode(image, quality: 95)
        #expect(low.count < high.count)
    }
}
