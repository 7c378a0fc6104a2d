import TensorCore

/// A float image after normalisation, interleaved (`hwc`) or planar (`chw`).
public struct FloatImage: Equatable, Sendable {
    public enum Layout: Sendable { case hwc, chw }
    public var width: Int
    public var height: Int
    public var channels: Int
    public var layout: Layout
    public var values: [Float]

    public init(width: Int, height: Int, channels: Int, layout: Layout, values: [Float]) {
        precondition(values.count == width * height * channels, "FloatImage size mismatch")
        self.width = width; self.height = height; self.channels = channels; self.layout = layout; self.values = values
    }

    /// The values of an 8-bit image as floats, unscaled, interleaved.
    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.channels, layout: .hwc,
                  values: image.pixels.map(Float.init))
    }

    /// Planar copy (no-op when already planar).
    public func toCHW() -> FloatImage {
        guard layout == .hwc else { return self }
        let plane = width * height
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<plane { for c in 0..<channels { dst[c * plane + i] = src[i * channels + c] } }
            }
        }
        return FloatImage(width: width, height: height, channels: channels, layout: .chw, values: out)
    }
}

/// What flows through a transform chain: encoded bytes before `DecodeImage`, an 8-bit image for
/// the geometric and colour ops, floats after `NormalizeImage` / `ToTensor`.
public enum Payload: Sendable {
    case encoded([UInt8], source: String)
    case image(Image)
    case floats(FloatImage)

    /// A short name of the case, for error messages.
    public var kind: String {
        switch self {
        case .encoded: return "encoded bytes"
        case .image: return "an 8-bit image"
        case .floats: return "a float image"
        }
    }
}

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
