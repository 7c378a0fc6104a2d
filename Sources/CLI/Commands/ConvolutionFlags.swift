import ArgumentParser
import Foundation
import TensorCore

extension ConvolutionOptions.Backend: ExpressibleByArgument {}
extension ConvolutionOptions.Algorithm: ExpressibleByArgument {}
extension ConvolutionOptions.Precision: ExpressibleByArgument {}
extension ConvolutionOptions.Inference: ExpressibleByArgument {}

/// `--conv-backend`, `--conv-algorithm`, `--precision`: which kernels run the convolutions.
/// Unset flags keep what the config (Global.conv_backend, conv_algorithm, precision) or the
/// default chose.
struct ConvolutionFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Convolution kernels: onednn (default) or im2col (im2col + OpenBLAS, the reference).",
                               valueName: "backend"))
    var convBackend: ConvolutionOptions.Backend?

    @Option(help: ArgumentHelp("oneDNN algorithm: auto (Winograd where it pays, default), direct or winograd.",
                               valueName: "algorithm"))
    var convAlgorithm: ConvolutionOptions.Algorithm?

    @Option(help: ArgumentHelp("Convolution arithmetic: fp32 (default) or bf16 (bfloat16 products, fp32 results; needs AVX-512).",
                               valueName: "precision"))
    var precision: ConvolutionOptions.Precision?

    @Option(help: ArgumentHelp("Eval-mode forward passes on oneDNN: graph (compiled per input shape, default) or eager (op by op).",
                               valueName: "mode"))
    var inference: ConvolutionOptions.Inference?

    /// Sets the process-wide convolution options from these flags over `base`, after checking
    /// that this machine can run them.
    func apply(over base: ConvolutionOptions = ConvolutionOptions.defaults) throws {
        var options = base
        if let convBackend { options.backend = convBackend }
        if let convAlgorithm { options.algorithm = convAlgorithm }
        if let precision { options.precision = precision }
        if let inference { options.inference = inference }
        do { try options.validate() } catch { throw ValidationError("\(error)") }
        if options.precision == .bf16 && !ConvolutionOptions.hasNativeBF16 {
            FileHandle.standardError.write(Data("note: this CPU has no avx512_bf16; oneDNN emulates bf16, slower than fp32\n".utf8))
        }
        ConvolutionOptions.defaults = options
    }
}
