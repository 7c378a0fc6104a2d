@testable import Datasets
import Foundation
import MagpieConfig
import TensorCore
import Testing

@Suite struct TransformTests {
    static let xbmTrain: [(String, [String: ConfigNode])] = [
        ("DecodeImage", ["to_rgb": true, "channel_first": false]),
        ("Resize", ["size": 64]),
        ("RandomResizedCrop", ["size": 48, "scale": [0.2, 1.0]]),
        ("RandomHorizontalFlip", ["prob": 0.5]),
        ("ToTensor", [:]),
        ("Normalize", ["mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]]),
    ]

    func encoded(_ image: Image) throws -> Payload { .encoded(try JPEGEncoder.encode(image, quality: 90), source: "test.jpg") }

    @Test func xbmChainIsSeededAndReproducible() throws {
        let chain = try TransformRegistry.chain(Self.xbmTrain)
        let input = try encoded(Fixtures.synthetic(width: 90, height: 70))
        var a = RNG(seed: 3), b = RNG(seed: 3), c = RNG(seed: 4)
        guard case let .floats(x) = try chain.apply(input, rng: &a), case let .floats(y) = try chain.apply(input, rng: &b),
              case let .floats(z) = try chain.apply(input, rng: &c) else { Issue.record("chain did not end in floats"); return }
        #expect(x.layout == .chw && x.width == 48 && x.height == 48 && x.channels == 3)
        #expect(x.values == y.values)
        #expect(x.values != z.values)
        // ToTensor + Normalize keeps values within [(0 − mean)/std, (1 − mean)/std].
        #expect(x.values.allSatisfy { $0 >= -2.2 && $0 <= 2.7 })
    }

    @Test func paddleClassicChainEndsInCHWFloats() throws {
        let chain = try TransformRegistry.chain([
            ("DecodeImage", ["to_rgb": true]), ("ResizeImage", ["resize_short": 40]), ("CropImage", ["size": 32]),
            ("NormalizeImage", ["scale": "1.0/255.0", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "order": ""]),
            ("ToCHWImage", [:]),
        ])
        var rng = RNG(seed: 0)
        guard case let .floats(out) = try chain.apply(try encoded(Fixtures.synthetic(width: 50, height: 45)), rng: &rng) else {
            Issue.record("no floats"); return
        }
        #expect(out.layout == .chw && out.width == 32 && out.height == 32)
    }

    @Test func resizeShortSideRoundingDiffersBetweenVocabularies() throws {
        // 3 × 7 image, short side → 2: PaddleClas rounds 7·2/3 = 4.67 → 5, torchvision truncates → 4.
        #expect(Resize(.shortSideRounded(2)).outputSize(width: 3, height: 7) == (2, 5))
        #expect(Resize(.shortSideTruncated(2)).outputSize(width: 3, height: 7) == (2, 4))
        #expect(Resize(.shortSideTruncated(256)).outputSize(width: 500, height: 375) == (341, 256))
    }

    @Test func registryRejectsUnknownNamesAndParameters() {
        #expect(throws: DatasetsError.self) { try TransformRegistry.make("RandomRotate", [:]) }
        do {
            _ = try TransformRegistry.make("ResizeImage", ["resize_shrt": 256])
            Issue.record("accepted a misspelt key")
        } catch {
            #expect("\(error)".contains("unknown parameter 'resize_shrt'"))
        }
        #expect(throws: DatasetsError.self) { try TransformRegistry.make("NormalizeImage", ["scale": "1/x"]) }
        #expect(throws: DatasetsError.self) { try TransformRegistry.make("RandFlipImage", ["flip_code": 2]) }
        #expect(throws: DatasetsError.self) { try TransformRegistry.make("RandomResizedCrop", ["size": 224, "scale": [1.0, 0.2]]) }
        #expect(TransformRegistry.names.contains("RandAugmentMC") && TransformRegistry.names.contains("ToCHWImage"))
    }

    @Test func geometricOpAfterNormalizeExplainsTheOrder() throws {
        let chain = try TransformRegistry.chain([("NormalizeImage", [:]), ("RandFlipImage", [:])])
        var rng = RNG(seed: 0)
        do {
            _ = try chain.apply(.image(Fixtures.synthetic(width: 8, height: 8)), rng: &rng)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("RandFlipImage") && "\(error)".contains("before NormalizeImage"))
        }
    }

    @Test func randomResizedCropBoxesRespectScaleAndRatio() {
        let t = RandomResizedCrop(width: 8, height: 8, scale: (0.2, 1), ratio: (3.0 / 4, 4.0 / 3))
        var rng = RNG(seed: 11)
        for _ in 0..<500 {
            let b = t.cropBox(width: 300, height: 200, rng: &rng)
            #expect(b.x >= 0 && b.y >= 0 && b.x + b.w <= 300 && b.y + b.h <= 200)
            let area = Double(b.w * b.h) / 60_000, aspect = Double(b.w) / Double(b.h)
            #expect(area > 0.19 && area < 1.01)
            #expect(aspect > 0.74 && aspect < 1.35)
        }
        // A 10:1 strip never fits the ratio: the fallback is the centred widest box of ratio 4/3.
        let fallback = t.cropBox(width: 1000, height: 100, rng: &rng)
        #expect(fallback.h == 100 && fallback.w == 133 && fallback.x == (1000 - 133) / 2 && fallback.y == 0)
    }

    @Test func paddleRandCropImageBoxesFit() {
        let t = RandomResizedCrop(width: 8, height: 8, algorithm: .paddleClas)
        var rng = RNG(seed: 5)
        for _ in 0..<500 {
            let b = t.cropBox(width: 120, height: 40, rng: &rng)
            #expect(b.w >= 1 && b.h >= 1 && b.x + b.w <= 120 && b.y + b.h <= 40)
        }
    }

    @Test func flipProbabilityIsHonoured() throws {
        let image = Fixtures.synthetic(width: 5, height: 3)
        var rng = RNG(seed: 1)
        var flipped = 0
        let half = RandomFlip(probability: 0.5)
        for _ in 0..<2000 {
            if case let .image(out) = try half.apply(.image(image), rng: &rng), out == image.flippedHorizontally() { flipped += 1 }
        }
        #expect(flipped > 900 && flipped < 1100)
        guard case let .image(always) = try RandomFlip(probability: 1).apply(.image(image), rng: &rng) else { return }
        #expect(always[0, 0, 0] == image[4, 0, 0] && always[4, 2, 1] == image[0, 2, 1])
    }

    @Test func fixMatchWeakViewIsACropOfTheReflectPaddedImage() throws {
        let image = Fixtures.synthetic(width: 32, height: 32, seed: 9)
        let weak = try TransformRegistry.chain([("RandFlipImage", ["flip_code": 1]),
                                                ("RandomCrop", ["size": 32, "padding": 4, "padding_mode": "reflect"])])
        let padded = [image, image.flippedHorizontally()].map { $0.padded(left: 4, top: 4, right: 4, bottom: 4, mode: .reflect) }
        var rng = RNG(seed: 2)
        for _ in 0..<20 {
            guard case let .image(out) = try weak.apply(.image(image), rng: &rng) else { Issue.record("no image"); return }
            let found = padded.contains { p in
                (0...8).contains { y in (0...8).contains { x in p.cropped(x: x, y: y, width: 32, height: 32) == out } }
            }
            #expect(found)
        }
    }

    @Test func randAugmentMCAlwaysPaintsTheGreyCutout() throws {
        // n = 0 leaves only CutoutAbs: a grey square of side 16 (+1, inclusive corners), clipped.
        let image = Image(width: 32, height: 32, fill: 10)
        var rng = RNG(seed: 8)
        for _ in 0..<50 {
            guard case let .image(out) = try RandAugmentMC(n: 0, m: 10).apply(.image(image), rng: &rng) else { return }
            let greyPixels = (0..<(32 * 32)).filter { out.pixels[3 * $0] == 127 }
            let xs = greyPixels.map { $0 % 32 }, ys = greyPixels.map { $0 / 32 }
            let w = xs.max()! - xs.min()! + 1, h = ys.max()! - ys.min()! + 1
            #expect(greyPixels.count == w * h && w <= 17 && h <= 17 && w >= 9 && h >= 9)
            #expect(out.pixels.allSatisfy { $0 == 10 || $0 == 127 })
        }
    }

    @Test func randAugmentMCOpsUseKekmodelLevels() {
        var rng = RNG(seed: 0)
        let image = Fixtures.synthetic(width: 12, height: 10)
        // Posterize at v = 9 keeps int(0.4·9) + 4 = 7 bits; Solarize at v = 5 uses threshold 256 − 128.
        #expect(RandAugmentMC.apply("Posterize", level: 9, to: image, rng: &rng) == PILOps.posterize(image, bits: 7))
        #expect(RandAugmentMC.apply("Solarize", level: 5, to: image, rng: &rng) == PILOps.solarize(image, threshold: 128.0))
        #expect(RandAugmentMC.apply("Brightness", level: 1, to: image, rng: &rng) == PILOps.brightness(image, 0.14))
        #expect(RandAugmentMC.apply("Identity", level: 4, to: image, rng: &rng) == image)
        let shifted = RandAugmentMC.apply("TranslateX", level: 9, to: image, rng: &rng)  // ±int(0.27·12) = ±3 px
        let left = PILOps.affine(image, [1, 0, 3, 0, 1, 0], filter: .nearest, fill: [0, 0, 0])
        let right = PILOps.affine(image, [1, 0, -3, 0, 1, 0], filter: .nearest, fill: [0, 0, 0])
        #expect(shifted == left || shifted == right)
    }

    @Test func paddleRandAugmentRotateMatchesPillowFixture() throws {
        let file = TransformFixtureTests.file
        let src = Fixtures.image(from: try file.tensor("pil/rotate_30_fill/input"))
        let reference = Fixtures.image(from: try file.tensor("pil/rotate_30_fill/output"))
        var rng = RNG(seed: 0)
        #expect(RandAugment(magnitude: 10).apply("rotate", to: src, rng: &rng) == reference)
        let shearRef = Fixtures.image(from: try file.tensor("pil/shearx_bicubic_0.3/output"))
        let shears = (0..<8).map { _ in RandAugment(magnitude: 10).apply("shearX", to: src, rng: &rng) }
        #expect(shears.contains(shearRef))   // one of the two signs is Pillow's +0.3
        #expect(RandAugment(magnitude: 10).apply("solarize", to: src, rng: &rng) == src)   // threshold 256: a no-op
    }

    @Test func cutoutZeroesSquares() throws {
        var rng = RNG(seed: 3)
        guard case let .image(out) = try Cutout(holes: 1, length: 4).apply(.image(Image(width: 20, height: 20, fill: 9)), rng: &rng) else { return }
        let zeros = out.pixels.filter { $0 == 0 }.count / 3
        #expect(zeros > 0 && zeros <= 16)
    }
}

@Suite struct AugmentationPoolTests {
    @Test(arguments: RandAugment.operations)
    func paddleOpsKeepSizeAndChangeSomething(_ op: String) {
        // 40×30: equalize needs more than 255 pixels per channel to move anything (Pillow's step).
        let image = Fixtures.synthetic(width: 40, height: 30, seed: 4)
        var rng = RNG(seed: 1)
        let out = RandAugment(magnitude: 9).apply(op, to: image, rng: &rng)
        #expect(out.width == 40 && out.height == 30 && out.channels == 3)
        #expect(out.pixels != image.pixels, "\(op) at magnitude 9 left the image unchanged")
    }

