import TensorCore

/// One step of a preprocessing chain. Randomness comes only from `rng`, so a chain run with the
/// same seed gives the same output on every machine and thread.
public protocol ImageTransform: Sendable {
    /// The registry name (PaddleClas's operator name).
    var name: String { get }
    func apply(_ input: Payload, rng: inout RNG) throws -> Payload
}

extension ImageTransform {
    /// The input's 8-bit image, or an error telling where this op belongs in the chain.
    func requireImage(_ input: Payload) throws -> Image {
        guard case let .image(image) = input else {
            throw DatasetsError.badTransform(name: name, reason: "needs a decoded 8-bit image but got \(input.kind); "
                + "put it after DecodeImage and before NormalizeImage/ToTensor")
        }
        return image
    }
}

/// Transforms applied in order (torchvision's `Compose`, PaddleClas's `transform_ops`).
public struct TransformChain: ImageTransform {
    public let name = "Compose"
    public var transforms: [any ImageTransform]

    public init(_ transforms: [any ImageTransform]) { self.transforms = transforms }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        var value = input
        for t in transforms { value = try t.apply(value, rng: &rng) }
        return value
    }
}
