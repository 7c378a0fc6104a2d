import NN
import TensorCore

/// MobileNetV3 as PaddleClas builds it (`legendary_models/mobilenet_v3.py`): keys conv,
/// blocks.{i}.{expand_conv,bottleneck_conv,mid_se,linear_conv}, last_second_conv, last_conv, fc.
/// Its SE squeezes to C/4 and gates with Paddle's hard-sigmoid (slope 0.2), unlike torchvision's.
public final class MobileNetV3: Layer {
    public enum Size: String, Sendable { case small, large }

    /// [kernel, expanded, out, SE, activation, stride].
    static func config(_ size: Size) -> [(Int, Int, Int, Bool, Activation, Int)] {
        switch size {
        case .large:
            return [(3, 16, 16, false, .relu, 1), (3, 64, 24, false, .relu, 2), (3, 72, 24, false, .relu, 1),
                    (5, 72, 40, true, .relu, 2), (5, 120, 40, true, .relu, 1), (5, 120, 40, true, .relu, 1),
                    (3, 240, 80, false, .hardSwish, 2), (3, 200, 80, false, .hardSwish, 1),
                    (3, 184, 80, false, .hardSwish, 1), (3, 184, 80, false, .hardSwish, 1),
                    (3, 480, 112, true, .hardSwish, 1), (3, 672, 112, true, .hardSwish, 1),
                    (5, 672, 160, true, .hardSwish, 2), (5, 960, 160, true, .hardSwish, 1),
                    (5, 960, 160, true, .hardSwish, 1)]
        case .small:
            return [(3, 16, 16, true, .relu, 2), (3, 72, 24, false, .relu, 2), (3, 88, 24, false, .relu, 1),
                    (5, 96, 40, true, .hardSwish, 2), (5, 240, 40, true, .hardSwish, 1), (5, 240, 40, true, .hardSwish, 1),
                    (5, 120, 48, true, .hardSwish, 1), (5, 144, 48, true, .hardSwish, 1), (5, 288, 96, true, .hardSwish, 2),
                    (5, 576, 96, true, .hardSwish, 1), (5, 576, 96, true, .hardSwish, 1)]
        }
    }

    final class ResidualUnit: Layer {
        let expandConv: ConvBN, bottleneckConv: ConvBN, midSE: SqueezeExcite?, linearConv: ConvBN
        let shortcut: Bool
        init(_ inC: Int, mid: Int, _ outC: Int, kernel: Int, stride: Int, se: Bool, act: Activation) {
            expandConv = ConvBN(inC, mid, kernel: 1, activation: act)
            bottleneckConv = ConvBN(mid, mid, kernel: kernel, stride: stride, groups: mid, activation: act)
            midSE = se ? SqueezeExcite(channels: mid, squeezeChannels: mid / 4, activation: .relu, gate: .hardSigmoidPaddle) : nil
            linearConv = ConvBN(mid, outC, kernel: 1)
            shortcut = stride == 1 && inC == outC
        }
        override var children: [(String, Module)] {
            [("expand_conv", expandConv), ("bottleneck_conv", bottleneckConv)]
                + (midSE.map { [("mid_se", $0)] } ?? []) + [("linear_conv", linearConv)]
        }
        override func forward(_ x: Tensor) -> Tensor {
            var y = bottleneckConv(expandConv(x))
            if let midSE { y = midSE(y) }
            y = linearConv(y)
            return shortcut ? x + y : y
        }
    }

    public let size: Size
    public let scale: Double
    let conv: ConvBN
    let blocks: Sequential
    let lastSecondConv: ConvBN
    let lastConv: Conv2d
    let dropout: Dropout
    let fc: Linear?
    public let classExpand = 1280

    public init(size: Size, scale: Double, options: ModelOptions = ModelOptions()) {
        self.size = size
        self.scale = scale
        let rows = MobileNetV3.config(size)
        conv = ConvBN(3, makeDivisible(16 * scale), kernel: 3, stride: 2, activation: .hardSwish)
        var inC = makeDivisible(16 * scale)
        var units: [Layer] = []
        for (k, exp, c, se, act, s) in rows {
            let outC = makeDivisible(Double(c) * scale)
            units.append(ResidualUnit(inC, mid: makeDivisible(Double(exp) * scale), outC, kernel: k, stride: s, se: se, act: act))
            inC = outC
        }
        blocks = Sequential(units)
        let lastSecond = makeDivisible(Double(rows.last!.1) * scale)
        lastSecondConv = ConvBN(inC, lastSecond, kernel: 1, activation: .hardSwish)
        lastConv = Conv2d(lastSecond, classExpand, kernel: 1, bias: false)
        dropout = Dropout(p: options.dropout ?? 0.2, mode: .downscaleInInfer)
        fc = options.classNum > 0 ? Linear(classExpand, options.classNum) : nil
        super.init()
        kaimingInitialiseConvs(self, onlyBiasless: true)
    }

    override public var children: [(String, Module)] {
        // Dropout has no tensors but must be listed so that eval() reaches it.
        [("conv", conv), ("blocks", blocks), ("last_second_conv", lastSecondConv), ("last_conv", lastConv),
         ("dropout", dropout)]
            + (fc.map { [("fc", $0)] } ?? [])
    }

    override public func forward(_ x: Tensor) -> Tensor {
        var y = lastSecondConv(blocks(conv(x)))
        y = lastConv(globalAvgPool2d(y)).hardSwish()
        y = dropout(y).flattened()
        return fc.map { $0(y) } ?? y
    }
}
