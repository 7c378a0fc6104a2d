import NN
import TensorCore

/// PaddleClas's `RecModel`: backbone (pooled features, no classifier) → optional neck → features.
/// Keys `backbone.*` and `neck.fc.*`. The model does not normalise; losses and the evaluator
/// L2-normalise (PaddleClas `feature_normalize`).
public final class RecModel: Layer {
    public let backbone: Layer
    public let neck: Layer?
    public let backboneName: String
    /// Width of the returned features.
    public let embeddingSize: Int

    /// `backbone` names a zoo model (built with class_num 0); `embeddingSize` nil means no neck.
    public init(backbone name: String, options: ModelOptions = ModelOptions(classNum: 0), embeddingSize: Int?) throws {
        var backboneOptions = options
        backboneOptions.classNum = 0
        let entry = try ModelRegistry.entry(name)
        backbone = try entry.make(backboneOptions)
        backboneName = name
        let width = RecModel.featureWidth(of: backbone, inputSize: entry.inputSize)
        if let embeddingSize {
            neck = FCNeck(inFeatures: width, embeddingSize: embeddingSize)
            self.embeddingSize = embeddingSize
        } else {
            neck = nil
            self.embeddingSize = width
        }
    }

    override public var children: [(String, Module)] {
        [("backbone", backbone)] + (neck.map { [("neck", $0)] } ?? [])
    }

    /// Embeddings [N, D] (not normalised).
    override public func forward(_ x: Tensor) -> Tensor {
        let f = backbone(x)
        return neck.map { $0(f) } ?? f
    }

    /// The pooled feature width of a class_num-0 backbone.
    static func featureWidth(of backbone: Layer, inputSize: Int) -> Int {
        switch backbone {
        case let r as ResNet: return r.featureChannels
        case let w as WideResNet: return w.featureChannels
        case let l as PPLCNet: return l.classExpand
        case let m as MobileNetV3: return m.classExpand
        case let e as EfficientNetLite: return e.featureChannels
        default:
            return withNoGrad { backbone.eval(); defer { backbone.train() }; return backbone(Tensor.zeros([1, 3, inputSize, inputSize])).shape[1] }
        }
    }
}
