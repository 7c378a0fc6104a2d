import TensorCore

/// PaddleClas `RandAugment(num_layers, magnitude, fillcolor)` (`ppcls/data/preprocess/ops/randaugment.py`):
/// `num_layers` ops drawn uniformly with replacement from 14, each **always** applied at the fixed
/// magnitude `magnitude / 10` with a random sign where the op has one; rotate is always +30·m°
/// with grey fill, solarize's threshold is 256·m (a no-op at m = 1), shear uses bicubic sampling.
public struct RandAugment: ImageTransform {
    public static let operations = ["shearX", "shearY", "translateX", "translateY", "rotate", "color", "posterize",
                                    "solarize", "contrast", "sharpness", "brightness", "autocontrast", "equalize", "invert"]
    public let name = "RandAugment"
    public var layers: Int
    public var magnitude: Double
    public var fill: [UInt8]

    public init(layers: Int = 2, magnitude: Double = 5, fill: [UInt8] = [128, 128, 128]) {
        self.layers = layers; self.magnitude = magnitude; self.fill = fill
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        var image = try requireImage(input)
        guard image.channels == 3 else { throw DatasetsError.badTransform(name: name, reason: "needs an RGB image") }
        for _ in 0..<layers {
            let op = RandAugment.operations[rng.int(below: RandAugment.operations.count)]
            image = apply(op, to: image, rng: &rng)
        }
        return .image(image)
    }

    /// One op at this transform's magnitude (the sign, where there is one, is drawn from `rng`).
    public func apply(_ op: String, to image: Image, rng: inout RNG) -> Image {
        let level = magnitude / 10
        func sign() -> Double { rng.int(below: 2) == 0 ? -1 : 1 }
        switch op {
        case "shearX": return PILOps.affine(image, [1, 0.3 * level * sign(), 0, 0, 1, 0], filter: .bicubic, fill: fill)
        case "shearY": return PILOps.affine(image, [1, 0, 0, 0.3 * level * sign(), 1, 0], filter: .bicubic, fill: fill)
        case "translateX":
            return PILOps.affine(image, [1, 0, 150.0 / 331 * level * Double(image.width) * sign(), 0, 1, 0], filter: .nearest, fill: fill)
        case "translateY":
            return PILOps.affine(image, [1, 0, 0, 0, 1, 150.0 / 331 * level * Double(image.height) * sign()], filter: .nearest, fill: fill)
        case "rotate": return PILOps.rotate(image, degrees: 30 * level, fill: [128, 128, 128])
        case "color": return PILOps.color(image, Float(1 + 0.9 * level * sign()))
        case "posterize": return PILOps.posterize(image, bits: Int(4 * level))
        case "solarize": return PILOps.solarize(image, threshold: 256 * level)
        case "contrast": return PILOps.contrast(image, Float(1 + 0.9 * level * sign()))
        case "sharpness": return PILOps.sharpness(image, Float(1 + 0.9 * level * sign()))
        case "brightness": return PILOps.brightness(image, Float(1 + 0.9 * level * sign()))
        case "autocontrast": return PILOps.autocontrast(image)
        case "equalize": return PILOps.equalize(image)
        case "invert": return PILOps.invert(image)
        default: return image
        }
    }
}
