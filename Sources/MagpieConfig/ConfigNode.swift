import Foundation
import Yams

/// A parsed YAML document that keeps mapping order (PaddleClas lists like `transform_ops` and
/// `Loss.Train` are ordered single-key maps). Anchors and aliases are resolved at parse time.
/// The one model of a config value: the trainers read it through `ConfigSection`, the transform
/// registry takes each op's parameters as these nodes.
public indirect enum ConfigNode: Equatable, Sendable, CustomStringConvertible {
    case map([(key: String, value: ConfigNode)])
    case list([ConfigNode])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null

    public static func == (a: ConfigNode, b: ConfigNode) -> Bool {
        switch (a, b) {
        case let (.map(x), .map(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.list(x), .list(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// Parses YAML text; scalars get YAML 1.1 types as PyYAML gives them (True/true → Bool, 1e-5 → Double).
    public static func parse(yaml: String) throws -> ConfigNode {
        guard let node = try Yams.compose(yaml: yaml) else { return .null }
        var anchors: [String: ConfigNode] = [:]
        return try convert(node, anchors: &anchors)
    }

    private static func convert(_ node: Node, anchors: inout [String: ConfigNode]) throws -> ConfigNode {
        let value: ConfigNode
        switch node {
        case let .alias(alias):
            guard let target = anchors[alias.anchor.rawValue] else {
                throw ConfigError.invalidYAML("alias *\(alias.anchor.rawValue) has no anchor")
            }
            return target
        case let .mapping(mapping):
            var pairs: [(key: String, value: ConfigNode)] = []
            for (k, v) in mapping {
                guard let key = k.string else { throw ConfigError.invalidYAML("a mapping key is not a string") }
                if key == "<<", case let .map(merged) = try convert(v, anchors: &anchors) {
                    pairs += merged.filter { m in !pairs.contains { $0.key == m.key } }
                    continue
                }
                pairs.removeAll { $0.key == key }
                pairs.append((key, try convert(v, anchors: &anchors)))
            }
            value = .map(pairs)
        case let .sequence(sequence):
            value = .list(try sequence.map { try convert($0, anchors: &anchors) })
        case let .scalar(scalar):
            value = typed(scalar, node: node)
        }
        if let anchor = node.anchor { anchors[anchor.rawValue] = value }
        return value
    }

    private static func typed(_ scalar: Node.Scalar, node: Node) -> ConfigNode {
        if scalar.style != .plain { return .string(scalar.string) }
        if node.null != nil { return .null }
        if let b = node.bool { return .bool(b) }
        if let i = node.int { return .int(i) }
        if let d = node.float { return .double(d) }
        return .string(scalar.string)
    }

    /// A number; strings like "1.0/255.0" (PaddleClas evaluates them in Python) are accepted.
    public var number: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .string(s):
            let parts = s.split(separator: "/").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            if parts.count == 2, let a = parts[0], let b = parts[1], b != 0 { return a / b }
            if parts.count == 1, let a = parts[0] { return a }
            return nil
        default: return nil
        }
    }

    /// Child of a map by key.
    public subscript(key: String) -> ConfigNode? {
        if case let .map(pairs) = self { return pairs.first { $0.key == key }?.value }
        return nil
    }

    /// YAML text of this value (block style), for printing and for checkpoint metadata.
    public var yaml: String { lines(indent: 0).joined(separator: "\n") + "\n" }

    public var description: String {
        switch self {
        case let .string(s): return s
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .map(pairs): return "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    private var scalarText: String {
        switch self {
        case let .string(s):
            let plain = ConfigNode.typedPlain(s) == .string(s) && !s.isEmpty
                && !s.contains(where: { ":#{}[],&*!|>'\"%@`\n".contains($0) }) && s.trimmingCharacters(in: .whitespaces) == s
            return plain ? s : "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        default: return description
        }
    }

    /// How a plain scalar would be typed if written unquoted.
    private static func typedPlain(_ s: String) -> ConfigNode { (try? parse(yaml: s)) ?? .string(s) }

    private func lines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case let .map(pairs):
            if pairs.isEmpty { return [pad + "{}"] }
            return pairs.flatMap { key, value -> [String] in
                switch value {
                case let .map(p) where !p.isEmpty: return [pad + key + ":"] + value.lines(indent: indent + 2)
                case let .list(l) where !l.isEmpty: return [pad + key + ":"] + value.lines(indent: indent + 2)
                case .list: return [pad + key + ": []"]
                case .map: return [pad + key + ": {}"]
                default: return [pad + key + ": " + value.scalarText]
                }
            }
        case let .list(items):
            return items.flatMap { item -> [String] in
                switch item {
                case .map, .list:
                    var sub = item.lines(indent: indent + 2)
                    if !sub.isEmpty { sub[0] = pad + "- " + sub[0].dropFirst(indent + 2) }
                    return sub
                default: return [pad + "- " + item.scalarText]
                }
            }
        default:
            return [pad + scalarText]
        }
    }
}

extension ConfigNode: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ConfigNode...) { self = .list(elements) }
    public init(nilLiteral: ()) { self = .null }
}

extension ConfigNode {
    /// From a value parsed by Foundation or Yams (`Int`, `Double`, `String`, `Bool`, arrays,
    /// `NSNull`); nil for anything else (a nested mapping, say).
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
            var items: [ConfigNode] = []
            for item in v {
                guard let c = ConfigNode(any: item) else { return nil }
                items.append(c)
            }
            self = .list(items)
        default: return nil
        }
    }
}
