import TensorCore

extension Config {
    /// The convolution kernels a config asks for, over `base`: `Global.conv_algorithm`
    /// (auto | direct | winograd), `Global.precision` (fp32 | bf16) and `Global.conv_backend`
    /// (onednn | im2col), `Global.inference` (graph | eager: how eval-mode passes run on oneDNN). bf16 trains with bf16 convolution products and everything else fp32:
    /// master weights, optimizer state, BatchNorm statistics, the loss, the gradients.
    /// Throws when this machine cannot run what the config asks (bf16 without AVX-512).
    public func convolutionOptions(over base: ConvolutionOptions = .defaults) throws -> ConvolutionOptions {
        let global = section("Global")
        var options = base
        func pick<T: RawRepresentable & CaseIterable>(_ key: String, _ current: T) throws -> T where T.RawValue == String {
            let names = T.allCases.map(\.rawValue)
            return T(rawValue: try global.choice(key, names, default: current.rawValue))!
        }
        options.backend = try pick("conv_backend", options.backend)
        options.algorithm = try pick("conv_algorithm", options.algorithm)
        options.precision = try pick("precision", options.precision)
        options.inference = try pick("inference", options.inference)
        do { try options.validate() } catch {
            let key = options.precision == .bf16 ? "Global.precision" : "Global.conv_backend"
            throw ConfigError.invalidValue(path: path, key: key, reason: "\(error)")
        }
        return options
    }
}
