import NN
import TensorCore

/// How a model's published weights expect pixels: (pixel · scale − mean) / std per RGB channel,
/// pixels in 0…255.
public struct InputNormalization: Sendable, Equatable {
    public let scale: Double
    public let mean: [Double]
    public let std: [Double]

    /// torchvision's and PaddleClas's ImageNet statistics on 0…1 pixels.
    public static let imageNet = InputNormalization(scale: 1.0 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// TensorFlow's EfficientNet-Lite (and MobileNet) convention: (pixel − 127) / 128, about −1…1.
    public static let centred = InputNormalization(scale: 1, mean: [127, 127, 127], std: [128, 128, 128])
}

/// A named architecture in the zoo, with the input size its published figures use.
public struct ModelEntry: Sendable {
    public let name: String
    public let family: String
    public let inputSize: Int
    public let defaultClassNum: Int
    /// The pixel normalisation its published weights were trained with.
    public let normalization: InputNormalization
    let build: @Sendable (ModelOptions) throws -> Layer

    init(name: String, family: String, inputSize: Int, defaultClassNum: Int, normalization: InputNormalization = .imageNet,
         build: @escaping @Sendable (ModelOptions) throws -> Layer) {
        self.name = name; self.family = family; self.inputSize = inputSize; self.defaultClassNum = defaultClassNum
        self.normalization = normalization; self.build = build
    }

    /// Builds the model; `classNum` nil keeps the entry's default.
    public func make(_ options: ModelOptions? = nil) throws -> Layer {
        let options = options ?? ModelOptions(classNum: defaultClassNum)
        let model = try build(options)
        if let momentum = options.bnMomentum { model.setBatchNormMomentum(momentum) }
        return model
    }
}

/// Name → builder, spelled as PaddleClas's registry (`ResNet50_vd`, `PPLCNet_x1_0`,
/// `MobileNetV3_large_x1_0`, `WideResNet28_2`) so configs port verbatim.
public enum ModelRegistry {
    public static let entries: [ModelEntry] = resnets + wideResNets + lcnets + mobileNets + efficientNetLites

    public static var names: [String] { entries.map(\.name) }

    public static func entry(_ name: String) throws -> ModelEntry {
        if let e = entries.first(where: { $0.name == name }) { return e }
        throw ModelsError.unknownModel(name, suggestion: closest(to: name))
    }

    /// Builds `name` with `options` (the entry's default class count when nil).
    public static func make(_ name: String, options: ModelOptions? = nil) throws -> Layer {
        try entry(name).make(options)
    }

    static var resnets: [ModelEntry] {
        var out: [ModelEntry] = []
        for depth in [18, 34, 50, 101, 152, 200] {
            out.append(resnet("ResNet\(depth)", depth, .vb))
            for v in [ResNet.Variant.vb, .vc, .vd] { out.append(resnet("ResNet\(depth)_\(v.rawValue)", depth, v)) }
        }
        for depth in [18, 34, 50] { out.append(resnet("SE_ResNet\(depth)_vd", depth, .vd, se: true)) }
        return out
    }

    static func resnet(_ name: String, _ depth: Int, _ variant: ResNet.Variant, se: Bool = false) -> ModelEntry {
        ModelEntry(name: name, family: "ResNet", inputSize: 224, defaultClassNum: 1000) { options in
            try ResNet(ResNet.Config(depth: depth, variant: variant, squeezeExcite: se, options: options))
        }
    }

    static var wideResNets: [ModelEntry] {
        [(28, 2), (28, 8)].map { depth, widen in
            ModelEntry(name: "WideResNet\(depth)_\(widen)", family: "WideResNet", inputSize: 32, defaultClassNum: 10) {
                try WideResNet(depth: depth, widen: widen, options: $0)
            }
        }
    }

    static let scaleNames: [(String, Double)] = [
        ("0_25", 0.25), ("0_35", 0.35), ("0_5", 0.5), ("0_75", 0.75), ("1_0", 1.0), ("1_25", 1.25),
        ("1_5", 1.5), ("2_0", 2.0), ("2_5", 2.5),
    ]

    static var lcnets: [ModelEntry] {
        scaleNames.filter { $0.0 != "1_25" }.map { suffix, scale in
            ModelEntry(name: "PPLCNet_x\(suffix)", family: "PP-LCNet", inputSize: 224, defaultClassNum: 1000) {
                PPLCNet(scale: scale, options: $0)
            }
        }
    }

    static var mobileNets: [ModelEntry] {
        [MobileNetV3.Size.small, .large].flatMap { size in
            scaleNames.filter { ["0_35", "0_5", "0_75", "1_0", "1_25"].contains($0.0) }.map { suffix, scale in
                ModelEntry(name: "MobileNetV3_\(size.rawValue)_x\(suffix)", family: "MobileNetV3", inputSize: 224,
                           defaultClassNum: 1000) { MobileNetV3(size: size, scale: scale, options: $0) }
            }
        }
    }

    static var efficientNetLites: [ModelEntry] {
        EfficientNetLite.Variant.all.map { variant in
            ModelEntry(name: "EfficientNet_\(variant.name)", family: "EfficientNet-Lite", inputSize: variant.resolution,
                       defaultClassNum: 1000, normalization: .centred) { EfficientNetLite(variant, options: $0) }
        }
    }

    /// The registered name with the smallest edit distance (case-insensitive), for error messages.
    static func closest(to name: String) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let current = row[j + 1]
                    row[j + 1] = min(row[j + 1] + 1, row[j] + 1, previous + (ca == cb ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let target = Array(name.lowercased())
        return names.min { distance(Array($0.lowercased()), target) < distance(Array($1.lowercased()), target) }
    }
}
