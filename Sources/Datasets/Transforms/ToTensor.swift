import TensorCore

/// PaddleClas `ToCHWImage`: interleaved → planar (an 8-bit image becomes unscaled floats).
public struct ToCHWImage: ImageTransform {
    public let name = "ToCHWImage"
    public init() {}

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        switch input {
        case let .image(image): return .floats(FloatImage(image).toCHW())
        case let .floats(f): return .floats(f.toCHW())
        case .encoded: throw DatasetsError.badTransform(name: name, reason: "got encoded bytes; put DecodeImage first")
        }
    }
}

/// torchvision / paddle.vision `ToTensor`: 8-bit HWC → float CHW in [0, 1].
public struct ToTensor: ImageTransform {
    public let name = "ToTensor"
    public init() {}

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        var f = FloatImage(image).toCHW()
        for i in f.values.indices { f.values[i] /= 255 }
        return .floats(f)
    }
}
