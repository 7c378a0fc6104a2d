import TensorCore

/// How `Pad` / `RandomCrop` fill the border (numpy/torchvision names).
public enum PaddingMode: String, Sendable {
    case constant, edge, reflect, symmetric
}

extension Image {
    /// Padded by `left, top, right, bottom` pixels. `reflect` mirrors without repeating the edge
    /// pixel (numpy "reflect"), `symmetric` repeats it, `edge` replicates it.
    public func padded(left: Int, top: Int, right: Int, bottom: Int, mode: PaddingMode, fill: UInt8 = 0) -> Image {
        let w = width + left + right, h = height + top + bottom
        var out = Image(width: w, height: h, channels: channels, fill: fill)
        func source(_ i: Int, _ n: Int) -> Int? {
            if i >= 0 && i < n { return i }
            switch mode {
            case .constant: return nil
            case .edge: return min(max(i, 0), n - 1)
            case .reflect:
                if n == 1 { return 0 }
                let period = 2 * (n - 1)
                var k = i % period; if k < 0 { k += period }
                return k < n ? k : period - k
            case .symmetric:
                let period = 2 * n
                var k = i % period; if k < 0 { k += period }
                return k < n ? k : period - 1 - k
            }
        }
        for y in 0..<h {
            guard let sy = source(y - top, height) else { continue }
            for x in 0..<w {
                guard let sx = source(x - left, width) else { continue }
                for c in 0..<channels { out[x, y, c] = self[sx, sy, c] }
            }
        }
        return out
    }
}

/// torchvision / paddle.vision `Pad` (`Pad_paddle_vision` in PaddleClas): `padding` is an int, `[lr, tb]`
/// or `[left, top, right, bottom]`.
public struct Pad: ImageTransform {
    public let name: String
    public var padding: (left: Int, top: Int, right: Int, bottom: Int)
    public var mode: PaddingMode
    public var fill: UInt8

    public init(left: Int, top: Int, right: Int, bottom: Int, mode: PaddingMode = .constant, fill: UInt8 = 0, name: String = "Pad") {
        padding = (left, top, right, bottom); self.mode = mode; self.fill = fill; self.name = name
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        if mode == .reflect && (padding.left >= image.width || padding.right >= image.width
            || padding.top >= image.height || padding.bottom >= image.height) {
            throw DatasetsError.badTransform(name: name, reason: "reflect padding must be smaller than the image side")
        }
        return .image(image.padded(left: padding.left, top: padding.top, right: padding.right, bottom: padding.bottom,
                                   mode: mode, fill: fill))
    }
}
