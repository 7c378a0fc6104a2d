import NN
import TensorCore

/// How a ResNet variant builds its projection shortcut.
enum ShortcutStyle {
    /// 1×1 conv with the block's stride + BN (torchvision, vb, vc): keys `downsample.0/1`.
    case strided
    /// AvgPool(2, stride, ceil) → 1×1 conv stride 1 → BN (vd, timm's `avg_down`): keys `downsample.1/2`.
    case averagePooled
}

/// The projection shortcut of a residual block.
func makeShortcut(_ inC: Int, _ outC: Int, stride: Int, style: ShortcutStyle) -> Sequential {
    switch style {
    case .strided:
        return Sequential(Conv2d(inC, outC, kernel: 1, stride: Size2(stride), bias: false), BatchNorm2d(outC))
    case .averagePooled:
        let pool: Layer = stride == 1 ? Identity()
            : AvgPool2d(kernel: 2, stride: Size2(stride), ceilMode: true, countIncludePad: false)
        return Sequential(pool, Conv2d(inC, outC, kernel: 1, bias: false), BatchNorm2d(outC))
    }
}

/// Two 3×3 convs (ResNet-18/34). Keys as torchvision: conv1, bn1, conv2, bn2, [se], downsample.
final class BasicBlock: Layer {
    static let expansion = 1
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    let se: SqueezeExcite?
    let downsample: Sequential?

    init(_ inC: Int, _ planes: Int, stride: Int, downsample: Sequential?, squeeze: Bool) {
        conv1 = Conv2d(inC, planes, kernel: 3, stride: Size2(stride), padding: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernel: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        se = squeeze ? ResNetSE.make(planes) : nil
        self.downsample = downsample
    }

    override var children: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let se { c.append(("se", se)) }
        if let downsample { c.append(("downsample", downsample)) }
        return c
    }

    override func forward(_ x: Tensor) -> Tensor {
        var out = bn2.forward(bn1.forward(x, after: conv1, activation: .relu), after: conv2)
        if let se { out = se(out) }
        return add(out, downsample?(x) ?? x, activation: .relu)
    }
}

/// 1×1 → 3×3 (carries the stride, "v1.5") → 1×1 ×4. Keys as torchvision plus `se`.
final class Bottleneck: Layer {
    static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    let se: SqueezeExcite?
    let downsample: Sequential?

    init(_ inC: Int, _ planes: Int, stride: Int, downsample: Sequential?, squeeze: Bool) {
        conv1 = Conv2d(inC, planes, kernel: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernel: 3, stride: Size2(stride), padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, planes * 4, kernel: 1, bias: false)
        bn3 = BatchNorm2d(planes * 4)
        se = squeeze ? ResNetSE.make(planes * 4) : nil
        self.downsample = downsample
    }

    override var children: [(String, Module)] {
        var c: [(String, Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2),
                                     ("conv3", conv3), ("bn3", bn3)]
        if let se { c.append(("se", se)) }
        if let downsample { c.append(("downsample", downsample)) }
        return c
    }

    override func forward(_ x: Tensor) -> Tensor {
        var out = bn1.forward(x, after: conv1, activation: .relu)
        out = bn2.forward(out, after: conv2, activation: .relu)
        out = bn3.forward(out, after: conv3)
        if let se { out = se(out) }
        return add(out, downsample?(x) ?? x, activation: .relu)
    }
}

/// SE_ResNet*_vd's squeeze-excitation: GAP → FC(C → ⌊C/16⌋) → ReLU → FC → sigmoid, on the residual
/// branch before the addition (timm's `se.fc1/fc2` keys, 1×1 convs with bias).
enum ResNetSE {
    static func make(_ channels: Int) -> SqueezeExcite {
        SqueezeExcite(channels: channels, squeezeChannels: channels / 16, activation: .relu, gate: .sigmoid,
                      keys: ("fc1", "fc2"))
    }
}
