import TensorCore

/// torchvision `RandomCrop(size, padding, padding_mode)`: optional padding, then a uniformly placed
/// `size` crop (`i = randint(0, h - th)`, inclusive). Also PaddleClas `RandCropImageV2` (no padding).
public struct RandomCrop: ImageTransform {
    public let name: String
    public var width: Int
    public var height: Int
    public var pad: Pad?

    public init(width: Int, height: Int, pad: Pad? = nil, name: String = "RandomCrop") {
        self.width = width; self.height = height; self.pad = pad; self.name = name
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        var image = try requireImage(input)
        if let pad { image = try pad.requireImage(pad.apply(.image(image), rng: &rng)) }
        guard width <= image.width && height <= image.height else {
            throw DatasetsError.badTransform(name: name, reason: "crop \(width)x\(height) is larger than the image \(image.width)x\(image.height)")
        }
        let y = rng.int(below: image.height - height + 1)
        let x = rng.int(below: image.width - width + 1)
        return .image(image.cropped(x: x, y: y, width: width, height: height))
    }
}
