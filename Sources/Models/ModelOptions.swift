import NN

/// Builder options shared by the zoo, named after PaddleClas's `Arch` keys.
public struct ModelOptions: Sendable {
    /// Classifier outputs; 0 returns pooled backbone features [N, C] (no `fc`).
    public var classNum: Int = 1000
    /// Activation after the stem's BN (`stem_act`); nil removes it (the XBM ResNet-50).
    public var stemAct: Activation? = .relu
    /// Global pooling before the head: average (default) or max (XBM).
    public var pooling: GlobalPooling = .average
    /// PaddleClas's extra 1×1 shortcut on the first ResNet18/34 block; nil picks the variant's default
    /// (off for the torchvision-compatible plain/vb models, on for vd as PaddleClas ships them).
    public var useFirstShortConv: Bool?
    /// WideResNet: reproduce kekmodel/PaddleClas's dead BN in the first block of groups 2–3 (true),
    /// or feed the activated input to the residual conv as the original TF code does (false).
    public var faithfulWideResNet: Bool = true
    /// Dropout before the classifier (PP-LCNet, MobileNetV3) or inside WRN blocks.
    public var dropout: Float?
    /// Running-statistics momentum of every BatchNorm (PyTorch's convention: the new batch's
    /// weight); nil keeps the family's own (WideResNet: kekmodel's 0.001, which averages over
    /// ~1000 steps and suits 2^20-step runs; the others PyTorch's 0.1). `ModelRegistry` builders
    /// apply it after construction.
    public var bnMomentum: Float?

    public init(classNum: Int = 1000) { self.classNum = classNum }
}

/// Global pooling of the last feature map.
public enum GlobalPooling: String, Sendable {
    case average = "avg", max

    func apply(_ x: Tensor) -> Tensor {
        (self == .average ? globalAvgPool2d(x) : globalMaxPool2d(x)).flattened()
    }
}

import TensorCore
