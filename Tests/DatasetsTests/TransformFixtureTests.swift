import Foundation
import Testing
import TensorCore
@testable import Datasets

/// Transforms against Pillow / numpy outputs stored in Fixtures/transforms.safetensors.
@Suite struct TransformFixtureTests {
    static let file = try! Fixtures.safetensors("transforms.safetensors")
    static func cases(_ prefix: String) -> [String] { file.metadata.keys.filter { $0.hasPrefix(prefix) }.sorted() }

    func input(_ name: String) throws -> Image { Fixtures.image(from: try Self.file.tensor(name + "/input")) }
    func output(_ name: String) throws -> Image { Fixtures.image(from: try Self.file.tensor(name + "/output")) }

    @Test(arguments: cases("resize/"))
    func resizeMatchesPillowWithinOneLevel(_ name: String) throws {
        let p = try Fixtures.params(Self.file, name)
        let filter = ResampleFilter(name: p["filter"] as! String)!
        let got = try input(name).resized(width: p["width"] as! Int, height: p["height"] as! Int, filter: filter)
        #expect(Fixtures.maxDifference(got, try output(name)) <= 1, "\(name)")
    }

    @Test func torchvisionResizeTruncatesTheLongSide() throws {
        // The fixture resized a 19×40 image to 32 × int(32·40/19) = 32×67 with Pillow.
        let name = "resize/bilinear/short32"
        var rng = RNG(seed: 0)
        let t = try TransformRegistry.make("Resize", ["size": 32])
        guard case let .image(got) = try t.apply(.image(try input(name)), rng: &rng) else { Issue.record("no image"); return }
        #expect(Fixtures.maxDifference(got, try output(name)) <= 1)
        #expect(got.width == 32 && got.height == 67)
    }

    @Test(arguments: cases("center_crop/"))
    func centerCropMatchesTorchvisionOffsets(_ name: String) throws {
        let p = try Fixtures.params(Self.file, name)
        var rng = RNG(seed: 0)
        let t = try TransformRegistry.make("CenterCrop", ["size": [.int(p["height"] as! Int), .int(p["width"] as! Int)]])
        guard case let .image(got) = try t.apply(.image(try input(name)), rng: &rng) else { Issue.record("no image"); return }
        #expect(got == (try output(name)))
    }

    @Test(arguments: cases("pad/"))
    func padMatchesNumpy(_ name: String) throws {
        let p = try Fixtures.params(Self.file, name)
        let mode = PaddingMode(rawValue: p["mode"] as! String)!
        let got = try input(name).padded(left: p["left"] as! Int, top: p["top"] as! Int, right: p["right"] as! Int,
                                         bottom: p["bottom"] as! Int, mode: mode)
        #expect(got == (try output(name)))
    }

    @Test(arguments: ["chw", "hwc"])
    func normalizeImageMatchesNumpy(_ order: String) throws {
        let name = "normalize/\(order)"
        var rng = RNG(seed: 0)
        let t = try TransformRegistry.make("NormalizeImage", ["scale": "1.0/255.0", "mean": [0.485, 0.456, 0.406],
                                                              "std": [0.229, 0.224, 0.225], "order": .string(order)])
        guard case let .floats(got) = try t.apply(.image(try input(name)), rng: &rng) else { Issue.record("no floats"); return }
        let reference = try Self.file.tensor(name + "/output")
        #expect(got.layout == (order == "chw" ? .chw : .hwc))
        let diff = zip(got.values, reference.data).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-6)
    }

    /// Exact ops (lookup tables, blends, nearest-neighbour geometry) must match Pillow exactly;
    /// the sharpness filter and bicubic affine sampling within one level.
    @Test(arguments: cases("pil/"))
    func pilOpsMatchPillow(_ name: String) throws {
        let op = String(name.dropFirst(4))
        let src = try input(name)
        let black: [UInt8] = [0, 0, 0]
        let got: Image
        switch op {
        case "autocontrast": got = PILOps.autocontrast(src)
        case "equalize": got = PILOps.equalize(src)
        case "invert": got = PILOps.invert(src)
        case "posterize_4": got = PILOps.posterize(src, bits: 4)
        case "posterize_6": got = PILOps.posterize(src, bits: 6)
        case "solarize_128": got = PILOps.solarize(src, threshold: 128.0)
        case "solarize_231": got = PILOps.solarize(src, threshold: 231.0)
        case "brightness_0.32": got = PILOps.brightness(src, 0.32)
        case "brightness_1.9": got = PILOps.brightness(src, 1.9)
        case "color_0.5": got = PILOps.color(src, 0.5)
        case "color_1.9": got = PILOps.color(src, 1.9)
        case "contrast_0.41": got = PILOps.contrast(src, 0.41)
        case "contrast_1.9": got = PILOps.contrast(src, 1.9)
        case "sharpness_0.14": got = PILOps.sharpness(src, 0.14)
        case "sharpness_1.9": got = PILOps.sharpness(src, 1.9)
        case "rotate_21": got = PILOps.rotate(src, degrees: 21, fill: black)
        case "rotate_-9": got = PILOps.rotate(src, degrees: -9, fill: black)
        case "rotate_30_fill": got = PILOps.rotate(src, degrees: 30, fill: [128, 128, 128])
        case "shearx_0.27": got = PILOps.affine(src, [1, 0.27, 0, 0, 1, 0], filter: .nearest, fill: black)
        case "sheary_-0.15": got = PILOps.affine(src, [1, 0, 0, -0.15, 1, 0], filter: .nearest, fill: black)
        case "translatex_-5": got = PILOps.affine(src, [1, 0, -5, 0, 1, 0], filter: .nearest, fill: black)
        case "translatey_4": got = PILOps.affine(src, [1, 0, 0, 0, 1, 4], filter: .nearest, fill: black)
        case "shearx_bicubic_0.3": got = PILOps.affine(src, [1, 0.3, 0, 0, 1, 0], filter: .bicubic, fill: [128, 128, 128])
        default: Issue.record("no Swift op for fixture \(name)"); return
        }
        let tolerance = op.hasPrefix("sharpness") || op.contains("bicubic") ? 1 : 0
        let diff = Fixtures.maxDifference(got, try output(name))
        #expect(diff <= tolerance, "\(op): max difference \(diff)")
    }
}
