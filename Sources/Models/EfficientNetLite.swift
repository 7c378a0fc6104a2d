import NN
import TensorCore

/// EfficientNet-Lite (Tan & Le 2019, the TF "lite" variants): EfficientNet-B0…B4's MBConv stages
/// without squeeze-excite, ReLU6 instead of swish, and a stem (32) and head (1280) that do not
/// scale with the width. State-dict keys follow the PyTorch port the public ImageNet weights use
/// (`_conv_stem`, `_bn0`, `_blocks.{i}._expand_conv/_bn0/_depthwise_conv/_bn1/_project_conv/_bn2`,
/// `_conv_head`, `_bn1`, `_fc`), so those weights load without renaming.
///
/// Convolutions pad as TensorFlow's "SAME" does: a stride-2 layer over an even input pads one
/// pixel less before than after, which symmetric padding would get wrong by a shifted pixel
/// everywhere. BatchNorm uses TF's eps 1e-3 and momentum 0.01 (PyTorch's convention).
public final class EfficientNetLite: Layer {
    /// One of the published sizes: width and depth multipliers, input resolution, dropout.
    public struct Variant: Sendable, Equatable {
        public let name: String
        public let width, depth: Double
        public let resolution: Int
        public let dropout: Float

        public static let all: [Variant] = [
            Variant(name: "lite0", width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2),
            Variant(name: "lite1", width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2),
            Variant(name: "lite2", width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3),
            Variant(name: "lite3", width: 1.2, depth: 1.4, resolution: 280, dropout: 0.3),
            Variant(name: "lite4", width: 1.4, depth: 1.8, resolution: 300, dropout: 0.3),
        ]
    }

    /// The B0 stages: repeats, kernel, stride, expansion, input and output channels.
    static let stages: [(repeats: Int, kernel: Int, stride: Int, expand: Int, inC: Int, outC: Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]

    static let bnMomentum: Float = 0.01
    static let bnEps: Float = 1e-3

    public let variant: Variant
    let convStem: Conv2d
    let bn0: BatchNorm2d
    let blocks: Sequential
    let convHead: Conv2d
    let bn1: BatchNorm2d
    let dropout: Dropout
    let fc: Linear?
    let pooling: GlobalPooling
    /// Width of the pooled features (the head's channels).
    public let featureChannels = 1280

    /// `options.dropout` replaces the variant's dropout before `_fc`; `dropPath` is the largest
    /// stochastic-depth rate (the last block's; block i of n gets dropPath · i / n), 0.2 as published.
    public init(_ variant: Variant, options: ModelOptions = ModelOptions(), dropPath: Float = 0.2) {
        self.variant = variant
        let stem = 32
        convStem = Conv2d(3, stem, kernel: 3, stride: 2, bias: false)
        bn0 = BatchNorm2d(stem, momentum: Self.bnMomentum, eps: Self.bnEps)
        var specs: [(inC: Int, outC: Int, kernel: Int, stride: Int, expand: Int)] = []
        for (i, s) in Self.stages.enumerated() {
            // Lite keeps the first and last stage's depth (and the first input, the stem) fixed.
            let fixed = i == 0 || i == Self.stages.count - 1
            let repeats = fixed ? s.repeats : Int((variant.depth * Double(s.repeats)).rounded(.up))
            let inC = i == 0 ? stem : makeDivisible(Double(s.inC) * variant.width)
            let outC = makeDivisible(Double(s.outC) * variant.width)
            specs.append((inC, outC, s.kernel, s.stride, s.expand))
            for _ in 1..<repeats { specs.append((outC, outC, s.kernel, 1, s.expand)) }
        }
        blocks = Sequential(specs.enumerated().map { index, s in
            MBConv(s.inC, s.outC, kernel: s.kernel, stride: s.stride, expand: s.expand,
                   dropPath: dropPath * Float(index) / Float(specs.count))
        })
        convHead = Conv2d(specs.last!.outC, featureChannels, kernel: 1, bias: false)
        bn1 = BatchNorm2d(featureChannels, momentum: Self.bnMomentum, eps: Self.bnEps)
        dropout = Dropout(p: options.dropout ?? variant.dropout)
        fc = options.classNum > 0 ? Linear(featureChannels, options.classNum) : nil
        pooling = options.pooling
        super.init()
        kaimingInitialiseConvs(self, fanOut: true)
    }

    override public var children: [(String, Module)] {
        [("_conv_stem", convStem), ("_bn0", bn0), ("_blocks", blocks), ("_conv_head", convHead), ("_bn1", bn1),
         ("_dropout", dropout)] + (fc.map { [("_fc", $0)] } ?? [])
    }

    /// Pooled features [N, 1280] without `_fc`, what a class_num-0 model returns (average pooling
    /// unless `options.pooling` says max).
    public func features(_ x: Tensor) -> Tensor {
        var y = sameConvBN(x, convStem, bn0).relu6()
        y = blocks(y)
        y = bn1.forward(y, after: convHead).relu6()
        return pooling.apply(y)
    }

    override public func forward(_ x: Tensor) -> Tensor {
        let f = features(x)
        return fc.map { $0(dropout(f)) } ?? f
    }
}

/// Conv → BN with TensorFlow "SAME" padding: stride-1 layers pad themselves symmetrically
/// (`padding` (k − 1) / 2 is SAME there); strided layers get the exact, maybe uneven, padding first.
func sameConvBN(_ x: Tensor, _ conv: Conv2d, _ bn: BatchNorm2d) -> Tensor {
    guard conv.stride != Size2(1) else { return bn.forward(x, after: conv) }
    let pad = Padding2D.same(height: x.shape[2], width: x.shape[3], kernel: conv.kernel.h, stride: conv.stride.h)
    return bn.forward(x.zeroPadded(pad), after: conv)
}

extension EfficientNetLite {
    /// Mobile inverted bottleneck without squeeze-excite: 1×1 expand → depthwise k×k → 1×1 project,
    /// ReLU6 after the first two, and a skip connection (with stochastic depth) when shapes match.
    final class MBConv: Layer {
        let expandConv: Conv2d?, bn0: BatchNorm2d?
        let depthwiseConv: Conv2d, bn1: BatchNorm2d
        let projectConv: Conv2d, bn2: BatchNorm2d
        let dropPath: DropPath
        let hasSkip: Bool