    @Test(arguments: RandAugmentMC.operations)
    func fixMatchOpsKeepSize(_ op: String) {
        let image = Fixtures.synthetic(width: 13, height: 9, seed: 4)
        var rng = RNG(seed: 1)
        for level in 1...9 {
            let out = RandAugmentMC.apply(op, level: level, to: image, rng: &rng)
            #expect(out.width == 13 && out.height == 9)
            if op == "Identity" { #expect(out == image) }
        }
    }

    @Test func configValuesComeFromParsedYAML() throws {
        let parsed: [String: Any] = ["size": [224, 224], "scale": "1.0/255.0", "flip": true, "none": NSNull()]
        let values = try parsed.mapValues { try #require(ConfigNode(any: $0)) }
        #expect(values["size"] == .list([.int(224), .int(224)]))
        #expect(values["scale"]?.number == 1.0 / 255.0)
        #expect(values["none"] == .null && values["flip"] == .bool(true))
        #expect(ConfigNode(any: ["nested": 1]) == nil)
    }
}

@Suite struct TransformOpsListTests {
    @Test func buildsFromAParsedPaddleClasList() throws {
        // xbm_resnet50.yaml's train transform_ops as a YAML/JSON parser hands them over.
        let json = """
        [{"DecodeImage": {"to_rgb": true, "channel_first": false}},
         {"ResizeImage": {"resize_short": 40}},
         {"RandCropImage": {"size": 32, "scale": [0.2, 1.0]}},
         {"RandFlipImage": {"flip_code": 1}},
         {"NormalizeImage": {"scale": "1.0/255.0", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "order": ""}},
         {"ToCHWImage": null}]
        """
        let ops = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [Any]
        let chain = try TransformRegistry.chain(transformOps: ops)
        #expect(chain.transforms.map(\.name) == ["DecodeImage", "ResizeImage", "RandCropImage", "RandFlipImage", "NormalizeImage", "ToCHWImage"])
        var rng = RNG(seed: 0)
        let bytes = try JPEGEncoder.encode(Fixtures.synthetic(width: 60, height: 50))
        guard case let .floats(out) = try chain.apply(.encoded(bytes, source: "x.jpg"), rng: &rng) else { Issue.record("no floats"); return }
        #expect(out.layout == .chw && out.width == 32 && out.height == 32)
        let parsed = try JSONSerialization.jsonObject(with: Data(#"[true, 1.0, 1, "x", null]"#.utf8)) as! [Any]
        #expect(parsed.map { ConfigNode(any: $0) } == [.bool(true), .double(1.0), .int(1), .string("x"), .null])
        #expect(throws: DatasetsError.self) { try TransformRegistry.chain(transformOps: [["A": 1, "B": 2]]) }
        #expect(throws: DatasetsError.self) { try TransformRegistry.chain(transformOps: [["ResizeImage": 256]]) }
    }
}
