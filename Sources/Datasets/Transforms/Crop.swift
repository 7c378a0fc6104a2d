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
