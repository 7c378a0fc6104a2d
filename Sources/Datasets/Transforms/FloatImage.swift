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
