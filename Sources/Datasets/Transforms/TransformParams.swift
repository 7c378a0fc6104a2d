import Foundation
import MagpieConfig

/// Typed access to a transform's parameters, with errors naming the transform and key.
struct TransformParams {
    let name: String
    let values: [String: ConfigNode]

    init(name: String, values: [String: ConfigNode], allowed: [String]) throws {
        self.name = name
        self.values = values
        for key in values.keys.sorted() where !allowed.contains(key) {
            throw DatasetsError.badTransform(name: name, reason: "unknown parameter '\(key)' (known: \(allowed.joined(separator: ", ")))")
        }
    }

    func has(_ key: String) -> Bool {
        if let v = values[key], v != .null { return true }
        return false
    }

    private func fail(_ key: String, _ expected: String) -> DatasetsError {
        .badTransform(name: name, reason: "parameter '\(key)' must be \(expected), got \(values[key].map { "\($0)" } ?? "nothing")")
    }

    func double(_ key: String, default value: Double? = nil) throws -> Double {
        guard has(key) else {
            if let value { return value }
            throw DatasetsError.badTransform(name: name, reason: "missing parameter '\(key)'")
        }
        guard let v = values[key]!.number else { throw fail(key, "a number") }
        return v
    }

    func int(_ key: String, default value: Int? = nil) throws -> Int {
        let v = try double(key, default: value.map(Double.init))
        guard v == v.rounded() else { throw fail(key, "an integer") }
        return Int(v)
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard has(key) else { return value }
        switch values[key]! {
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .string(s) where ["true", "false"].contains(s.lowercased()): return s.lowercased() == "true"
        default: throw fail(key, "true or false")
        }
    }

    func string(_ key: String, default value: String) throws -> String {
        guard has(key) else { return value }
        switch values[key]! {
        case let .string(s): return s
        case let .int(i): return String(i)
        default: throw fail(key, "a string")
        }
    }

    func doubles(_ key: String, default value: [Double]? = nil, count: Int? = nil) throws -> [Double] {
        guard has(key) else {
            if let value { return value }
            throw DatasetsError.badTransform(name: name, reason: "missing parameter '\(key)'")
        }
        let list: [Double]
        switch values[key]! {
        case let .list(items):
            list = try items.map { guard let n = $0.number else { throw fail(key, "a list of numbers") }; return n }
        default:
            guard let n = values[key]!.number else { throw fail(key, "a list of numbers") }
            list = [n]
        }
        if let count, list.count != count { throw fail(key, "a list of \(count) numbers") }
        return list
    }

    /// An int or a pair of ints (a single int `s` gives `(s, s)`).
    func pair(_ key: String, default value: (Int, Int)? = nil) throws -> (Int, Int) {
        guard has(key) else {
            if let value { return value }
            throw DatasetsError.badTransform(name: name, reason: "missing parameter '\(key)'")
        }
        let list = try doubles(key)
        guard list.allSatisfy({ $0 == $0.rounded() && $0 > 0 }), list.count == 1 || list.count == 2 else {
            throw fail(key, "a positive integer or a list of two")
        }
        return list.count == 1 ? (Int(list[0]), Int(list[0])) : (Int(list[0]), Int(list[1]))
    }

    func filter(_ key: String, default value: ResampleFilter) throws -> ResampleFilter {
        guard has(key) else { return value }
        let raw: String
        switch values[key]! {
        case let .string(s): raw = s
        case let .int(i): raw = String(i)
        default: throw fail(key, "an interpolation name")
        }
        guard let f = ResampleFilter(name: raw) else { throw fail(key, "one of nearest, box/area, bilinear, hamming, bicubic, lanczos") }
        return f
    }
}
