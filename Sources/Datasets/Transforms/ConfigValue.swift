import Foundation

/// A YAML-like parameter value for building transforms by name (what a PaddleClas config holds
/// under each `transform_ops` entry).
public enum ConfigValue: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case list([ConfigValue])
    case null

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ConfigValue...) { self = .list(elements) }
    public init(nilLiteral: ()) { self = .null }

    /// A number; strings like "1.0/255.0" (PaddleClas evaluates them in Python) are accepted.
    public var number: Double? {
        switch self {
        case let .int(v): return Double(v)
        case let .double(v): return v
        case let .string(s):
            let parts = s.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 1 { return Double(parts[0]) }
            if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
            return nil
        default: return nil
        }
    }
}

extension ConfigValue {
    /// From a parsed YAML/JSON value (`Int`, `Double`, `String`, `Bool`, arrays, `NSNull`); nil for
    /// anything else (a nested mapping, say).
    public init?(any value: Any?) {
        guard let value else { self = .null; return }
        // Native Swift values first (Yams gives these); Foundation parsers give NSNumber, where a
        // plain `as? Bool` would also accept 1.0 and `as? Int` would accept true.
        if type(of: value) == Bool.self { self = .bool(value as! Bool); return }
        if type(of: value) == Int.self { self = .int(value as! Int); return }
        if type(of: value) == Double.self { self = .double(value as! Double); return }
        if let n = value as? NSNumber, !(value is String) {
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "f", "d": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
            return
        }
        switch value {
        case is NSNull: self = .null
        case let v as Float: self = .double(Double(v))
        case let v as String: self = .string(v)
        case let v as [Any]:
            var items: [ConfigValue] = []
            for item in v {
                guard let c = ConfigValue(any: item) else { return nil }
                items.append(c)
            }
            self = .list(items)
        default: return nil
        }
    }
}
