import Foundation
import MagpieConfig

/// Builds transforms from their PaddleClas / paddle.vision / torchvision names and parameters,
/// so a config's `transform_ops` list maps one entry to one transform.
public enum TransformRegistry {
    public typealias Builder = @Sendable ([String: ConfigNode]) throws -> any ImageTransform

    /// Every registered name, sorted.
    public static var names: [String] { builders.keys.sorted() }

    /// The transform registered as `name`, built from `params`. Unknown names and parameters,
    /// and parameters of the wrong type, throw `DatasetsError.badTransform`.
    public static func make(_ name: String, _ params: [String: ConfigNode] = [:]) throws -> any ImageTransform {
        guard let builder = builders[name] else {
            throw DatasetsError.badTransform(name: name, reason: "unknown transform (known: \(names.joined(separator: ", ")))")
        }
        return try builder(params)
    }

    /// A chain from an ordered list of `(name, params)` entries.
    public static func chain(_ entries: [(String, [String: ConfigNode])]) throws -> TransformChain {
        TransformChain(try entries.map { try make($0.0, $0.1) })
    }

    /// A chain from a PaddleClas `transform_ops` list as a YAML parser returns it: single-key
    /// mappings `{Name: {param: value, …}}`, the value null for an op without parameters.
    public static func chain(transformOps: [Any]) throws -> TransformChain {
        try chain(transformOps.enumerated().map { i, entry in
            guard let map = entry as? [String: Any], map.count == 1, let (name, raw) = map.first else {
                throw DatasetsError.badTransform(name: "transform_ops[\(i)]", reason: "each entry must be a single-key mapping {Name: {params}}")
            }
            if raw is NSNull { return (name, [:]) }
            guard let fields = raw as? [String: Any] else {
                throw DatasetsError.badTransform(name: name, reason: "parameters must be a mapping or null")
            }
            var values: [String: ConfigNode] = [:]
            for (key, value) in fields {
                guard let v = ConfigNode(any: value) else {
                    throw DatasetsError.badTransform(name: name, reason: "parameter '\(key)' has an unsupported value \(value)")
                }
                values[key] = v
            }
            return (name, values)
        })
    }

    private static func params(_ name: String, _ values: [String: ConfigNode], _ allowed: [String]) throws -> TransformParams {
        try TransformParams(name: name, values: values, allowed: allowed)
    }

    private static func paddingMode(_ p: TransformParams, _ key: String) throws -> PaddingMode {
        let raw = try p.string(key, default: "constant")
        guard let mode = PaddingMode(rawValue: raw) else {
            throw DatasetsError.badTransform(name: p.name, reason: "\(key) must be constant, edge, reflect or symmetric, got \(raw)")
        }
        return mode
    }

    private static func pad(_ p: TransformParams, name: String) throws -> Pad? {
        guard p.has("padding") else { return nil }
        let v = try p.doubles("padding").map(Int.init)
        let (l, t, r, b): (Int, Int, Int, Int)
        switch v.count {
        case 1: (l, t, r, b) = (v[0], v[0], v[0], v[0])
        case 2: (l, t, r, b) = (v[0], v[1], v[0], v[1])
        case 4: (l, t, r, b) = (v[0], v[1], v[2], v[3])
        default: throw DatasetsError.badTransform(name: p.name, reason: "padding must have 1, 2 or 4 values")
        }
        guard [l, t, r, b].allSatisfy({ $0 >= 0 }) else {
            throw DatasetsError.badTransform(name: p.name, reason: "padding must not be negative")
        }
        let fill = try p.int("fill", default: 0)
        return Pad(left: l, top: t, right: r, bottom: b, mode: try paddingMode(p, "padding_mode"), fill: UInt8(clamping: fill), name: name)
    }

    private static func range(_ p: TransformParams, _ key: String, _ value: (Double, Double)) throws -> (Double, Double) {
        let v = try p.doubles(key, default: [value.0, value.1], count: 2)
        guard v[0] <= v[1], v[0] > 0 else { throw DatasetsError.badTransform(name: p.name, reason: "\(key) must be [low, high] with 0 < low ≤ high") }
        return (v[0], v[1])
    }

