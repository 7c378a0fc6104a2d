import Foundation
import Testing
@testable import Models
@testable import NN
@testable import TensorCore

/// EfficientNet-Lite against the PyTorch port its ImageNet weights were published for
/// (Scripts/fixtures/make_efficientnet_fixtures.py).
@Suite struct EfficientNetLiteTests {
    /// The pretrained weights Scripts/fetch-pretrained.sh writes (Scripts/test.sh runs it).
    static let pretrainedURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/pretrained/efficientnet_lite0.pth").standardized
    static var hasPretrained: Bool { FileManager.default.fileExists(atPath: pretrainedURL.path) }

    /// Lite-0's graph at width 0.25 with seeded weights, eval and train mode, on a 67×67 input
    /// (odd: the stem pads evenly, the next stride-2 layer unevenly, as TensorFlow's SAME does).
    @Test func smallGraphMatchesThePort() throws {
        let variant = EfficientNetLite.Variant(name: "w025", width: 0.25, depth: 1.0, resolution: 67, dropout: 0)
        var options = ModelOptions(classNum: 10)
        options.dropout = 0
        let model = EfficientNetLite(variant, options: options, dropPath: 0)
        let file = try ReferenceParityTests.fixture("efficientnet_lite_w025")
        #expect(Int(file.metadata["params"] ?? "") == model.parameterCount)
        try ReferenceParityTests().expectParity(model, fixture: "efficientnet_lite_w025")
    }

    /// The real ImageNet weights, read from the legacy PyTorch file as published, give the port's
    /// logits on a photo (chelsea.jpg, a tabby: ImageNet's tiger cat / Egyptian cat / tabby).
    @Test(.enabled(if: EfficientNetLiteTests.hasPretrained, "run Scripts/fetch-pretrained.sh"))
    func pretrainedWeightsGiveThePortsLogits() throws {
        let model = try ModelRegistry.make("EfficientNet_lite0")
        try model.load(stateDict: try TorchCheckpoint.read(Self.pretrainedURL))
        model.eval()
        let file = try ReferenceParityTests.fixture("efficientnet_lite0_imagenet")
        let pixels = try file.tensor("pixels")          // [1, 224, 224, 3] uint8 values
        let x = ((pixels.permuted([0, 3, 1, 2]) - 127) * (1 / 128)).detached()
        let logits = withNoGrad { model(x) }, expected = try file.tensor("logits")
        let scale = expected.data.map(abs).max()!
        let diff = zip(logits.data, expected.data).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-4 * scale, "max diff \(diff) (scale \(scale))")
        let top5 = logits.data.indices.sorted { logits.data[$0] > logits.data[$1] }.prefix(5)
        #expect(Array(top5).map(String.init).joined(separator: ",") == file.metadata["top5"])
    }
}
