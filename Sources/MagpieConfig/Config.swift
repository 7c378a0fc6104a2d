import Foundation

/// A PaddleClas-style YAML config (`Global`, `Arch`, `Loss`, `Optimizer`, `DataLoader`, `Metric`, …)
/// with `-o Key.Sub=Value` overrides.
///
/// Code reads it through `ConfigSection` accessors, which check types and remember every key they
/// asked for; `checkUnknownKeys()` then rejects any key in the file that nothing asked for, naming
/// the nearest known key — a typo never passes silently.
public final class Config {
    /// Where the config came from (used in every error message).
    public let path: String
    public private(set) var root: ConfigNode
    private var asked: Set<String> = []
    private var opaque: Set<String> = []

    public init(yaml: String, path: String = "<config>") throws {
        self.path = path
        do {
            root = try ConfigNode.parse(yaml: yaml)
        } catch let error as ConfigError {
            throw ConfigError.unreadable(path: path, reason: error.description)
        } catch {
            throw ConfigError.unreadable(path: path, reason: "invalid YAML: \(error)")
        }
        if case .null = root { root = .map([]) }
        guard case .map = root else { throw ConfigError.unreadable(path: path, reason: "the top level must be a mapping of sections") }
    }

    public convenience init(contentsOf path: String, overrides: [String] = []) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(path: path, reason: "cannot read the file (check the -c path)")
        }
        try self.init(yaml: text, path: path)
        try apply(overrides: overrides)
    }

    /// Applies `Key.Sub=Value` overrides; values are YAML scalars or flow collections
    /// (`0.1`, `True`, `[1, 5]`, `null`); a numeric segment indexes a list.
    public func apply(overrides: [String]) throws {
        for text in overrides {
            guard let eq = text.firstIndex(of: "=") else { throw ConfigError.badOverride(text, reason: "expected Key.Sub=Value") }
            let keyPath = text[..<eq].split(separator: ".").map(String.init)
            guard !keyPath.isEmpty, keyPath.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError.badOverride(text, reason: "the key path is empty")
            }
            let value: ConfigNode
            do { value = try ConfigNode.parse(yaml: String(text[text.index(after: eq)...])) } catch {
                throw ConfigError.badOverride(text, reason: "the value is not valid YAML")
            }
            root = try Config.set(value, at: keyPath[...], in: root, original: text)
        }
    }

    private static func set(_ value: ConfigNode, at path: ArraySlice<String>, in node: ConfigNode, original: String) throws -> ConfigNode {
        guard let head = path.first else { return value }
        let rest = path.dropFirst()
        switch node {
        case var .list(items):
            guard let i = Int(head), items.indices.contains(i) else {
                throw ConfigError.badOverride(original, reason: "'\(head)' is not an index of a list with \(items.count) items")
            }
            items[i] = try set(value, at: rest, in: items[i], original: original)
            return .list(items)
        case var .map(pairs):
            if let i = pairs.firstIndex(where: { $0.key == head }) {
                pairs[i].value = try set(value, at: rest, in: pairs[i].value, original: original)
            } else {
                pairs.append((head, try set(value, at: rest, in: .map([]), original: original)))
            }
            return .map(pairs)
        case .null:
            return try set(value, at: path, in: .map([]), original: original)
        default:
            throw ConfigError.badOverride(original, reason: "'\(head)' is below a scalar value")
        }
    }

    /// A top-level section (empty when absent).
    public func section(_ name: String) -> ConfigSection {
        note(name)
        return ConfigSection(config: self, path: name, value: root[name])
    }

    /// Whether the file has a top-level section.
    public func has(_ name: String) -> Bool { note(name); return root[name] != nil }

    /// Marks a subtree as read without checking its keys (sections another command uses).
    public func ignore(_ keyPath: String) { opaque.insert(keyPath); note(keyPath) }

    /// Marks `keyPath` as read (so `checkUnknownKeys` accepts it).
    public func note(_ keyPath: String) { asked.insert(keyPath) }

    /// Throws `ConfigError.unknownKeys` for every key in the file that no accessor asked for.
    /// `sections` limits the check to those top-level sections (an inference command reads the
    /// model, not the optimiser or the training data, of a training config).
    public func checkUnknownKeys(sections: [String]? = nil) throws {
        var unknown: [(key: String, suggestion: String?)] = []
        func walk(_ value: ConfigNode, _ prefix: String) {
            if opaque.contains(prefix) { return }
            switch value {
            case let .map(pairs):
                for (key, child) in pairs {
                    let full = prefix.isEmpty ? key : prefix + "." + key
                    if asked.contains(full) { walk(child, full) } else { unknown.append((full, suggestion(for: full))) }
                }
            case let .list(items):
                for (i, item) in items.enumerated() { walk(item, prefix + ".\(i)") }
            default: break
            }
        }
        if let sections {
            for name in sections { if let value = root[name] { walk(value, name) } }
        } else {
            walk(root, "")
        }
        if !unknown.isEmpty { throw ConfigError.unknownKeys(path: path, keys: unknown) }
    }

    /// The asked-for sibling key closest to `key` by edit distance, if reasonably close.
    private func suggestion(for key: String) -> String? {
        let parts = key.split(separator: ".")
        let parent = parts.dropLast().joined(separator: ".")
        let name = String(parts.last ?? "")
        let siblings = asked.compactMap { k -> String? in
            let p = k.split(separator: ".")
            return p.dropLast().joined(separator: ".") == parent ? String(p.last ?? "") : nil
        }
        let best = siblings.min { editDistance($0, name) < editDistance($1, name) }
        guard let best, editDistance(best, name) <= max(2, name.count / 3) else { return nil }
        return parent.isEmpty ? best : parent + "." + best
    }

    /// The merged config as YAML (printed at start and stored in checkpoints).
    public var yaml: String { root.yaml }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    var row = Array(0...y.count)
    for i in 1...max(x.count, 1) where !x.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(y.count, 1) where !y.isEmpty {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return x.isEmpty ? y.count : row[y.count]
}
