import NN
import TensorCore

/// Maps PaddleClas state-dict key names and layouts onto ours (torchvision / timm layout).
///
/// - BN buffers `_mean` / `_variance` become `running_mean` / `running_var`; Paddle has no
///   `num_batches_tracked`, so those are filled with 0.
/// - Paddle `Linear.weight` is [in, out]: every Linear weight is transposed to [out, in].
/// - ResNet (legendary `resnet.py`): `stem.{i}` → `conv1`/`bn1` (vb) or the deep stem
///   `conv1.{0,1,3,4,6}` + `bn1` (vc/vd); `blocks.{b}` (numbered across stages) →
///   `layer{s}.{j}` with `conv0/1/2` → `conv1/bn1`, `conv2/bn2`, `conv3/bn3` and `short` →
///   `downsample.0/1` (vb, vc) or `downsample.1/2` (vd).
/// - PP-LCNet, MobileNetV3 and WideResNet already use PaddleClas's module names.
public enum PaddleClasImport {
    public static func convert(_ source: [String: Tensor], for model: Module) throws -> [String: Tensor] {
        var renamed: [String: Tensor] = [:]
        for (key, value) in source {
            var k = key
            if k.hasSuffix("._mean") { k = String(k.dropLast(6)) + ".running_mean" }
            if k.hasSuffix("._variance") { k = String(k.dropLast(10)) + ".running_var" }
            if let resnet = model as? ResNet { k = try resnetKey(k, resnet) }
            guard renamed[k] == nil else { throw ModelsError.badWeights("two PaddleClas keys map to '\(k)' (second: '\(key)')") }
            renamed[k] = value
        }
        for (path, module) in model.namedModules() {
            let prefix = path.isEmpty ? "" : path + "."
            if module is Linear, let w = renamed[prefix + "weight"], w.rank == 2 {
                renamed[prefix + "weight"] = w.transposed().detached()
            }
            if module is BatchNorm, renamed[prefix + "running_mean"] != nil, renamed[prefix + "num_batches_tracked"] == nil {
                renamed[prefix + "num_batches_tracked"] = Tensor(scalar: 0)
            }
        }
        return renamed
    }

    /// One legendary-ResNet key in our names.
    static func resnetKey(_ key: String, _ model: ResNet) throws -> String {
        var parts = key.split(separator: ".").map(String.init)
        let deep = model.config.variant != .vb
        if parts.first == "stem", parts.count >= 3, let i = Int(parts[1]) {
            let isBN = parts[2] == "bn"
            let tail = parts[3...].joined(separator: ".")
            if !deep { return (isBN ? "bn1." : "conv1.") + tail }
            // Deep stem: stem.0/1 are conv+BN pairs inside conv1; stem.2's BN is bn1.
            let convIndex = [0, 3, 6][min(i, 2)]
            if isBN { return i == 2 ? "bn1." + tail : "conv1.\(convIndex + 1)." + tail }
            return "conv1.\(convIndex)." + tail
        }
        guard parts.first == "blocks", parts.count >= 4, let b = Int(parts[1]) else { return key }
        let blocks = model.stages.map { $0.layers.count }
        var stage = 0, index = b
        while stage < blocks.count && index >= blocks[stage] { index -= blocks[stage]; stage += 1 }
        guard stage < blocks.count else { throw ModelsError.badWeights("PaddleClas key '\(key)': block \(b) is beyond this model's \(blocks.reduce(0, +)) blocks") }
        let head = "layer\(stage + 1).\(index)."
        let isBN = parts[3] == "bn"
        let tail = parts[4...].joined(separator: ".")
        switch parts[2] {
        case "conv0", "conv1", "conv2":
            let n = Int(parts[2].dropFirst(4))! + 1
            return head + (isBN ? "bn\(n)." : "conv\(n).") + tail
        case "short":
            let offset = model.config.variant == .vd ? 1 : 0
            return head + "downsample.\((isBN ? 1 : 0) + offset)." + tail
        default:
            parts.removeFirst(2)
            return head + parts.joined(separator: ".")
        }
    }
}
