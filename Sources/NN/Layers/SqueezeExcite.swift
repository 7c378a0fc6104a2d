import TensorCore

/// Squeeze-and-excitation: x · gate(fc2(act(fc1(avgpool(x))))), with 1×1 convolutions (with
/// bias) as the two fully connected layers. Keys `conv1`/`conv2` (PP-LCNet, MobileNetV3 in
/// PaddleClas) or `fc1`/`fc2` (torchvision) are chosen by `keys`.
public final class SqueezeExcite: Layer {
    public let squeeze: Conv2d
    public let excite: Conv2d
    public let activation: Activation
    public let gate: Activation
    private let keys: (String, String)

    public init(channels: Int, squeezeChannels: Int, activation: Activation = .relu, gate: Activation = .hardSigmoid,
                keys: (String, String) = ("conv1", "conv2")) {
        squeeze = Conv2d(channels, squeezeChannels, kernel: 1)
        excite = Conv2d(squeezeChannels, channels, kernel: 1)
        self.activation = activation
        self.gate = gate
        self.keys = keys
    }

    override public var children: [(String, Module)] { [(keys.0, squeeze), (keys.1, excite)] }

    override public func forward(_ x: Tensor) -> Tensor {
        let s = gate.apply(excite(activation.apply(squeeze(globalAvgPool2d(x)))))
        return x * s
    }
}
