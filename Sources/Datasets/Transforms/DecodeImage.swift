import TensorCore

/// PaddleClas `DecodeImage`: encoded bytes → 8-bit RGB image (`to_rgb: false` gives BGR, as cv2).
public struct DecodeImage: ImageTransform {
    public let name = "DecodeImage"
    public var decoder: ImageDecoder
    public var toRGB: Bool

    public init(decoder: ImageDecoder = ImageDecoder(), toRGB: Bool = true) {
        self.decoder = decoder
        self.toRGB = toRGB
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        switch input {
        case let .encoded(bytes, source):
            var image = try decoder.decode(bytes, source: source)
            if !toRGB {
                for i in stride(from: 0, to: image.pixels.count, by: 3) { image.pixels.swapAt(i, i + 2) }
            }
            return .image(image)
        case .image:
            return input          // already decoded (CIFAR arrays): nothing to do
        case .floats:
            throw DatasetsError.badTransform(name: name, reason: "got a float image; DecodeImage must come first")
        }
    }
}
