import TensorCore

/// FixMatch's strong augmentation, kekmodel's `RandAugmentMC(n, m)` (`fixmatch_augment_pool`):
/// `n` ops drawn with replacement from 14; each gets a level `v ∈ 1..<m` and is applied with
/// probability ½; then `CutoutAbs` always paints a `cutout`-pixel grey (127) square.
public struct RandAugmentMC: ImageTransform {
    public static let operations = ["AutoContrast", "Brightness", "Color", "Contrast", "Equalize", "Identity", "Posterize",
                                    "Rotate", "Sharpness", "ShearX", "ShearY", "Solarize", "TranslateX", "TranslateY"]
    public let name = "RandAugmentMC"
    public var n: Int
    public var m: Int
    /// Cutout side in pixels (kekmodel: `int(32 · 0.5)` = 16); 0 disables it.
    public var cutout: Int

    public init(n: Int = 2, m: Int = 10, cutout: Int = 16) {
        self.n = n; self.m = m; self.cutout = cutout
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        var image = try requireImage(input)
        guard image.channels == 3 else { throw DatasetsError.badTransform(name: name, reason: "needs an RGB image") }
        guard m >= 2 else { throw DatasetsError.badTransform(name: name, reason: "m must be at least 2") }
        let ops = (0..<n).map { _ in RandAugmentMC.operations[rng.int(below: RandAugmentMC.operations.count)] }
        for op in ops {
            let v = 1 + rng.int(below: m - 1)
            if rng.uniform() < 0.5 { image = RandAugmentMC.apply(op, level: v, to: image, rng: &rng) }
        }
        if cutout > 0 { image = RandAugmentMC.cutoutAbs(image, size: cutout, rng: &rng) }
        return .image(image)
    }

    /// One pool op at level `v` (1…9), with kekmodel's (max_v, bias) table.
    public static func apply(_ op: String, level v: Int, to image: Image, rng: inout RNG) -> Image {
        func float(_ maxV: Double, _ bias: Double) -> Double { Double(v) * maxV / 10 + bias }
        func int(_ maxV: Double, _ bias: Int) -> Int { Int(Double(v) * maxV / 10) + bias }
        func signed(_ x: Double) -> Double { rng.uniform() < 0.5 ? -x : x }
        let black: [UInt8] = [0, 0, 0]
        switch op {
        case "AutoContrast": return PILOps.autocontrast(image)
        case "Brightness": return PILOps.brightness(image, Float(float(0.9, 0.05)))
        case "Color": return PILOps.color(image, Float(float(0.9, 0.05)))
        case "Contrast": return PILOps.contrast(image, Float(float(0.9, 0.05)))
        case "Equalize": return PILOps.equalize(image)
        case "Posterize": return PILOps.posterize(image, bits: int(4, 4))
        case "Rotate": return PILOps.rotate(image, degrees: signed(Double(int(30, 0))), fill: black)
        case "Sharpness": return PILOps.sharpness(image, Float(float(0.9, 0.05)))
        case "ShearX": return PILOps.affine(image, [1, signed(float(0.3, 0)), 0, 0, 1, 0], filter: .nearest, fill: black)
        case "ShearY": return PILOps.affine(image, [1, 0, 0, signed(float(0.3, 0)), 1, 0], filter: .nearest, fill: black)
        case "Solarize": return PILOps.solarize(image, threshold: Double(256 - int(256, 0)))
        case "TranslateX":
            let t = Int(signed(float(0.3, 0)) * Double(image.width))
            return PILOps.affine(image, [1, 0, Double(t), 0, 1, 0], filter: .nearest, fill: black)
        case "TranslateY":
            let t = Int(signed(float(0.3, 0)) * Double(image.height))
            return PILOps.affine(image, [1, 0, 0, 0, 1, Double(t)], filter: .nearest, fill: black)
        default: return image   // Identity
        }
    }

    /// kekmodel `CutoutAbs`: a grey (127) square of side `size` (+1, PIL rectangles include both
    /// corners) at a uniformly drawn centre, clipped to the image.
    public static func cutoutAbs(_ image: Image, size: Int, rng: inout RNG) -> Image {
        var out = image
        let w = image.width, h = image.height
        let cx = Double(rng.uniform()) * Double(w), cy = Double(rng.uniform()) * Double(h)
        let x0 = Int(max(0, cx - Double(size) / 2)), y0 = Int(max(0, cy - Double(size) / 2))
        let x1 = min(w, x0 + size), y1 = min(h, y0 + size)
        for y in y0...min(y1, h - 1) {
            for x in x0...min(x1, w - 1) {
                for k in 0..<image.channels { out[x, y, k] = 127 }
            }
        }
        return out
    }
}
