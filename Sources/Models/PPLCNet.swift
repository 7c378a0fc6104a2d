import NN
import TensorCore

/// PP-LCNet (PaddleClas `legendary_models/pp_lcnet.py`), keys as PaddleClas structures them:
/// conv1, blocks2…blocks6 ({i}.dw_conv, .se, .pw_conv), last_conv, fc.
public final class PPLCNet: Layer {
    /// [kernel, in, out, stride, SE] per block, channels before scaling.
    static let netConfig: [[(Int, Int, Int, Int, Bool)]] = [
        [(3, 16, 32, 1, false)],
        [(3, 32, 64, 2, false), (3, 64, 64, 1, false)],
        [(3, 64, 128, 2, false), (3, 128, 128, 1, false)],
        [(3, 128, 256, 2, false)] + Array(repeating: (5, 256, 256, 1, false), count: 5),
        [(5, 256, 512, 2, true), (5, 512, 512, 1, true)],
    ]

    final class DepthwiseSeparable: Layer {
        let dwConv: ConvBN, se: SqueezeExcite?, pwConv: ConvBN
        init(_ inC: Int, _ outC: Int, kernel: Int, stride: Int, squeeze: Bool) {
            dwConv = ConvBN(inC, inC, kernel: kernel, stride: stride, groups: inC, activation: .hardSwish)
            se = squeeze ? SqueezeExcite(channels: inC, squeezeChannels: inC / 4, activation: .relu, gate: .hardSigmoid) : nil
            pwConv = ConvBN(inC, outC, kernel: 1, activation: .hardSwish)
        }
        override var children: [(String, Module)] {
            [("dw_conv", dwConv)] + (se.map { [("se", $0)] } ?? []) + [("pw_conv", pwConv)]
        }
        override func forward(_ x: Tensor) -> Tensor {
            var y = dwConv(x)
            if let se { y = se(y) }
            return pwConv(y)
        }
    }

    public let scale: Double
    let conv1: ConvBN
    let stages: [Sequential]
    let lastConv: Conv2d
    let dropout: Dropout
    let fc: Linear?
    public let classExpand = 1280

    public init(scale: Double, options: ModelOptions = ModelOptions()) {
        self.scale = scale
        conv1 = ConvBN(3, makeDivisible(16 * scale), kernel: 3, stride: 2, activation: .hardSwish)
        stages = PPLCNet.netConfig.map { blocks in
            Sequential(blocks.map { k, inC, outC, s, se in
                DepthwiseSeparable(makeDivisible(Double(inC) * scale), makeDivisible(Double(outC) * scale),
                                   kernel: k, stride: s, squeeze: se)
            })
        }
        lastConv = Conv2d(makeDivisible(512 * scale), classExpand, kernel: 1, bias: false)
        dropout = Dropout(p: options.dropout ?? 0.2, mode: .downscaleInInfer)
        fc = options.classNum > 0 ? Linear(classExpand, options.classNum) : nil
        super.init()
        kaimingInitialiseConvs(self, onlyBiasless: true)
    }

    override public var children: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1)]
        for (i, s) in stages.enumerated() { c.append(("blocks\(i + 2)", s)) }
        // Dropout has no tensors but must be listed so that eval() reaches it.
        c.append(("last_conv", lastConv))
        c.append(("dropout", dropout))
        if let fc { c.append(("fc", fc)) }
        return c
    }

    /// Logits, or the 1280-d embedding (after h-swish and dropout) when class_num is 0.
    override public func forward(_ x: Tensor) -> Tensor {
        var y = conv1(x)
        for s in stages { y = s(y) }
        y = lastConv(globalAvgPool2d(y)).hardSwish()
        y = dropout(y).flattened()
        return fc.map { $0(y) } ?? y
    }
}
