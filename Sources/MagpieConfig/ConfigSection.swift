/// Typed, tracked access to one map of a `Config` (a section, or a nested map in it).
public struct ConfigSection {
    public let config: Config
    /// Dotted path of this map from the top ("DataLoader.Train.sampler").
    public let path: String
    /// The map itself (nil when the section is absent).
    public let value: ConfigNode?

    /// Whether the section exists in the file.
    public var exists: Bool { value != nil }

    /// The dotted path of `key` in this section, for messages.
    public func full(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func child(_ key: String) -> ConfigNode? {
        config.note(full(key))
        guard case let .map(pairs)? = value else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// The raw node under `key`, as written in the file (nil when absent).
    public func node(_ key: String) -> ConfigNode? { child(key) }

    /// The raw node under `key` (the same as `node`).
    public func raw(_ key: String) -> ConfigNode? { child(key) }

    /// Keys of this map in file order (each marked as read).
    public var keys: [String] {
        guard case let .map(pairs)? = value else { return [] }
        for (k, _) in pairs { config.note(full(k)) }
        return pairs.map(\.key)
    }

    /// Whether `key` is present (and not null).
    public func has(_ key: String) -> Bool {
        if let v = child(key), v != .null { return true }
        return false
    }

    func typeError(_ key: String, _ expected: String, _ found: ConfigNode) -> ConfigError {
        .wrongType(path: config.path, key: full(key), expected: expected, found: found.description)
    }

    public func int(_ key: String) throws -> Int? {
        guard let v = child(key), v != .null else { return nil }
        switch v {
        case let .int(i): return i
        case let .double(d) where d == d.rounded(): return Int(d)
        default: throw typeError(key, "an integer", v)
        }
    }

    public func int(_ key: String, default fallback: Int) throws -> Int { try int(key) ?? fallback }

    /// A number; also accepts PaddleClas's fraction strings such as "1.0/255.0".
    public func double(_ key: String) throws -> Double? {
        guard let v = child(key), v != .null else { return nil }
        guard let number = ConfigSection.number(v) else { throw typeError(key, "a number", v) }
        return number
    }

    /// A numeric node, or a string holding a number or a fraction "a/b" (PaddleClas evaluates those in Python).
    static func number(_ node: ConfigNode) -> Double? { node.number }

    public func double(_ key: String, default fallback: Double) throws -> Double { try double(key) ?? fallback }
    public func float(_ key: String, default fallback: Float) throws -> Float { Float(try double(key) ?? Double(fallback)) }
    public func float(_ key: String) throws -> Float? { try double(key).map(Float.init) }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = child(key), v != .null else { return nil }
        if case let .bool(b) = v { return b }
        throw typeError(key, "true or false", v)
    }

    public func bool(_ key: String, default fallback: Bool) throws -> Bool { try bool(key) ?? fallback }

    public func string(_ key: String) throws -> String? {
        guard let v = child(key), v != .null else { return nil }
        switch v {
        case let .string(s): return s
        case .int, .double, .bool: return v.description
        default: throw typeError(key, "a string", v)
        }
    }

    public func string(_ key: String, default fallback: String) throws -> String { try string(key) ?? fallback }

    public func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw ConfigError.missing(path: config.path, key: full(key)) }
        return s
    }

    /// A value that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], default fallback: String) throws -> String {
        let s = try string(key, default: fallback)
        guard choices.contains(s) else {
            throw ConfigError.invalidValue(path: config.path, key: full(key), reason: "must be one of \(choices.joined(separator: ", ")), got '\(s)'")
        }
        return s
    }

    public func doubles(_ key: String) throws -> [Double]? {
        guard let v = child(key), v != .null else { return nil }
        let items: [ConfigNode]
        if case let .list(l) = v { items = l } else { items = [v] }
        return try items.map { item in
            guard let number = ConfigSection.number(item) else { throw typeError(key, "a list of numbers", v) }
            return number
        }
    }

    public func ints(_ key: String) throws -> [Int]? {
        try doubles(key).map { values in
            try values.map { d in
                guard d == d.rounded() else { throw typeError(key, "a list of integers", .double(d)) }
                return Int(d)
            }
        }
    }

    /// A nested map (an empty, non-existent section when absent).
    public func section(_ key: String) throws -> ConfigSection {
        let v = child(key)
        if let v, v != .null, case .map = v {} else if let v, v != .null {
            throw typeError(key, "a mapping", v)
        }
        return ConfigSection(config: config, path: full(key), value: v == .null ? nil : v)
    }

    /// An ordered list of single-key maps (`transform_ops`, `Loss.Train`, `Metric.Eval`) as
    /// (name, parameters) pairs; `- ToCHWImage:` with no parameters gives an empty section.
    public func namedList(_ key: String) throws -> [(name: String, params: ConfigSection)] {
        guard let v = child(key), v != .null else { return [] }
        guard case let .list(items) = v else { throw typeError(key, "a list of single-key mappings", v) }
        return try items.enumerated().map { i, item in
            let itemPath = full(key) + ".\(i)"
            switch item {
            case let .map(pairs) where pairs.count == 1:
                let (name, params) = pairs[0]
                config.note(itemPath + "." + name)
                if params != .null, case .map = params {} else if params != .null {
                    throw ConfigError.wrongType(path: config.path, key: itemPath + "." + name, expected: "a mapping of parameters",
                                                found: params.description)
                }
                return (name, ConfigSection(config: config, path: itemPath + "." + name, value: params == .null ? .map([]) : params))
            case let .string(name):
                return (name, ConfigSection(config: config, path: itemPath, value: .map([])))
            default:
                throw ConfigError.wrongType(path: config.path, key: itemPath, expected: "a single-key mapping", found: item.description)
            }
        }
    }

    /// Marks a nested key as read without checking below it.
    public func ignore(_ key: String) { config.ignore(full(key)) }
}
