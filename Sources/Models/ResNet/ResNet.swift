import NN
import TensorCore

/// The ResNet family in torchvision's layout and key names (timm's for the deep-stem vc/vd
/// variants): `conv1`, `bn1`, `layer1`…`layer4`, `fc`.
///
/// Variants (PaddleClas naming): plain/vb = torchvision v1.5; vc = 3-conv deep stem; vd = deep
/// stem + average-pooled projection shortcuts; `se` adds squeeze-excitation to every block.
public final class ResNet: Layer {
    public enum Variant: String, Sendable { case vb, vc, vd }

    public struct Config: Sendable {
        public var depth: Int
        public var variant: Variant = .vb
        public var squeezeExcite = false
        public var options = ModelOptions()
        /// Channels of the first stage (64 in every published model; smaller for reduced-width tests).
        public var baseWidth = 64

        public init(depth: Int, variant: Variant = .vb, squeezeExcite: Bool = false, options: ModelOptions = ModelOptions(),
                    baseWidth: Int = 64) {
            self.depth = depth; self.variant = variant; self.squeezeExcite = squeezeExcite; self.options = options
            self.baseWidth = baseWidth
        }

        /// Blocks per stage and whether they are bottlenecks, from PaddleClas's NET_CONFIG.
        var layout: (blocks: [Int], bottleneck: Bool)? {
            switch depth {
            case 18: return ([2, 2, 2, 2], false)
            case 34: return ([3, 4, 6, 3], false)
            case 50: return ([3, 4, 6, 3], true)
            case 101: return ([3, 4, 23, 3], true)
            case 152: return ([3, 8, 36, 3], true)
            case 200: return ([3, 12, 48, 3], true)
            default: return nil
            }
        }
    }

    public let config: Config
    /// 7×7 conv (plain/vb) or the deep stem's three 3×3 convs as a Sequential (`conv1.0/.3/.6`).
    let conv1: Layer
    let bn1: BatchNorm2d
    let stages: [Sequential]
    let fc: Linear?
    /// Channels of the last feature map (512 or 2048).
    public let featureChannels: Int

    public init(_ config: Config) throws {
        guard let (blocks, bottleneck) = config.layout else {
            throw ModelsError.unsupported("ResNet depth \(config.depth); use 18, 34, 50, 101, 152 or 200")
        }
        self.config = config
        let base = config.baseWidth, half = config.baseWidth / 2
        if config.variant != .vb {
            conv1 = Sequential(
                Conv2d(3, half, kernel: 3, stride: 2, padding: 1, bias: false), BatchNorm2d(half), ActivationLayer(.relu),
                Conv2d(half, half, kernel: 3, padding: 1, bias: false), BatchNorm2d(half), ActivationLayer(.relu),
                Conv2d(half, base, kernel: 3, padding: 1, bias: false))
        } else {
            conv1 = Conv2d(3, base, kernel: 7, stride: 2, padding: 3, bias: false)
        }
        bn1 = BatchNorm2d(base)
        let expansion = bottleneck ? Bottleneck.expansion : BasicBlock.expansion
        let shortcutStyle: ShortcutStyle = config.variant == .vd ? .averagePooled : .strided
        let firstShort = !bottleneck && (config.options.useFirstShortConv ?? (config.variant == .vd))
        var inC = base
        var stages: [Sequential] = []
        for (s, count) in blocks.enumerated() {
            let planes = base << s
            let stage = Sequential()
            for b in 0..<count {
                let stride = b == 0 && s > 0 ? 2 : 1
                let needsProjection = b == 0 && (stride != 1 || inC != planes * expansion || firstShort)
                let shortcut = needsProjection ? makeShortcut(inC, planes * expansion, stride: stride, style: shortcutStyle) : nil
                stage.append(bottleneck
                    ? Bottleneck(inC, planes, stride: stride, downsample: shortcut, squeeze: config.squeezeExcite)
                    : BasicBlock(inC, planes, stride: stride, downsample: shortcut, squeeze: config.squeezeExcite))
                inC = planes * expansion
            }
            stages.append(stage)
        }
        self.stages = stages
        featureChannels = inC
        fc = config.options.classNum > 0 ? Linear(inC, config.options.classNum) : nil
        super.init()
        ResNet.initialise(self)
    }

    override public var children: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1), ("bn1", bn1)]
        for (i, s) in stages.enumerated() { c.append(("layer\(i + 1)", s)) }
        if let fc { c.append(("fc", fc)) }
        return c
    }

    /// The last feature map [N, C, H/32, W/32].
    public func featureMap(_ x: Tensor) -> Tensor {
        var y: Tensor
        if let conv = conv1 as? Conv2d, let fused = (config.options.stemAct ?? .identity).fused() {
            y = bn1.forward(x, after: conv, activation: fused)
        } else {
            y = bn1(conv1(x))
            if let act = config.options.stemAct { y = act.apply(y) }
        }
        y = maxPool2d(y, kernel: 3, stride: 2, padding: 1)
        for stage in stages { y = stage(y) }
        return y
    }

    /// Logits [N, class_num], or pooled features [N, C] when class_num is 0.
    override public func forward(_ x: Tensor) -> Tensor {
        let pooled = config.options.pooling.apply(featureMap(x))
        return fc.map { $0(pooled) } ?? pooled
    }

    /// torchvision's initialisation: conv kaiming-normal (fan_out, ReLU), BN γ=1 β=0.
    static func initialise(_ model: Module) { kaimingInitialiseConvs(model, fanOut: true) }
}
