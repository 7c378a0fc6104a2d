import Testing
import TensorCore
@testable import Engine

@Suite struct ConvolutionConfigTests {
    @Test func globalKeysChooseTheKernels() throws {
        let c = try Config(yaml: "Global:\n  conv_algorithm: winograd\n  conv_backend: onednn\n")
        let options = try c.convolutionOptions(over: ConvolutionOptions(backend: .im2col, algorithm: .direct))
        #expect(options.backend == .onednn)
        #expect(options.algorithm == .winograd)
        #expect(options.precision == .fp32)
        try c.checkUnknownKeys()   // the keys count as known
    }

    @Test func unsetKeysKeepTheBase() throws {
        let base = ConvolutionOptions(backend: .im2col, algorithm: .direct)
        #expect(try Config(yaml: "Global:\n  seed: 1\n").convolutionOptions(over: base) == base)
    }

    @Test func badValuesNameTheKey() throws {
        let c = try Config(yaml: "Global:\n  precision: fp16\n", path: "x.yaml")
        #expect {
            _ = try c.convolutionOptions()
        } throws: { error in
            "\(error)".contains("Global.precision") && "\(error)".contains("fp32, bf16")
        }
        // bf16 on the reference kernels is refused with the key to change.
        let im2col = try Config(yaml: "Global:\n  precision: bf16\n  conv_backend: im2col\n", path: "y.yaml")
        #expect {
            _ = try im2col.convolutionOptions()
        } throws: { error in
            "\(error)".contains("Global.precision") && "\(error)".contains("onednn")
        }
    }
}
