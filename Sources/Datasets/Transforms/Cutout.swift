import TensorCore

/// PaddleClas `Cutout(n_holes, length)`: zeroes `n_holes` squares of side `length` (halves
/// clipped at the border) centred at uniformly drawn pixels; works before or after normalisation.
public struct Cutout: ImageTransform {
    public let name = "Cutout"
    public var holes: Int
    public var length: Int

    public init(holes: Int = 1, length: Int = 112) { self.holes = holes; self.length = length }

    /// Boxes `(x1, y1, x2, y2)`, end-exclusive, for an image of the given size.
    func boxes(width w: Int, height h: Int, rng: inout RNG) -> [(Int, Int, Int, Int)] {
        (0..<holes).map { _ in
            let y = rng.int(below: h), x = rng.int(below: w)
            return (min(max(x - length / 2, 0), w), min(max(y - length / 2, 0), h),
                    min(max(x + length / 2, 0), w), min(max(y + length / 2, 0), h))
        }
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        switch input {
        case var .image(image):
            for (x1, y1, x2, y2) in boxes(width: image.width, height: image.height, rng: &rng) {
                for y in y1..<y2 { for x in x1..<x2 { for k in 0..<image.channels { image[x, y, k] = 0 } } }
            }
            return .image(image)
        case var .floats(f):
            let plane = f.width * f.height
            for (x1, y1, x2, y2) in boxes(width: f.width, height: f.height, rng: &rng) {
                for y in y1..<y2 {
                    for x in x1..<x2 {
                        for k in 0..<f.channels {
                            f.values[f.layout == .hwc ? (y * f.width + x) * f.channels + k : k * plane + y * f.width + x] = 0
                        }
                    }
                }
            }
            return .floats(f)
        case .encoded:
            throw DatasetsError.badTransform(name: name, reason: "got encoded bytes; put DecodeImage first")
        }
    }
}
