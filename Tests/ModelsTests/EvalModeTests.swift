import Testing
import NN
import TensorCore
@testable import Models

/// eval() must reach every layer with train/eval behaviour, including tensor-less ones (dropout).
@Suite struct EvalModeTests {
    @Test(arguments: ["PPLCNet_x0_25", "MobileNetV3_small_x0_35"])
    func evalForwardIsDeterministicAndDownscalesDropout(name: String) throws {
        let model = try ModelRegistry.make(name, options: ModelOptions(classNum: 0))
        model.eval()
        var rng = RNG(seed: 3)
        let x = Tensor.uniform([2, 3, 32, 32], low: -1, high: 1, rng: &rng)
        let first = withNoGrad { model(x) }
        let second = withNoGrad { model(x) }
        let identical = first.data == second.data
        #expect(identical, "two eval-mode forward passes differ: a layer is still in training mode")
        // Without fc the output is hardswish(last_conv) · (1 − 0.2): Paddle's downscale_in_infer.
        let dropouts = model.namedModules().compactMap { $0.1 as? Dropout }
        #expect(dropouts.count == 1)
        #expect(dropouts.allSatisfy { !$0.isTraining && $0.mode == .downscaleInInfer && $0.p == 0.2 })
    }
}
