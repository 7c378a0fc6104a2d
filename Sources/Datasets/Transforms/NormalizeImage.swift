import TensorCore

/// `(x · scale − mean) / std` per channel.
///
/// PaddleClas `NormalizeImage(scale, mean, std, order)` takes the 8-bit image (`scale` defaults to
/// 1/255, `order: chw` gives planar output, `''`/`hwc` interleaved); paddle.vision / torchvision
/// `Normalize(mean, std)` takes the float output of `ToTensor` (scale 1) and keeps its layout.
public struct NormalizeImage: ImageTransform {
    public let name: String
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]
    /// The output layout; nil keeps the input's.
    public var layout: FloatImage.Layout?

    public init(scale: Float = 1.0 / 255, mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225],
                layout: FloatImage.Layout? = .chw, name: String = "NormalizeImage") {
        self.scale = scale; self.mean = mean; self.std = std; self.layout = layout; self.name = name
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        var floats: FloatImage
        switch input {
        case let .image(image): floats = FloatImage(image)
        case let .floats(f): floats = f
        case .encoded: throw DatasetsError.badTransform(name: name, reason: "got encoded bytes; put DecodeImage first")
        }
        let c = floats.channels
        guard mean.count == c || mean.count == 1, std.count == c || std.count == 1 else {
            throw DatasetsError.badTransform(name: name, reason: "mean/std have \(mean.count)/\(std.count) values for \(c) channels")
        }
        guard std.allSatisfy({ $0 != 0 }) else { throw DatasetsError.badTransform(name: name, reason: "std must not be 0") }
        let m = mean.count == 1 ? Array(repeating: mean[0], count: c) : mean
        let sd = std.count == 1 ? Array(repeating: std[0], count: c) : std
        let plane = floats.width * floats.height, s = scale
        floats.values.withUnsafeMutableBufferPointer { v in
            switch floats.layout {
            case .hwc:
                for i in 0..<plane { for k in 0..<c { v[i * c + k] = (v[i * c + k] * s - m[k]) / sd[k] } }
            case .chw:
                for k in 0..<c { for i in 0..<plane { v[k * plane + i] = (v[k * plane + i] * s - m[k]) / sd[k] } }
            }
        }
        if layout == .chw { floats = floats.toCHW() }
        return .floats(floats)
    }
}
