import NN
import TensorCore

/// WideResNet-28-k as FixMatch uses it (kekmodel / PaddleClas keys): pre-activation blocks,
/// leaky ReLU 0.1, BN momentum 0.001 (`ModelOptions.bnMomentum`), no conv biases.
/// Keys: conv1, block{1,2,3}.layer.{i}.{bn1,conv1,bn2,conv2,convShortcut}, bn1, fc.
public final class WideResNet: Layer {
    final class Block: Layer {
        let bn1: BatchNorm2d, conv1: Conv2d, bn2: BatchNorm2d, conv2: Conv2d
        let convShortcut: Conv2d?
        let activateBeforeResidual: Bool
        let faithful: Bool
        let dropRate: Float
        private var rng = Initializers.spawn()

        init(_ inC: Int, _ outC: Int, stride: Int, dropRate: Float, activateBeforeResidual: Bool, faithful: Bool, bnMomentum: Float) {
            bn1 = BatchNorm2d(inC, momentum: bnMomentum)
            conv1 = Conv2d(inC, outC, kernel: 3, stride: Size2(stride), padding: 1, bias: false)
            bn2 = BatchNorm2d(outC, momentum: bnMomentum)
            conv2 = Conv2d(outC, outC, kernel: 3, padding: 1, bias: false)
            convShortcut = inC == outC ? nil : Conv2d(inC, outC, kernel: 1, stride: Size2(stride), bias: false)
            self.activateBeforeResidual = activateBeforeResidual
            self.faithful = faithful
            self.dropRate = dropRate
        }

        override var children: [(String, Module)] {
            [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)] + (convShortcut.map { [("convShortcut", $0)] } ?? [])
        }

        override func forward(_ x: Tensor) -> Tensor {
            let activated = bn1.forward(x, activation: .leakyRelu(0.1))
            let residualInput: Tensor, shortcutInput: Tensor
            if convShortcut == nil {
                residualInput = activated; shortcutInput = x
            } else if activateBeforeResidual {
                residualInput = activated; shortcutInput = activated
            } else {
                // kekmodel computes bn1/relu1 here but then convolves the raw input (dead BN);
                // the original TF code feeds the activated tensor to the residual conv.
                residualInput = faithful ? x : activated; shortcutInput = x
            }
            var out = bn2.forward(residualInput, after: conv1, activation: .leakyRelu(0.1))
            if dropRate > 0 { out = dropout(out, p: dropRate, training: isTraining, rng: &rng) }
            out = conv2(out)
            return (convShortcut?(shortcutInput) ?? shortcutInput) + out
        }
    }

    /// One group's blocks under `layer` (kekmodel's NetworkBlock).
    final class Group: Layer {
        let layer: Sequential
        init(_ blocks: [Block]) { layer = Sequential(blocks) }
        override var children: [(String, Module)] { [("layer", layer)] }
        override func forward(_ x: Tensor) -> Tensor { layer(x) }
    }

    let conv1: Conv2d
    let groups: [Group]
    let bn1: BatchNorm2d
    let fc: Linear?
    public let featureChannels: Int
    let pooling: GlobalPooling

    public init(depth: Int = 28, widen: Int = 2, options: ModelOptions = ModelOptions(classNum: 10)) throws {
        guard (depth - 4) % 6 == 0, depth > 4 else { throw ModelsError.unsupported("WideResNet depth \(depth); need 6n+4") }
        let n = (depth - 4) / 6
        let widths = [16, 16 * widen, 32 * widen, 64 * widen]
        let bnMomentum = options.bnMomentum ?? 0.001  // kekmodel's
        conv1 = Conv2d(3, widths[0], kernel: 3, padding: 1, bias: false)
        var inC = widths[0]
        var groups: [Group] = []
        for g in 0..<3 {
            var blocks: [Block] = []
            for i in 0..<n {
                blocks.append(Block(i == 0 ? inC : widths[g + 1], widths[g + 1], stride: i == 0 && g > 0 ? 2 : 1,
                                    dropRate: options.dropout ?? 0, activateBeforeResidual: g == 0 && i == 0,
                                    faithful: options.faithfulWideResNet, bnMomentum: bnMomentum))
            }
            inC = widths[g + 1]
            groups.append(Group(blocks))
        }
        self.groups = groups
        bn1 = BatchNorm2d(inC, momentum: bnMomentum)
        featureChannels = inC
        fc = options.classNum > 0 ? Linear(inC, options.classNum) : nil
        pooling = options.pooling
        super.init()
        // kekmodel: conv kaiming-normal (fan_out, leaky_relu with a = 0), Linear xavier-normal, biases 0.
        kaimingInitialiseConvs(self, fanOut: true)
        if let fc {
            fc.weight.data = Initializers.xavierNormal(fc.weight.shape).data
            fc.bias?.data = [Float](repeating: 0, count: fc.outFeatures)
        }
    }

    override public var children: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1)]
        for (i, g) in groups.enumerated() { c.append(("block\(i + 1)", g)) }
        c.append(("bn1", bn1))
        if let fc { c.append(("fc", fc)) }
        return c
    }

    override public func forward(_ x: Tensor) -> Tensor {
        var y = conv1(x)
        for g in groups { y = g(y) }
        let pooled = pooling.apply(bn1.forward(y, activation: .leakyRelu(0.1)))
        return fc.map { $0(pooled) } ?? pooled
    }
}
