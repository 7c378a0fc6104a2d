/// Configuration problems, each naming the file and the key so the user can fix them.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalidYAML(String)
    case unknownKeys(path: String, keys: [(key: String, suggestion: String?)])
    case wrongType(path: String, key: String, expected: String, found: String)
    case missing(path: String, key: String)
    case invalidValue(path: String, key: String, reason: String)
    case badOverride(String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .invalidYAML(reason): return "invalid YAML: \(reason)"
        case let .unknownKeys(path, keys):
            let items = keys.map { k in "'\(k.key)'" + (k.suggestion.map { " (did you mean '\($0)'?)" } ?? "") }
            return "\(path): unknown key\(keys.count > 1 ? "s" : "") " + items.joined(separator: ", ")
        case let .wrongType(path, key, expected, found): return "\(path): '\(key)' must be \(expected), got '\(found)'"
        case let .missing(path, key): return "\(path): required key '\(key)' is missing"
        case let .invalidValue(path, key, reason): return "\(path): '\(key)' \(reason)"
        case let .badOverride(text, reason): return "override '-o \(text)': \(reason)"
        }
    }

    public static func == (a: ConfigError, b: ConfigError) -> Bool { a.description == b.description }
}
