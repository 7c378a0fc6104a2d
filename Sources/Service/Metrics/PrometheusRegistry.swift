import Foundation

/// Counters, gauges and histograms with labels, rendered in the Prometheus text exposition format
/// (version 0.0.4). Thread-safe; label sets must stay small (no ids or paths as labels).
public final class PrometheusRegistry: @unchecked Sendable {
    public enum Kind: String { case counter, gauge, histogram }

    private struct Family {
        let help: String
        let kind: Kind
        var values: [String: Double] = [:]
        var histograms: [String: Histogram] = [:]
        var bounds: [Double] = []
    }

    private var families: [String: Family] = [:]
    private let lock = NSLock()

    public init() {}

    /// Declares a metric family (its HELP and TYPE lines); later calls for the same name are ignored.
    public func register(_ name: String, _ kind: Kind, help: String, bounds: [Double] = []) {
        lock.withLock {
            if families[name] == nil { families[name] = Family(help: help, kind: kind, bounds: bounds) }
        }
    }

    public func increment(_ name: String, labels: [(String, String)] = [], by amount: Double = 1) {
        let key = Self.labelText(labels)
        lock.withLock { families[name]?.values[key, default: 0] += amount }
    }

    public func set(_ name: String, labels: [(String, String)] = [], to value: Double) {
        let key = Self.labelText(labels)
        lock.withLock { families[name]?.values[key] = value }
    }

    public func observe(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        let key = Self.labelText(labels)
        lock.withLock {
            guard let bounds = families[name]?.bounds else { return }
            families[name]!.histograms[key, default: Histogram(bounds: bounds)].observe(value)
        }
    }

    /// The current value of a counter or gauge (0 when never set).
    public func value(_ name: String, labels: [(String, String)] = []) -> Double {
        let key = Self.labelText(labels)
        return lock.withLock { families[name]?.values[key] ?? 0 }
    }

    /// The whole registry in the text format, families and series sorted by name.
    public func render() -> String {
        lock.withLock {
            var out = ""
            for name in families.keys.sorted() {
                let f = families[name]!
                out += "# HELP \(name) \(f.help)\n# TYPE \(name) \(f.kind.rawValue)\n"
                for key in f.values.keys.sorted() { out += "\(name)\(key.isEmpty ? "" : "{\(key)}") \(Self.number(f.values[key]!))\n" }
                for key in f.histograms.keys.sorted() {
                    let h = f.histograms[key]!
                    let prefix = key.isEmpty ? "" : key + ","
                    for (i, bound) in h.bounds.enumerated() {
                        out += "\(name)_bucket{\(prefix)le=\"\(Self.number(bound))\"} \(h.buckets[i])\n"
                    }
                    out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(h.count)\n"
                    out += "\(name)_sum\(key.isEmpty ? "" : "{\(key)}") \(Self.number(h.sum))\n"
                    out += "\(name)_count\(key.isEmpty ? "" : "{\(key)}") \(h.count)\n"
                }
            }
            return out
        }
    }

    static func labelText(_ labels: [(String, String)]) -> String {
        labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
