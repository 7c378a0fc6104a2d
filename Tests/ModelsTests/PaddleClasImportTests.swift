import Testing
@testable import Models
@testable import NN
@testable import TensorCore

@Suite struct PaddleClasImportTests {
    /// Names of PaddleClas's legendary ResNet50_vd checkpoint → ours, written out by hand.
    static let resnet50vd: [(String, String)] = [
        ("stem.0.conv.weight", "conv1.0.weight"), ("stem.0.bn._mean", "conv1.1.running_mean"),
        ("stem.1.conv.weight", "conv1.3.weight"), ("stem.1.bn._variance", "conv1.4.running_var"),
        ("stem.2.conv.weight", "conv1.6.weight"), ("stem.2.bn.weight", "bn1.weight"),
        ("blocks.0.conv0.conv.weight", "layer1.0.conv1.weight"), ("blocks.0.conv2.bn.bias", "layer1.0.bn3.bias"),
        ("blocks.0.short.conv.weight", "layer1.0.downsample.1.weight"),
        ("blocks.3.short.bn._mean", "layer2.0.downsample.2.running_mean"),
        ("blocks.6.conv1.conv.weight", "layer2.3.conv2.weight"), ("blocks.7.conv1.bn.weight", "layer3.0.bn2.weight"),
        ("blocks.15.conv2.conv.weight", "layer4.2.conv3.weight"),
    ]

    /// Builds a PaddleClas-keyed dict from a model by the inverse of the hand-written table plus
    /// the generic rules (BN suffixes, [in, out] Linear, no num_batches_tracked).
    func paddleDict(from model: Module, names: [(String, String)]) -> [String: Tensor] {
        let inverse = Dictionary(uniqueKeysWithValues: names.map { ($0.1, $0.0) })
        var out: [String: Tensor] = [:]
        for (key, t) in model.stateDict() where !key.hasSuffix("num_batches_tracked") {
            var k = inverse[key] ?? key
            k = k.replacingOccurrences(of: "running_mean", with: "_mean").replacingOccurrences(of: "running_var", with: "_variance")
            out[k] = key == "fc.weight" ? t.transposed().detached() : t.detached()
        }
        return out
    }

    @Test func resnet50vdKeysMapAsTheSpecSays() throws {
        let model = try ModelRegistry.make("ResNet50_vd") as! ResNet
        for (paddle, ours) in Self.resnet50vd {
            let mapped = try PaddleClasImport.resnetKey(paddle.replacingOccurrences(of: "._mean", with: ".running_mean")
                .replacingOccurrences(of: "._variance", with: ".running_var"), model)
            #expect(mapped == ours, "\(paddle)")
        }
    }

    @Test func resnet18vdRoundTripLoadsStrictlyAndComputesTheSame() throws {
        Initializers.seed(5)
        let source = try ModelRegistry.make("ResNet18_vd", options: ModelOptions(classNum: 7)) as! ResNet
        // Every block and stem key in Paddle's numbering, derived from the stage layout [2, 2, 2, 2].
        var names: [(String, String)] = []
        for (key, _) in source.stateDict() {
            let p = key.split(separator: ".").map(String.init)
            if p[0].hasPrefix("layer"), let s = Int(p[0].dropFirst(5)), let j = Int(p[1]) {
                let b = (s - 1) * 2 + j
                let rest = p[2...].joined(separator: ".")
                var paddle = rest
                for (ours, theirs) in [("conv1.", "conv0.conv."), ("bn1.", "conv0.bn."), ("conv2.", "conv1.conv."),
                                       ("bn2.", "conv1.bn."), ("downsample.1.", "short.conv."), ("downsample.2.", "short.bn.")]
                where rest.hasPrefix(ours) { paddle = theirs + rest.dropFirst(ours.count) }
                names.append(("blocks.\(b)." + paddle, key))
            }
        }
        names += [("stem.0.conv.weight", "conv1.0.weight"), ("stem.0.bn.weight", "conv1.1.weight"),
                  ("stem.0.bn.bias", "conv1.1.bias"), ("stem.0.bn.running_mean", "conv1.1.running_mean"),
                  ("stem.0.bn.running_var", "conv1.1.running_var"), ("stem.1.conv.weight", "conv1.3.weight"),
                  ("stem.1.bn.weight", "conv1.4.weight"), ("stem.1.bn.bias", "conv1.4.bias"),
                  ("stem.1.bn.running_mean", "conv1.4.running_mean"), ("stem.1.bn.running_var", "conv1.4.running_var"),
                  ("stem.2.conv.weight", "conv1.6.weight"), ("stem.2.bn.weight", "bn1.weight"), ("stem.2.bn.bias", "bn1.bias"),
                  ("stem.2.bn.running_mean", "bn1.running_mean"), ("stem.2.bn.running_var", "bn1.running_var")]
        let paddle = paddleDict(from: source, names: names)
        #expect(paddle["blocks.0.short.conv.weight"] != nil)   // PaddleClas's first short conv
        #expect(paddle["fc.weight"]!.shape == [512, 7])
        let target = try ModelRegistry.make("ResNet18_vd", options: ModelOptions(classNum: 7))
        try target.load(stateDict: try PaddleClasImport.convert(paddle, for: target))
        source.eval(); target.eval()
        var rng = RNG(seed: 1)
        let x = Tensor.randn([1, 3, 64, 64], rng: &rng)
        #expect(withNoGrad { target(x) }.data == withNoGrad { source(x) }.data)
    }

    @Test func lcnetNeedsOnlySuffixesAndTransposes() throws {
        Initializers.seed(6)
        let source = try ModelRegistry.make("PPLCNet_x0_25", options: ModelOptions(classNum: 2))
        let paddle = paddleDict(from: source, names: [])
        #expect(paddle["blocks6.0.se.conv1.weight"] != nil && paddle["conv1.bn._mean"] != nil)
        let target = try ModelRegistry.make("PPLCNet_x0_25", options: ModelOptions(classNum: 2))
        try target.load(stateDict: try PaddleClasImport.convert(paddle, for: target))
        #expect(target.stateDict().map { $0.1.data } == source.stateDict().map { $0.0.hasSuffix("num_batches_tracked") ? [0] : $0.1.data })
    }
}
