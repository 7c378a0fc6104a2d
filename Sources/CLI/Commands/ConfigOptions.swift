import ArgumentParser
import Engine

/// `-c CONFIG -o Key.Sub=Value …`, as PaddleClas's tools take them.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "PaddleClas-style YAML config.")
    var config: String?

    @Option(name: [.short, .customLong("override")],
            help: ArgumentHelp("Override a config key (repeatable), e.g. -o Global.epochs=10.", valueName: "key=value"))
    var overrides: [String] = []

    /// The loaded config with overrides applied; nil when no -c was given.
    func load() throws -> Config? {
        guard let config else {
            if !overrides.isEmpty { throw ValidationError("-o needs a config (-c FILE)") }
            return nil
        }
        return try Config(contentsOf: config, overrides: overrides)
    }

    func require() throws -> Config {
        guard let c = try load() else { throw ValidationError("this command needs a config: -c FILE") }
        return c
    }
}
