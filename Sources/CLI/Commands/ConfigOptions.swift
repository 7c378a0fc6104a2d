import ArgumentParser
import Engine
import TensorCore

/// `-c CONFIG -o Key.Sub=Value …`, as PaddleClas's tools take them.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "PaddleClas-style YAML config.")
    var config: String?

    @Option(name: [.short, .customLong("override")],
            help: ArgumentHelp("Override a config key (repeatable), e.g. -o Global.epochs=10.", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var convolution: ConvolutionFlags

    /// The loaded config with overrides applied; nil when no -c was given. Also sets the
    /// convolution kernels: the config's Global.conv_backend / conv_algorithm / precision, then
    /// the command-line flags over them.
    func load() throws -> Config? {
        guard let config else {
            if !overrides.isEmpty { throw ValidationError("-o needs a config (-c FILE)") }
            try convolution.apply()
            return nil
        }
        let loaded = try Config(contentsOf: config, overrides: overrides)
        try convolution.apply(over: loaded.convolutionOptions())
        return loaded
    }

    func require() throws -> Config {
        guard let c = try load() else { throw ValidationError("this command needs a config: -c FILE") }
        return c
    }
}
