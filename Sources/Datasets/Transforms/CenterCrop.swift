import TensorCore

/// Centre crops. PaddleClas `CropImage` floors the offsets (`(w - cw) // 2`) and takes `size` as
/// `[w, h]`; torchvision `CenterCrop` rounds half to even (`int(round((h - ch) / 2))`) and takes `[h, w]`.
public struct CenterCrop: ImageTransform {
    public let name: String
    public var width: Int
    public var height: Int
    /// torchvision rounding of the offsets (PaddleClas floors).
    public var roundsOffsets: Bool

    public init(width: Int, height: Int, roundsOffsets: Bool = true, name: String = "CenterCrop") {
        self.width = width; self.height = height; self.roundsOffsets = roundsOffsets; self.name = name
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        guard width <= image.width && height <= image.height else {
            throw DatasetsError.badTransform(name: name, reason: "crop \(width)x\(height) is larger than the image \(image.width)x\(image.height); resize first")
        }
        let x = roundsOffsets ? Int((Double(image.width - width) / 2).rounded(.toNearestOrEven)) : (image.width - width) / 2
        let y = roundsOffsets ? Int((Double(image.height - height) / 2).rounded(.toNearestOrEven)) : (image.height - height) / 2
        return .image(image.cropped(x: x, y: y, width: width, height: height))
    }
}
