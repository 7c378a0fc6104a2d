import Foundation
import Testing
@testable import Models
@testable import NN
@testable import TensorCore

/// Forward outputs against PyTorch on the same weights (Scripts/fixtures/make_model_fixtures.py).
@Suite struct ReferenceParityTests {
    static func fixture(_ name: String) throws -> SafeTensorsFile {
        try SafeTensors.read(Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name).safetensors"))
    }

    /// Loads the fixture's weights strictly, then checks eval- and train-mode logits to 1e-4 relative.
    func expectParity(_ model: Layer, fixture name: String) throws {
        let file = try Self.fixture(name)
        let weights = file.tensors.filter { !["input", "y_eval", "y_train"].contains($0.key) }
        try model.load(stateDict: weights)
        let x = try file.tensor("input")
        for (mode, key) in [(false, "y_eval"), (true, "y_train")] {
            model.train(mode)
            let y = withNoGrad { model(x) }, expected = try file.tensor(key)
            #expect(y.shape == expected.shape)
            let scale = expected.data.map(abs).max()!
            let diff = zip(y.data, expected.data).map { abs($0 - $1) }.max()!
            #expect(diff <= 1e-4 * scale, "\(name) \(key): max diff \(diff) (scale \(scale))")
        }
    }

    @Test func resnet18MatchesTorchvisionLayout() throws {
        let model = try ResNet(ResNet.Config(depth: 18, options: ModelOptions(classNum: 10), baseWidth: 16))
        try expectParity(model, fixture: "resnet18_w16")
    }

    @Test func wideResNet28x2MatchesKekmodel() throws {
        try expectParity(try WideResNet(options: ModelOptions(classNum: 10)), fixture: "wrn28_2")
    }

    @Test func wideResNetFixedFormDiffers() throws {
        var options = ModelOptions(classNum: 10)
        options.faithfulWideResNet = false
        let model = try WideResNet(options: options)
        let file = try Self.fixture("wrn28_2")
        try model.load(stateDict: file.tensors.filter { !["input", "y_eval", "y_train"].contains($0.key) })
        model.eval()
        let y = withNoGrad { model(try! file.tensor("input")) }
        #expect(zip(y.data, try file.tensor("y_eval").data).map { abs($0 - $1) }.max()! > 1e-3)
    }

    @Test func torchvisionResNet18HasItsStateDictKeys() throws {
        let keys = try ModelRegistry.make("ResNet18").stateDict().map(\.0)
        #expect(keys.count == 122)
        #expect(keys.contains("layer2.0.downsample.1.running_mean"))
        #expect(keys.contains("fc.weight") && keys.contains("bn1.num_batches_tracked"))
    }
}