        init(_ inC: Int, _ outC: Int, kernel: Int, stride: Int, expand: Int, dropPath rate: Float) {
            let mid = inC * expand
            let (momentum, eps) = (EfficientNetLite.bnMomentum, EfficientNetLite.bnEps)
            if expand != 1 {
                expandConv = Conv2d(inC, mid, kernel: 1, bias: false)
                bn0 = BatchNorm2d(mid, momentum: momentum, eps: eps)
            } else {
                expandConv = nil
                bn0 = nil
            }
            // Stride 1 pads symmetrically inside the conv; strided layers are padded by sameConvBN.
            depthwiseConv = Conv2d(mid, mid, kernel: Size2(kernel), stride: Size2(stride),
                                   padding: Size2(stride == 1 ? (kernel - 1) / 2 : 0), groups: mid, bias: false)
            bn1 = BatchNorm2d(mid, momentum: momentum, eps: eps)
            projectConv = Conv2d(mid, outC, kernel: 1, bias: false)
            bn2 = BatchNorm2d(outC, momentum: momentum, eps: eps)
            dropPath = DropPath(p: rate)
            hasSkip = stride == 1 && inC == outC
        }

        override var children: [(String, Module)] {
            var out: [(String, Module)] = []
            if let expandConv, let bn0 { out += [("_expand_conv", expandConv), ("_bn0", bn0)] }
            out += [("_depthwise_conv", depthwiseConv), ("_bn1", bn1), ("_project_conv", projectConv),
                    ("_bn2", bn2), ("_drop_path", dropPath)]
            return out
        }

        override func forward(_ x: Tensor) -> Tensor {
            var y = x
            if let expandConv, let bn0 { y = bn0.forward(y, after: expandConv).relu6() }
            y = sameConvBN(y, depthwiseConv, bn1).relu6()
            y = bn2.forward(y, after: projectConv)
            return hasSkip ? x + dropPath(y) : y
        }
    }
}
