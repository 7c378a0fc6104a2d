import NN
import TensorCore

/// Conv (no bias) → BN → optional activation, keyed `conv` / `bn` as PaddleClas's ConvBNLayer.
final class ConvBN: Layer {
    let conv: Conv2d
    let bn: BatchNorm2d
    let activation: Activation

    init(_ inC: Int, _ outC: Int, kernel: Int, stride: Int = 1, groups: Int = 1, activation: Activation = .identity,
         bnMomentum: Float = 0.1, bnEps: Float = 1e-5) {
        conv = Conv2d(inC, outC, kernel: Size2(kernel), stride: Size2(stride), padding: Size2((kernel - 1) / 2),
                      groups: groups, bias: false)
        bn = BatchNorm2d(outC, momentum: bnMomentum, eps: bnEps)
        self.activation = activation
    }

    override var children: [(String, Module)] { [("conv", conv), ("bn", bn)] }

    override func forward(_ x: Tensor) -> Tensor {
        if let fused = activation.fused() { return bn.forward(x, after: conv, activation: fused) }
        return activation.apply(bn.forward(x, after: conv))
    }
}

/// PaddleClas/torchvision `make_divisible`: round to a multiple of `divisor`, never below
/// `divisor` nor more than 10% under the value.
func makeDivisible(_ value: Double, divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

/// Re-initialises convolution weights kaiming-normal (PaddleClas's KaimingNormal; `fanOut` for
/// torchvision/kekmodel). `onlyBiasless` leaves convs with a bias (SE layers) at PyTorch's default.
func kaimingInitialiseConvs(_ model: Module, fanOut: Bool = false, onlyBiasless: Bool = false) {
    for (_, m) in model.namedModules() {
        if let conv = m as? Conv2d, !onlyBiasless || conv.bias == nil {
            conv.weight.data = Initializers.kaimingNormal(conv.weight.shape, fanOut: fanOut).data
        }
    }
}