    private static let builders: [String: Builder] = [
        "DecodeImage": { v in
            let p = try params("DecodeImage", v, ["to_rgb", "channel_first", "backend", "to_np"])
            if try p.bool("channel_first", default: false) {
                throw DatasetsError.badTransform(name: "DecodeImage", reason: "channel_first: True is not supported; use ToCHWImage")
            }
            return DecodeImage(toRGB: try p.bool("to_rgb", default: true))
        },
        "ResizeImage": { v in
            let p = try params("ResizeImage", v, ["size", "resize_short", "interpolation", "backend", "return_numpy"])
            let filter = try p.filter("interpolation", default: .bilinear)
            if p.has("resize_short") {
                let s = try p.int("resize_short")
                guard s > 0 else { throw DatasetsError.badTransform(name: "ResizeImage", reason: "resize_short must be positive") }
                return Resize(.shortSideRounded(s), filter: filter, name: "ResizeImage")
            }
            guard p.has("size") else { throw DatasetsError.badTransform(name: "ResizeImage", reason: "needs size or resize_short") }
            let (w, h) = try p.pair("size")
            return Resize(.exact(width: w, height: h), filter: filter, name: "ResizeImage")
        },
        "Resize": { v in
            let p = try params("Resize", v, ["size", "interpolation", "backend"])
            let filter = try p.filter("interpolation", default: .bilinear)
            let size = try p.doubles("size")
            guard size.allSatisfy({ $0 > 0 && $0 == $0.rounded() }) else {
                throw DatasetsError.badTransform(name: "Resize", reason: "size must be a positive integer or [h, w]")
            }
            if size.count == 1 { return Resize(.shortSideTruncated(Int(size[0])), filter: filter) }
            guard size.count == 2 else { throw DatasetsError.badTransform(name: "Resize", reason: "size must be an int or [h, w]") }
            return Resize(.exact(width: Int(size[1]), height: Int(size[0])), filter: filter)
        },
        "CropImage": { v in
            let p = try params("CropImage", v, ["size"])
            let (w, h) = try p.pair("size")
            return CenterCrop(width: w, height: h, roundsOffsets: false, name: "CropImage")
        },
        "CenterCrop": { v in
            let p = try params("CenterCrop", v, ["size"])
            let (h, w) = try p.pair("size")
            return CenterCrop(width: w, height: h)
        },
        "RandCropImage": { v in
            let p = try params("RandCropImage", v, ["size", "scale", "ratio", "interpolation", "backend", "use_log_aspect"])
            let (w, h) = try p.pair("size")
            return RandomResizedCrop(width: w, height: h, scale: try range(p, "scale", (0.08, 1)), ratio: try range(p, "ratio", (3.0 / 4, 4.0 / 3)),
                                     filter: try p.filter("interpolation", default: .bilinear), algorithm: .paddleClas, name: "RandCropImage")
        },
        "RandomResizedCrop": { v in
            let p = try params("RandomResizedCrop", v, ["size", "scale", "ratio", "interpolation", "backend"])
            let (h, w) = try p.pair("size")
            return RandomResizedCrop(width: w, height: h, scale: try range(p, "scale", (0.08, 1)), ratio: try range(p, "ratio", (3.0 / 4, 4.0 / 3)),
                                     filter: try p.filter("interpolation", default: .bilinear))
        },
        "RandFlipImage": { v in
            let p = try params("RandFlipImage", v, ["flip_code"])
            let code = try p.int("flip_code", default: 1)
            let direction: RandomFlip.Direction
            switch code {
            case 1: direction = .horizontal
            case 0: direction = .vertical
            case -1: direction = .both
            default: throw DatasetsError.badTransform(name: "RandFlipImage", reason: "flip_code must be 1, 0 or -1")
            }
            return RandomFlip(direction: direction, name: "RandFlipImage")
        },
        "RandomHorizontalFlip": { v in
            let p = try params("RandomHorizontalFlip", v, ["prob", "p"])
            let prob = try p.double("prob", default: try p.double("p", default: 0.5))
            guard (0...1).contains(prob) else { throw DatasetsError.badTransform(name: "RandomHorizontalFlip", reason: "prob must be in [0, 1]") }
            return RandomFlip(direction: .horizontal, probability: prob)
        },
        "RandomCrop": { v in
            let p = try params("RandomCrop", v, ["size", "padding", "pad_if_needed", "fill", "padding_mode"])
            let (h, w) = try p.pair("size")
            return RandomCrop(width: w, height: h, pad: try pad(p, name: "RandomCrop"))
        },
        "RandCropImageV2": { v in
            let p = try params("RandCropImageV2", v, ["size"])
            let (w, h) = try p.pair("size")
            return RandomCrop(width: w, height: h, name: "RandCropImageV2")
        },
        "Pad": { v in
            let p = try params("Pad", v, ["padding", "fill", "padding_mode"])
            guard let pad = try pad(p, name: "Pad") else { throw DatasetsError.badTransform(name: "Pad", reason: "missing parameter 'padding'") }
            return pad
        },
        "Pad_paddle_vision": { v in
            let p = try params("Pad_paddle_vision", v, ["padding", "fill", "padding_mode"])
            guard let pad = try pad(p, name: "Pad_paddle_vision") else {
                throw DatasetsError.badTransform(name: "Pad_paddle_vision", reason: "missing parameter 'padding'")
            }
            return pad
        },
        "NormalizeImage": { v in
            let p = try params("NormalizeImage", v, ["scale", "mean", "std", "order", "output_fp16", "channel_num"])
            guard try p.int("channel_num", default: 3) == 3, try !p.bool("output_fp16", default: false) else {
                throw DatasetsError.badTransform(name: "NormalizeImage", reason: "only channel_num: 3 and output_fp16: False are supported")
            }
            let order = try p.string("order", default: "chw").lowercased()
            guard ["chw", "hwc", ""].contains(order) else {
                throw DatasetsError.badTransform(name: "NormalizeImage", reason: "order must be chw, hwc or ''")
            }
            return NormalizeImage(scale: Float(try p.double("scale", default: 1.0 / 255)),
                                  mean: try p.doubles("mean", default: [0.485, 0.456, 0.406]).map(Float.init),
                                  std: try p.doubles("std", default: [0.229, 0.224, 0.225]).map(Float.init),
                                  layout: order == "chw" ? .chw : .hwc)
        },
        "Normalize": { v in
            let p = try params("Normalize", v, ["mean", "std", "data_format", "to_rgb", "inplace"])
            guard try p.string("data_format", default: "CHW").uppercased() == "CHW", try !p.bool("to_rgb", default: false) else {
                throw DatasetsError.badTransform(name: "Normalize", reason: "only data_format: CHW and to_rgb: False are supported")
            }
            return NormalizeImage(scale: 1, mean: try p.doubles("mean").map(Float.init), std: try p.doubles("std").map(Float.init),
                                  layout: nil, name: "Normalize")
        },
        "ToCHWImage": { v in
            _ = try params("ToCHWImage", v, [])
            return ToCHWImage()
        },
        "ToTensor": { v in
            _ = try params("ToTensor", v, ["data_format"])
            return ToTensor()
        },
        "RandAugment": { v in
            let p = try params("RandAugment", v, ["num_layers", "magnitude", "fillcolor"])
            let fill = try p.doubles("fillcolor", default: [128, 128, 128])
            return RandAugment(layers: try p.int("num_layers", default: 2), magnitude: try p.double("magnitude", default: 5),
                               fill: (fill.count == 1 ? Array(repeating: fill[0], count: 3) : fill).map { UInt8(clamping: Int($0)) })
        },
        "RandAugmentMC": { v in
            let p = try params("RandAugmentMC", v, ["n", "m", "cutout"])
            return RandAugmentMC(n: try p.int("n", default: 2), m: try p.int("m", default: 10), cutout: try p.int("cutout", default: 16))
        },
        "Cutout": { v in
            let p = try params("Cutout", v, ["n_holes", "length"])
            return Cutout(holes: try p.int("n_holes", default: 1), length: try p.int("length", default: 112))
        },
    ]
}
